"""The HTTP API (SPEC §5): bearer tokens and their lifecycle, problem details, pagination,
versioned sheet writes (409 with the stored state), bad input never answering 5xx, the same
policy as the pages, and the CSRF rule (the API reads no session cookie)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import ApiToken, Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.tokens import TokenRequest, create_token, revoke_token
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.conftest import app_client
from tests.support.accounts import sign_in_as
from tests.support.scoring import build_world, scoring_bundle

PROBLEM = "application/problem+json"
SLUG = "score-award"
SHEET = f"/api/v1/awards/{SLUG}/rounds/pre-selection/sheets/E001"


@dataclass
class ApiWorld:
    juror: str
    other_juror: str
    organiser: str
    startup: str
    juror_id: int
    organiser_id: int
    entries: dict[str, int]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def token_for(db: Database, person_id: int, days: int | None = None) -> str:
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        _row, token = await create_token(s, person, TokenRequest("test", days), utcnow(), via="test")
        return token


@pytest.fixture
async def world(db: Database) -> ApiWorld:
    async with db.session() as s:
        built = await build_world(s, scoring_bundle(SLUG, entries=5))
        organiser = await get_or_create_person(s, "orga@example.org", "Olli Organiser")
        await grant_role(s, organiser, Role.ORGANISER, built.award_id)
        startup = (await s.execute(sa.select(Person).where(Person.email == "contact1@startup.example"))).scalar_one()
    return ApiWorld(
        juror=await token_for(db, built.jurors[0]),
        other_juror=await token_for(db, built.jurors[1]),
        organiser=await token_for(db, organiser.id),
        startup=await token_for(db, startup.id),
        juror_id=built.jurors[0],
        organiser_id=organiser.id,
        entries=built.entries,
    )


async def test_protected_route_without_token_answers_401_problem(client: httpx.AsyncClient, world: ApiWorld) -> None:
    response = await client.get(f"/api/v1/awards/{SLUG}/entries")

    assert (response.status_code, response.headers["content-type"]) == (401, PROBLEM)
    assert response.headers["www-authenticate"] == 'Bearer realm="award_jury"'
    assert response.json() == {"status": 401, "title": "Unauthorized", "detail": "This needs a personal API token."}


@pytest.mark.parametrize("header", ["Bearer awj_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "awj_x", "Bearer x y"])
async def test_bad_token_answers_401_even_on_public_routes(
    client: httpx.AsyncClient, world: ApiWorld, header: str
) -> None:
    response = await client.get("/api/v1/awards", headers={"authorization": header})

    assert (response.status_code, response.headers["content-type"]) == (401, PROBLEM)


async def test_expired_and_revoked_tokens_answer_401(client: httpx.AsyncClient, db: Database, world: ApiWorld) -> None:
    expiring = await token_for(db, world.juror_id, days=1)
    assert (await client.get("/api/v1/me/entries", headers=bearer(expiring))).status_code == 200
    async with db.session() as s:
        await s.execute(
            sa.update(ApiToken)
            .values(expires_at=utcnow() - timedelta(seconds=1))
            .where(ApiToken.prefix == expiring[:12])
        )
        revoked = (await s.execute(sa.select(ApiToken).where(ApiToken.prefix == world.juror[:12]))).scalar_one()
        await revoke_token(s, world.juror_id, revoked.id, utcnow())

    assert (await client.get("/api/v1/me/entries", headers=bearer(expiring))).status_code == 401
    assert (await client.get("/api/v1/me/entries", headers=bearer(world.juror))).status_code == 401


async def test_disabled_person_token_answers_401(client: httpx.AsyncClient, db: Database, world: ApiWorld) -> None:
    async with db.session() as s:
        await s.execute(sa.update(Person).values(is_active=False).where(Person.id == world.juror_id))

    assert (await client.get("/api/v1/me/entries", headers=bearer(world.juror))).status_code == 401


async def test_last_used_is_written_once_a_minute_not_per_request(
    client: httpx.AsyncClient, db: Database, world: ApiWorld
) -> None:
    async def last_used() -> object:
        async with db.session() as s:
            return (
                await s.execute(sa.select(ApiToken.last_used_at).where(ApiToken.prefix == world.juror[:12]))
            ).scalar_one()

    assert await last_used() is None
    await client.get("/api/v1/awards", headers=bearer(world.juror))
    first = await last_used()
    await client.get("/api/v1/awards", headers=bearer(world.juror))

    assert first is not None and await last_used() == first


async def test_token_rate_limit_answers_429_with_retry_after(settings: Settings, db: Database, world: ApiWorld) -> None:
    app = create_app(replace(settings, api_requests_per_minute=3), database=db)
    async with app_client(app) as c:
        answers = [(await c.get("/api/v1/awards", headers=bearer(world.juror))).status_code for _ in range(4)]
        limited = await c.get("/api/v1/awards", headers=bearer(world.juror))
        other = await c.get("/api/v1/awards", headers=bearer(world.organiser))

    assert answers == [200, 200, 200, 429]
    assert limited.headers["content-type"] == PROBLEM and 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 200  # per token


async def test_cookie_session_is_anonymous_in_the_api_so_csrf_cannot_be_bypassed(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ApiWorld
) -> None:
    await sign_in_as(client, db, settings, world.juror_id)
    assert (await client.get("/account")).status_code == 200  # the cookie works for the pages

    write = await client.put(SHEET, json={"version": 0, "scores": {"innovation": 5}})
    read = await client.get(f"/api/v1/awards/{SLUG}/entries")
    page_post = await client.post("/account", data={"name": "X", "locale": "en"})

    assert (write.status_code, read.status_code) == (401, 401)
    assert page_post.status_code == 403  # the pages still want their CSRF token


async def test_entries_are_paginated_with_opaque_cursors(client: httpx.AsyncClient, world: ApiWorld) -> None:
    seen, cursor, pages = [], "", 0
    while True:
        response = await client.get(
            f"/api/v1/awards/{SLUG}/entries", params={"limit": 2, "cursor": cursor}, headers=bearer(world.organiser)
        )
        assert response.status_code == 200
        body = response.json()
        seen += [e["ref"] for e in body["items"]]
        pages += 1
        if body["next"] is None:
            break
        assert "E00" not in body["next"]  # opaque
        cursor = body["next"]

    assert (seen, pages) == (["E001", "E002", "E003", "E004", "E005"], 3)


async def test_entries_filters_work_as_on_the_page(client: httpx.AsyncClient, world: ApiWorld) -> None:
    by_category = await client.get(
        f"/api/v1/awards/{SLUG}/entries", params={"category": "govtech"}, headers=bearer(world.organiser)
    )
    by_status = await client.get(
        f"/api/v1/awards/{SLUG}/entries", params={"status": "submitted", "limit": 200}, headers=bearer(world.organiser)
    )

    assert by_category.json() == {"items": [], "next": None}
    assert len(by_status.json()["items"]) == 5


@pytest.mark.parametrize(
    "params",
    [{"limit": "201"}, {"limit": "0"}, {"limit": "ten"}, {"limit": "9" * 40}, {"cursor": "bm9wZQ"}, {"cursor": "%%%"}],
)
async def test_bad_paging_parameters_answer_400_naming_the_field(
    client: httpx.AsyncClient, world: ApiWorld, params: dict[str, str]
) -> None:
    response = await client.get(f"/api/v1/awards/{SLUG}/entries", params=params, headers=bearer(world.organiser))

    assert (response.status_code, response.headers["content-type"]) == (400, PROBLEM)
    assert [e["field"] for e in response.json()["errors"]] == list(params)


async def test_sheet_saves_with_version_and_stale_write_answers_409_with_stored_state(
    client: httpx.AsyncClient, world: ApiWorld
) -> None:
    first = await client.put(
        SHEET,
        json={"version": 0, "scores": {"innovation": 7, "impact": 6.5}, "comment": "Good."},
        headers=bearer(world.juror),
    )
    stale = await client.put(SHEET, json={"version": 0, "scores": {"innovation": 2}}, headers=bearer(world.juror))
    read = await client.get(SHEET, headers=bearer(world.juror))

    assert first.status_code == 200
    version = first.json()["sheet"]["version"]
    assert version > 0
    assert first.json()["sheet"]["scores"] == {"impact": "6.5", "innovation": "7"}
    assert (stale.status_code, stale.headers["content-type"]) == (409, PROBLEM)
    assert stale.json()["current"]["version"] == version and stale.json()["current"]["scores"]["innovation"] == "7"
    assert read.json()["sheet"] == first.json()["sheet"]


async def test_sheet_submit_needs_every_criterion_and_names_the_missing_one(
    client: httpx.AsyncClient, world: ApiWorld
) -> None:
    response = await client.put(
        SHEET, json={"version": 0, "scores": {"innovation": 7}, "action": "submit"}, headers=bearer(world.juror)
    )
    submitted = await client.put(
        SHEET,
        json={"version": 0, "scores": {"innovation": 7, "impact": 5}, "action": "submit"},
        headers=bearer(world.juror),
    )
    listed = await client.get(f"/api/v1/awards/{SLUG}/rounds/pre-selection/sheets", headers=bearer(world.juror))

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "scores.impact", "message": "Score this criterion to submit the sheet."}
    ]
    assert submitted.json()["sheet"]["status"] == "submitted"
    assert [(i["ref"], i["state"]) for i in listed.json()["items"]][:2] == [
        ("E001", "submitted"),
        ("E002", "not_started"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"[]", 400, "body"),
        (b'{"version": "one"}', 400, "version"),
        (b'{"version": 1e400}', 400, "body"),
        (b'{"version": 99999999999999999999999999}', 400, "version"),
        (b'{"version": -1}', 400, "version"),
        (b'{"version": 0, "sneaky": 1}', 400, "sneaky"),
        (b'{"version": 0, "scores": {"innovation": 11}}', 422, "scores.innovation"),
        (b'{"version": 0, "scores": {"innovation": 1e308}}', 422, "scores.innovation"),
        (b'{"version": 0, "scores": {"innovation": "7' + b"0" * 3000 + b'"}}', 422, "scores.innovation"),
        (b'{"version": 0, "scores": {"innovation": "NaN"}}', 422, "scores.innovation"),
        (b'{"version": 0, "scores": {"nope": 1}}', 422, "scores.nope"),
        (b'{"version": 0, "action": "delete"}', 400, "action"),
        (b'{"version": 0, "comment": 5}', 400, "comment"),
    ],
)
async def test_bad_sheet_input_answers_4xx_problem_naming_the_field(
    client: httpx.AsyncClient, world: ApiWorld, body: bytes, status: int, field: str
) -> None:
    headers = {**bearer(world.juror), "content-type": "application/json"}
    response = await client.put(SHEET, content=body, headers=headers)

    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    assert any(field in e["field"] for e in response.json()["errors"]), response.json()


async def test_same_policy_as_the_pages(client: httpx.AsyncClient, world: ApiWorld) -> None:
    entry = f"/api/v1/entries/{world.entries['E001']}"

    assert (await client.get(entry, headers=bearer(world.startup))).status_code == 200
    assert (await client.get(entry, headers=bearer(world.organiser))).status_code == 200
    assert (await client.get(entry, headers=bearer(world.juror))).status_code == 404
    assert (await client.get(entry)).status_code == 401
    assert (await client.get(f"/api/v1/awards/{SLUG}/entries", headers=bearer(world.juror))).status_code == 403
    assert (await client.put(SHEET, json={"version": 0}, headers=bearer(world.organiser))).status_code == 403
    mine = await client.get("/api/v1/me/entries", headers=bearer(world.startup))
    assert [e["ref"] for e in mine.json()["items"]] == ["E001"]


async def test_results_for_jurors_only_after_publication(client: httpx.AsyncClient, world: ApiWorld) -> None:
    path = f"/api/v1/awards/{SLUG}/rounds/pre-selection/results"
    juror = await client.get(path, headers=bearer(world.juror))
    organiser = await client.get(path, params={"method": "median"}, headers=bearer(world.organiser))
    bad_method = await client.get(path, params={"method": "best"}, headers=bearer(world.organiser))

    assert juror.status_code == 403
    assert (organiser.status_code, organiser.json()["method"]) == (200, "median")
    assert bad_method.status_code == 400 and bad_method.json()["errors"][0]["field"] == "method"


async def test_unknown_api_path_and_method_answer_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/no-such-thing")
    wrong_method = await client.delete("/api/v1/awards")

    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (405, PROBLEM)


async def test_openapi_schema_lists_only_the_api(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()

    assert doc["openapi"].startswith("3.1")
    assert all(path.startswith("/api/v1/") for path in doc["paths"])
    assert "/api/v1/awards/{slug}/rounds/{round_slug}/sheets/{ref}" in doc["paths"]
    put = doc["paths"]["/api/v1/awards/{slug}/rounds/{round_slug}/sheets/{ref}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["examples"][0]["action"] == "save"
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_api_docs_page_uses_only_own_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs", headers={"accept-language": "en"})

    assert response.status_code == 200
    assert "PUT /api/v1/awards/{slug}/rounds/{round_slug}/sheets/{ref}" in response.text
    assert re.findall(r'(?:src|href)="(?:https?:)?//', response.text) == []  # no third-party host
    assert "<script>" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
