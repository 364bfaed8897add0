"""Every route of the app, requested as every kind of person, answers as the table says;
a route missing from the table fails. A canary test plants marker strings and checks that
no page shows them to anyone who must not see them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.accounts.tokens import TokenRequest, create_token
from award_jury.awards.models import Award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.entries.models import Attachment, Entry
from award_jury.entries.storage import LocalStorage
from award_jury.enums import Role
from award_jury.judging.models import Conflict, ScoreSheet
from award_jury.settings import Settings
from award_jury.web.app import create_app
from award_jury.web.auth import session_policy
from tests.support.apps import app_client
from tests.support.csrf import CSRF_COOKIE, csrf_token
from tests.support.factories import small_bundle

ROLES = ("anonymous", "startup", "juror", "organiser", "mixed")
ALL = dict.fromkeys(ROLES)


def same(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def signed_in(anonymous: int, others: int) -> dict[str, int]:
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], others)}


def per_role(anonymous: int, startup: int, juror: int, organiser: int, mixed: int) -> dict[str, int]:
    return {"anonymous": anonymous, "startup": startup, "juror": juror, "organiser": organiser, "mixed": mixed}


def organisers_only(anonymous: int, allowed: int) -> dict[str, int]:
    return {"anonymous": anonymous, "startup": 403, "juror": 403, "mixed": 403, "organiser": allowed}


def jurors_only(anonymous: int, allowed: int, *, mixed: int | None = None) -> dict[str, int]:
    """Jurors of the award ("juror", and "mixed", who is one too); everyone else signed in: 403."""
    return {
        "anonymous": anonymous,
        "startup": 403,
        "juror": allowed,
        "organiser": 403,
        "mixed": allowed if mixed is None else mixed,
    }


# (method, route path as Litestar names it) -> expected status per role.
# POSTs are sent with a valid CSRF token and an empty form: this table is about who may,
# the validation of each form is tested elsewhere.
ROUTE_TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): same(200),
    ("GET", "/healthz"): same(200),
    ("GET", "/readyz"): same(200),
    ("POST", "/language"): same(303),
    ("GET", "/static/{file_path:path}"): same(200),
    ("HEAD", "/static/{file_path:path}"): same(200),
    ("GET", "/awards/{slug:str}"): same(200),
    ("GET", "/awards/{slug:str}/theme.css"): same(200),
    ("GET", "/signin"): signed_in(200, 303),
    ("POST", "/signin"): same(400),
    ("POST", "/signin/link"): same(400),
    ("GET", "/signin/link/{token:str}"): same(400),
    ("POST", "/signin/link/{token:str}"): same(400),
    ("POST", "/signout"): same(303),
    ("GET", "/password/forgot"): same(200),
    ("POST", "/password/forgot"): same(400),
    ("GET", "/password/reset/{token:str}"): same(400),
    ("POST", "/password/reset/{token:str}"): same(400),
    ("GET", "/account"): signed_in(303, 200),
    ("POST", "/account"): signed_in(401, 400),
    ("GET", "/account/data"): signed_in(303, 200),
    ("GET", "/account/password"): signed_in(303, 200),
    ("POST", "/account/password"): signed_in(401, 400),
    ("POST", "/account/signout-everywhere"): signed_in(401, 303),
    # deleting one's account: the confirmation page (the organiser is refused there: last organiser);
    # a POST without the confirmation deletes nothing (400); the e-mail link's pages
    ("GET", "/account/delete"): signed_in(303, 200),
    ("POST", "/account/delete"): signed_in(401, 400),
    ("GET", "/account/deletion-link"): signed_in(303, 200),
    ("GET", "/account/delete/{token:str}"): signed_in(303, 400),
    ("POST", "/account/delete/{token:str}"): signed_in(401, 400),
    ("GET", "/account/deleted"): same(200),
    ("GET", "/account/two-factor"): signed_in(303, 200),
    # nobody in the table's world has a password or two-factor sign-in: back to the page
    ("POST", "/account/two-factor/enable"): signed_in(401, 303),
    ("POST", "/account/two-factor/recovery-codes"): signed_in(401, 303),
    ("POST", "/account/two-factor/disable"): signed_in(401, 303),
    # no sign-in waits for its code: back to the sign-in page
    ("GET", "/signin/two-factor"): same(303),
    ("POST", "/signin/two-factor"): same(303),
    ("POST", "/account/tokens"): signed_in(401, 201),
    # nobody holds token 999999
    ("POST", "/account/tokens/{token_id:int}/revoke"): signed_in(401, 404),
    ("POST", "/session/extend"): signed_in(401, 303),
    ("GET", "/awards/{slug:str}/people"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/invitations"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/invitations/{invitation_id:int}/resend"): organisers_only(401, 303),
    ("POST", "/awards/{slug:str}/invitations/{invitation_id:int}/revoke"): organisers_only(401, 303),
    # the confirmation page (no role given: back to the people page)
    ("GET", "/awards/{slug:str}/people/{person_id:int}/remove-role"): organisers_only(303, 303),
    ("POST", "/awards/{slug:str}/people/{person_id:int}/remove-role"): organisers_only(401, 303),
    ("GET", "/awards/new"): {"anonymous": 303, **dict.fromkeys(ROLES[1:], 403)},
    ("POST", "/awards/new"): {"anonymous": 401, **dict.fromkeys(ROLES[1:], 403)},
    ("GET", "/awards/{slug:str}/setup"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/setup"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/setup/security"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/setup/security"): organisers_only(401, 303),
    ("POST", "/awards/{slug:str}/categories"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/categories/{category_id:int}"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/categories/{category_id:int}/delete"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/categories/{category_id:int}/delete"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/rounds"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/delete"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/delete"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/criteria"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/criteria/{key:str}"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/criteria/{key:str}/delete"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/criteria/{key:str}/delete"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/copy-criteria"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/assignments"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/assignments"): organisers_only(401, 303),
    # the confirmation page (no juror given: back to the assignments page)
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/assignments/release"): organisers_only(303, 303),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/assignments/release"): organisers_only(401, 303),
    ("POST", "/awards/{slug:str}/people/{person_id:int}/categories"): organisers_only(401, 303),
    ("GET", "/awards/{slug:str}/conflicts"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/conflicts"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/conflicts/{conflict_id:int}/delete"): organisers_only(401, 303),
    ("GET", "/awards/{slug:str}/my-conflicts"): per_role(303, 403, 200, 403, 200),
    ("POST", "/awards/{slug:str}/my-conflicts"): per_role(401, 403, 400, 403, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/progress"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/progress/remind"): organisers_only(401, 303),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/assignments/add"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/assignments/remove"): organisers_only(401, 303),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/advance"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/advance"): organisers_only(401, 303),
    ("GET", "/awards/{slug:str}/logo"): same(404),
    ("POST", "/awards/{slug:str}/setup/logo"): organisers_only(401, 400),
    ("POST", "/awards/{slug:str}/setup/logo/delete"): organisers_only(401, 303),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results"): organisers_only(303, 200),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results/entries/{ref:str}"): organisers_only(303, 200),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results/stability"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/results/decisions"): organisers_only(401, 400),
    # the confirmation pages; a POST without the confirmation's fields changes nothing (400)
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results/finalise"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/results/finalise"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results/publish"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/results/publish"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/results"): same(200),
    # not published (and not shown to jurors) in the table's world: organisers only
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/results/published"): organisers_only(303, 200),
    # the jurors' page's old address: a permanent redirect for everyone (the new page decides access)
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/ranking"): same(301),
    # The call (2023) is closed in the table's world; "startup" is the contact of E001.
    ("GET", "/awards/{slug:str}/call"): same(200),
    ("GET", "/privacy"): same(200),
    ("GET", "/awards/{slug:str}/apply"): per_role(200, 200, 403, 200, 403),
    ("POST", "/awards/{slug:str}/apply/link"): same(409),
    ("POST", "/awards/{slug:str}/apply"): per_role(401, 409, 403, 409, 403),
    ("GET", "/entries/{entry_id:int}"): per_role(303, 200, 404, 200, 404),
    ("GET", "/entries/{entry_id:int}/edit"): per_role(303, 200, 404, 403, 404),
    ("POST", "/entries/{entry_id:int}/edit"): per_role(401, 409, 404, 403, 404),
    ("POST", "/entries/{entry_id:int}/withdraw"): per_role(401, 303, 404, 403, 404),
    ("POST", "/entries/{entry_id:int}/delete"): per_role(401, 303, 404, 403, 404),
    ("POST", "/entries/{entry_id:int}/members"): per_role(401, 400, 404, 403, 404),
    ("GET", "/entries/{entry_id:int}/deck"): {"anonymous": 303, **dict.fromkeys(ROLES[1:], 404)},
    ("POST", "/entries/{entry_id:int}/eligibility"): per_role(401, 403, 404, 400, 404),
    ("GET", "/awards/{slug:str}/entries"): organisers_only(303, 200),
    ("GET", "/awards/{slug:str}/entries.csv"): organisers_only(303, 200),
    ("GET", "/awards/{slug:str}/anonymise"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/anonymise"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/certificates"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/certificates/settings"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/certificates/rounds/{round_slug:str}"): organisers_only(303, 200),
    ("GET", "/awards/{slug:str}/certificates/rounds/{round_slug:str}/preview/{ref:str}"): organisers_only(303, 200),
    # the round is not finalised in the table's world, and the empty form names no kind
    ("POST", "/awards/{slug:str}/certificates/rounds/{round_slug:str}/generate"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/certificates/jobs/{job_id:int}"): organisers_only(303, 404),
    ("GET", "/awards/{slug:str}/certificates/jobs/{job_id:int}/status"): organisers_only(303, 404),
    ("GET", "/awards/{slug:str}/certificates/jobs/{job_id:int}/download"): organisers_only(303, 404),
    ("GET", "/awards/{slug:str}/certificates/{certificate_id:int}/revoke"): organisers_only(303, 404),
    ("POST", "/awards/{slug:str}/certificates/{certificate_id:int}/revoke"): organisers_only(401, 404),
    ("POST", "/awards/{slug:str}/certificates/{certificate_id:int}/reinstate"): organisers_only(401, 404),
    ("GET", "/verify"): same(200),
    ("GET", "/verify/{code:str}"): same(404),
    # E001's own members only (the startup); nobody else learns that it exists; nothing issued yet
    ("GET", "/entries/{entry_id:int}/certificate"): signed_in(303, 404),
    # jury pages: "juror" holds a sheet for E002 (scoring closed in 2023: read-only, so posts answer 409);
    # "mixed" is a juror of the award without that entry (404: not theirs to see)
    ("GET", "/awards/{slug:str}/jury"): jurors_only(303, 303),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/jury"): jurors_only(303, 200),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}"): jurors_only(303, 200, mixed=404),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}"): jurors_only(401, 409, mixed=404),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}/autosave"): jurors_only(
        401, 409, mixed=404
    ),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}/conflict"): jurors_only(
        401, 409, mixed=404
    ),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}/files/{attachment_id:int}"): jurors_only(
        303, 200, mixed=404
    ),
    (
        "GET",
        "/awards/{slug:str}/rounds/{round_slug:str}/jury/entries/{ref:str}/files/{attachment_id:int}/download",
    ): jurors_only(303, 200, mixed=404),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/live"): jurors_only(303, 200),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/live/state"): jurors_only(303, 200),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/live/control"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/live/control"): organisers_only(401, 303),
    # ending the session: its confirmation page; a POST without the confirmation changes nothing (400)
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/live/end"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/rounds/{round_slug:str}/live/end"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/rounds/{round_slug:str}/live/control/state"): organisers_only(303, 200),
    ("GET", "/invitations/{token:str}"): same(400),
    ("POST", "/invitations/{token:str}"): same(400),
    # webhooks: the award's organisers only; the endpoint id in the table is one that does not exist
    ("GET", "/awards/{slug:str}/webhooks"): organisers_only(303, 200),
    ("POST", "/awards/{slug:str}/webhooks"): organisers_only(401, 400),
    ("GET", "/awards/{slug:str}/webhooks/{endpoint_id:int}"): organisers_only(303, 404),
    ("POST", "/awards/{slug:str}/webhooks/{endpoint_id:int}"): organisers_only(401, 404),
    ("POST", "/awards/{slug:str}/webhooks/{endpoint_id:int}/secret"): organisers_only(401, 404),
    ("POST", "/awards/{slug:str}/webhooks/{endpoint_id:int}/rotate"): organisers_only(401, 404),
    ("POST", "/awards/{slug:str}/webhooks/{endpoint_id:int}/test"): organisers_only(401, 404),
    ("GET", "/awards/{slug:str}/webhooks/{endpoint_id:int}/delete"): organisers_only(303, 404),
    ("POST", "/awards/{slug:str}/webhooks/{endpoint_id:int}/delete"): organisers_only(401, 404),
}

# The API (SPEC §5), requested with each person's bearer token (anonymous: none). Its write is sent
# with a JSON body based on version 0: the round's scoring closed in 2023, so the juror gets 409.
API_ROUTE_TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/openapi.json"): same(200),
    ("GET", "/api/docs"): same(200),
    ("GET", "/api/v1/awards"): same(200),
    ("GET", "/api/v1/awards/{slug:str}"): same(200),
    ("GET", "/api/v1/awards/{slug:str}/entries"): organisers_only(401, 200),
    ("GET", "/api/v1/awards/{slug:str}/rounds/{round_slug:str}/results"): organisers_only(401, 200),
    ("GET", "/api/v1/awards/{slug:str}/rounds/{round_slug:str}/sheets"): jurors_only(401, 200),
    ("GET", "/api/v1/awards/{slug:str}/rounds/{round_slug:str}/sheets/{ref:str}"): jurors_only(401, 200, mixed=404),
    ("PUT", "/api/v1/awards/{slug:str}/rounds/{round_slug:str}/sheets/{ref:str}"): jurors_only(401, 409, mixed=404),
    ("GET", "/api/v1/entries/{entry_id:int}"): per_role(401, 200, 404, 200, 404),
    ("GET", "/api/v1/entries/{entry_id:int}/certificates"): per_role(401, 200, 404, 200, 404),
    ("GET", "/api/v1/me/entries"): signed_in(401, 200),
    ("GET", "/api/v1/verify/{code:str}"): same(404),
}

PITCH = "CANARY-PITCH-7f3a"
COMMENT = "CANARY-COMMENT-91bd"
NOTE = "CANARY-NOTE-c02e"
SCORE = "3.1416"  # a score value nothing else prints (shown as 3,1416 in German)
#: What each kind of person must never see. The juror wrote the sheet; "mixed" is another
#: juror of the same award (and organiser of a second award); the startup owns another entry.
FORBIDDEN = {
    "anonymous": (PITCH, COMMENT, NOTE, SCORE, "3,1416"),
    "startup": (PITCH, COMMENT, NOTE, SCORE, "3,1416"),
    "mixed": (COMMENT, NOTE, SCORE, "3,1416"),
    "juror": (),
    "organiser": (),
}


@dataclass
class World:
    people: dict[str, Person]
    invitation_id: int
    settings: Settings
    category_id: int
    conflict_id: int
    entry_id: int
    attachment_id: int


def canary_bundle() -> dict[str, Any]:
    doc = small_bundle()
    doc["award"]["rounds"][0]["criteria"].append(
        {"key": "precision", "name": "Precision", "weight": 1, "min": 0, "max": 10, "step": 0.0001}
    )
    doc["entries"][1]["pitch"] = f"Permits in minutes. {PITCH}"
    doc["jurors"].append({"email": "other.juror@example.org", "name": "Olga Other", "categories": ["smart-city"]})
    doc["sheets"][0]["scores"]["precision"] = 3.1416
    doc["sheets"][0]["comment"] = f"Clear plan. {COMMENT}"
    return doc


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    from award_jury.accounts import invitations

    async with db.session() as s:
        award = await import_bundle(s, canary_bundle())
        other = await import_bundle(s, small_bundle("other-award"))
        await s.execute(sa.update(ScoreSheet).values(private_note=NOTE))
        organiser = await get_or_create_person(s, "orga@example.org", "Olli Organiser")
        await grant_role(s, organiser, Role.ORGANISER, award.id)
        mixed = await get_or_create_person(s, "other.juror@example.org", "Olga Other")
        await grant_role(s, mixed, Role.ORGANISER, other.id)
        juror = await get_or_create_person(s, "j.doe@example.org", "Jane Doe")
        startup = await get_or_create_person(s, "team@example.org", "Max Muster")
        invitation, _token = await invitations.invite(
            s,
            award,
            email="new.juror@example.org",
            name="Nina Neu",
            role=Role.JUROR,
            categories=[],
            invited_by=organiser,
            now=utcnow(),
        )
        people = {"organiser": organiser, "mixed": mixed, "juror": juror, "startup": startup}
        conflict_id = (await s.execute(sa.select(Conflict.id))).scalars().first()
        entry_id = (
            await s.execute(sa.select(Entry.id).where(Entry.award_id == award.id, Entry.ref == "E001"))
        ).scalar_one()
        deck = b"%PDF-1.4 the pitch deck of E002"
        key = await LocalStorage(settings.uploads_dir).put(deck)
        e002 = (await s.execute(sa.select(Entry).where(Entry.award_id == award.id, Entry.ref == "E002"))).scalar_one()
        attachment = Attachment(
            entry_id=e002.id, name="deck.pdf", sha256=key, size=len(deck), media_type="application/pdf", storage_key=key
        )
        s.add(attachment)
        await s.flush()
    return World(people, invitation.id, settings, award.categories[0].id, conflict_id, entry_id, attachment.id)


def concrete(path: str, world: World) -> str:
    values = {
        "slug": "mini-award",
        "token": "not-a-real-token",
        "file_path": "css/app.css",
        "invitation_id": str(world.invitation_id),
        "person_id": str(world.people["juror"].id),
        "category_id": str(world.category_id),
        "round_slug": "pre-selection",
        "key": "innovation",
        "conflict_id": str(world.conflict_id),
        "ref": "E002",
        "job_id": "999999",
        "certificate_id": "999999",
        "code": "0000-0000-0000-0000",
        "entry_id": str(world.entry_id),
        "attachment_id": str(world.attachment_id),
        "endpoint_id": "999999",
        "token_id": "999999",
    }
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)


def app_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method != "OPTIONS"  # Litestar's automatic OPTIONS answers are checked on their own below
    }


async def signed_in_client(client: httpx.AsyncClient, db: Database, world: World, role: str) -> None:
    """A fresh start as ``role``: no cookie but the CSRF one (fetched once, then kept), and a new
    web session for anyone but the anonymous visitor."""
    for cookie in list(client.cookies.jar):
        if cookie.name != CSRF_COOKIE:
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    if not csrf_token(client):
        await client.get("/")
    if role == "anonymous":
        return
    async with db.session() as s:
        person = await s.get(Person, world.people[role].id)
        assert person is not None
        token = await start_session(s, person, session_policy(world.settings), utcnow())
    client.cookies.set(world.settings.session_cookie_name, token)


def test_route_table_lists_every_route(settings: Settings) -> None:
    app = create_app(settings)
    assert app_routes(app) == set(ROUTE_TABLE) | set(API_ROUTE_TABLE), "add new routes to the tables"


async def test_every_route_answers_each_role_as_the_table_says(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    mismatches = []
    for (method, path), expected in sorted(ROUTE_TABLE.items()):
        for role in ROLES:
            await signed_in_client(client, db, world, role)
            url = concrete(path, world)
            if method == "POST":
                response = await client.post(url, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
            else:
                response = await client.request(method, url, follow_redirects=False)
            if response.status_code != expected[role]:
                mismatches.append(f"{method} {path} as {role}: {response.status_code}, expected {expected[role]}")
            assert response.status_code < 500, f"{method} {path} as {role}"
    assert mismatches == []


def organiser_routes() -> list[tuple[str, str]]:
    """Routes the organiser reaches only as the award's organiser (nobody else of the table may)."""
    return sorted(
        key
        for key, expected in ROUTE_TABLE.items()
        if expected["organiser"] not in (403, 404)
        and all(expected[role] in (403, 404) for role in ("startup", "juror", "mixed"))
    )


async def test_award_requiring_two_factor_sends_its_organiser_to_set_it_up_from_every_organiser_route(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    """The rule lives in the policy: every organiser route of the award, none written for it."""
    async with db.session() as s:
        award_id = (await s.execute(sa.select(Award.id).where(Award.slug == "mini-award"))).scalar_one()
        await s.execute(sa.update(Award).where(Award.id == award_id).values(organisers_need_two_factor=True))
    routes = organiser_routes()
    assert len(routes) > 50
    wrong = []
    for method, path in routes:
        await signed_in_client(client, db, world, "organiser")
        url = concrete(path, world)
        if method == "POST":
            response = await client.post(url, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
            expected = f"/account/two-factor?award={award_id}"
        else:
            response = await client.request(method, url, follow_redirects=False)
            expected = f"/account/two-factor?award={award_id}&next="
        location = response.headers.get("location", "")
        if response.status_code != 303 or not location.startswith(expected):
            wrong.append(f"{method} {path}: {response.status_code} {location}")
    assert wrong == []
    # the award's other pages, and the other award of "mixed", are not affected
    await signed_in_client(client, db, world, "organiser")
    assert (await client.get("/awards/mini-award")).status_code == 200
    await signed_in_client(client, db, world, "mixed")
    assert (await client.get("/awards/other-award/people")).status_code == 200


async def api_tokens(db: Database, world: World) -> dict[str, dict[str, str]]:
    """Each role's request headers for the API (anonymous: none)."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    async with db.session() as s:
        for role, person in world.people.items():
            found = await s.get(Person, person.id)
            assert found is not None
            _row, token = await create_token(s, found, TokenRequest("table", None), utcnow(), via="test")
            headers[role] = {"authorization": f"Bearer {token}"}
    return headers


async def test_every_api_route_answers_each_role_as_the_table_says(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    headers = await api_tokens(db, world)
    client.cookies.clear()
    mismatches = []
    for (method, path), expected in sorted(API_ROUTE_TABLE.items()):
        for role in ROLES:
            url = concrete(path, world)
            body = {"version": 0, "scores": {"innovation": 5}} if method == "PUT" else None
            response = await client.request(method, url, json=body, headers=headers[role])
            if response.status_code != expected[role]:
                mismatches.append(f"{method} {path} as {role}: {response.status_code}, expected {expected[role]}")
            assert response.status_code < 500, f"{method} {path} as {role}"
            if response.status_code >= 400 and path.startswith("/api/v1"):
                assert response.headers["content-type"] == "application/problem+json", f"{method} {path} as {role}"
    assert mismatches == []


async def test_api_canary_markers_never_reach_tokens_that_must_not_see_them(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    headers = await api_tokens(db, world)
    client.cookies.clear()
    leaks = []
    paths = [concrete(p, world) for (m, p) in API_ROUTE_TABLE if m == "GET"]
    paths += ["/api/v1/entries/999999", "/api/v1/awards/other-award/entries"]
    for role in ROLES:
        for path in paths:
            response = await client.get(path, headers=headers[role])
            leaks += [f"{marker} shown to {role} at {path}" for marker in FORBIDDEN[role] if marker in response.text]
    assert leaks == []


async def test_mixed_person_organises_their_other_award(client: httpx.AsyncClient, db: Database, world: World) -> None:
    await signed_in_client(client, db, world, "mixed")
    assert (await client.get("/awards/other-award/people")).status_code == 200
    assert (await client.get("/awards/mini-award/people")).status_code == 403


async def test_anonymous_is_sent_to_sign_in_and_back(client: httpx.AsyncClient, db: Database, world: World) -> None:
    await signed_in_client(client, db, world, "anonymous")
    response = await client.get("/awards/mini-award/people", follow_redirects=False)
    assert response.headers["location"] == "/signin?next=%2Fawards%2Fmini-award%2Fpeople"


async def test_options_requests_change_nothing_and_reveal_nothing(client: httpx.AsyncClient) -> None:
    response = await client.options("/account")
    assert response.status_code == 204
    assert response.content == b""


async def test_canary_markers_never_reach_people_who_must_not_see_them(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    leaks = []
    get_paths = [concrete(p, world) for (m, p) in ROUTE_TABLE if m == "GET"]
    get_paths += ["/no/such/page", "/awards/mini-award/no-such-page", "/awards/no-such-award"]
    for role in ROLES:
        for path in get_paths:
            for language in ("de", "en"):
                await signed_in_client(client, db, world, role)
                response = await client.get(path, headers={"accept-language": language})
                leaks += [
                    f"{marker} shown to {role} at {path}" for marker in FORBIDDEN[role] if marker in response.text
                ]
                title = re.search(r"<title>(.*?)</title>", response.text, re.S)
                if title and "<" in title.group(1):
                    leaks.append(f"markup in the <title> of {path}")
    assert leaks == []


async def test_https_base_url_makes_session_cookie_secure_host_only(settings: Settings, db: Database) -> None:
    app = create_app(replace(settings, base_url="https://testserver.local"), database=db)
    async with db.session() as s:
        person = await get_or_create_person(s, "x@example.org", "X")
        person.password_hash = None
    async with app_client(app) as c:
        page = await c.get("/signin")
        assert "__Host-award_jury_csrf" in page.headers["set-cookie"]
        assert "Secure" in page.headers["set-cookie"]
    assert timedelta(seconds=settings.session_idle_seconds) == timedelta(hours=8)


async def test_signed_in_error_pages_are_not_cached(client: httpx.AsyncClient, db: Database, world: World) -> None:
    await signed_in_client(client, db, world, "juror")
    forbidden = await client.get("/awards/mini-award/people")
    missing = await client.get("/awards/no-such-award/people")
    assert (forbidden.status_code, forbidden.headers["cache-control"]) == (403, "no-store")
    assert (missing.status_code, missing.headers["cache-control"]) == (404, "no-store")


JUNK = ["", "-1", "1e309", "9" * 40, "²", "A\x00B", "<script>x</script>", "=1+1", "ä" * 3000, "2026-13-45T99:99"]


async def test_junk_in_every_post_field_never_answers_500(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    """Every POST route, as the organiser (who reaches the most code), with junk in every field
    its forms use: clear answers, never a server error."""
    fields = [
        "name",
        "email",
        "password",
        "password_confirm",
        "current_password",
        "next",
        "lang",
        "locale",
        "role",
        "categories",
        "slug",
        "time_zone",
        "description",
        "primary_color",
        "prizes",
        "submissions_open",
        "submissions_close",
        "scoring_close",
        "method",
        "min_sheets",
        "results_visible",
        "key",
        "weight",
        "min_value",
        "max_value",
        "step",
        "levels",
        "source",
        "k",
        "juror",
        "entry",
        "entries",
        "kind",
        "reason",
        "category",
        "place_E001",
        "place_E002",
        "confirm",
        "organisation",
        "top",
        "startup_name",
        "legal_form",
        "city",
        "founded",
        "employees",
        "website",
        "contact_name",
        "contact_email",
        "title",
        "pitch",
        "problem",
        "solution",
        "benefit",
        "stage",
        "investors",
        "video_url",
        "consent",
        "action",
        "version",
        "member_email",
        "member_name",
        "decision",
        "do",
        "pitch_minutes",
        "qa_minutes",
        "comment",
        "private_note",
        "score-innovation",
    ]
    failures = []
    posts = sorted(path for method, path in ROUTE_TABLE if method == "POST")
    for i, junk in enumerate(JUNK):
        for path in posts:
            await signed_in_client(client, db, world, "organiser")  # sign-out routes end the session
            data = {field: junk for field in fields} | {"_csrf_token": csrf_token(client)}
            response = await client.post(concrete(path, world), data=data, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"{path} with {junk[:20]!r} (#{i}): {response.status_code}")
    assert failures == []
