"""The web skeleton: start page, award page, error pages, health check, language, headers."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import load_demo_bundle
from award_jury.enums import Role
from award_jury.settings import Settings
from tests.conftest import QueryCounter
from tests.support.accounts import sign_in_as
from tests.support.apps import app_client
from tests.support.csrf import csrf_token
from tests.support.factories import small_bundle

Client = httpx.AsyncClient
DEMO = "smart-country-startup-award-2026"


async def seed(db: Database, *docs: dict[str, Any]) -> None:
    async with db.session() as s:
        for doc in docs:
            await import_bundle(s, doc)


async def test_home_lists_awards_with_open_call_in_german(client: Client, db: Database) -> None:
    await seed(db, load_demo_bundle(), small_bundle())
    response = await client.get("/", headers={"accept-language": "de"})
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert "Wettbewerbe" in response.text
    assert "Smart Country Startup Award 2026" in response.text
    assert "Jury bewertet" in response.text  # the demo is in its scoring window
    assert "Mini Award" in response.text and "Abgeschlossen" in response.text


async def test_home_in_english_when_browser_prefers_it(client: Client, db: Database) -> None:
    await seed(db, load_demo_bundle())
    response = await client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.text
    assert "Jury at work" in response.text


async def test_home_without_awards_says_so(client: Client) -> None:
    response = await client.get("/", headers={"accept-language": "en"})
    assert "There are no awards yet" in response.text


async def test_award_page_shows_deadlines_in_award_time_zone(client: Client, db: Database) -> None:
    await seed(db, small_bundle())
    response = await client.get("/awards/mini-award", headers={"accept-language": "de"})
    assert response.status_code == 200
    assert "31.08.2023, 23:59 Uhr" in response.text
    assert "Einsendeschluss" in response.text
    # weights as percentages of their sum: 30 / 55 and 25 / 55
    assert "54,5 %" in response.text and "45,5 %" in response.text
    assert "2 Preise" in response.text and "1 Preis" in response.text


async def test_award_page_theme_css_keeps_text_readable(client: Client, db: Database) -> None:
    await seed(db, small_bundle(primary_color="#ffeb3b"))
    response = await client.get("/awards/mini-award/theme.css")
    assert response.headers["content-type"].startswith("text/css")
    assert response.text == ":root { --brand: #ffeb3b; --brand-text: #111111; }\n"


async def test_unknown_award_is_a_friendly_404_in_both_languages(client: Client) -> None:
    de = await client.get("/awards/nope", headers={"accept-language": "de"})
    en = await client.get("/awards/nope", headers={"accept-language": "en"})
    assert (de.status_code, en.status_code) == (404, 404)
    assert "Seite nicht gefunden" in de.text
    assert "Page not found" in en.text
    assert "Traceback" not in de.text + en.text


async def test_unknown_path_is_404_page(client: Client) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>" in response.text


async def test_wrong_method_is_405_page(client: Client) -> None:
    response = await client.delete("/")
    assert response.status_code == 405


async def test_healthz_reports_database(client: Client) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


async def test_security_headers_on_pages_and_errors(client: Client) -> None:
    for path in ("/", "/no/such/page", "/static/css/app.css"):
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


async def test_openapi_schema_is_not_public(client: Client) -> None:
    assert (await client.get("/schema")).status_code == 404
    assert (await client.get("/schema/openapi.json")).status_code == 404


async def test_language_switch_sets_cookie_and_redirects_locally(client: Client) -> None:
    token = csrf_token((await client.get("/")).text)
    response = await client.post(
        "/language", data={"lang": "en", "next": "/awards/x", "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/awards/x"
    assert "award_jury_lang=en" in response.headers["set-cookie"]
    page = await client.get("/", headers={"accept-language": "de"})
    assert '<html lang="en">' in page.text  # the choice beats the browser's preference


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"])
async def test_language_switch_never_redirects_elsewhere(client: Client, target: str) -> None:
    token = csrf_token((await client.get("/")).text)
    response = await client.post(
        "/language", data={"lang": "de", "next": target, "_csrf_token": token}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


async def test_post_without_csrf_token_is_refused(client: Client) -> None:
    response = await client.post("/language", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers or "award_jury_lang" not in response.headers["set-cookie"]


async def test_home_query_count_does_not_grow_with_awards(
    client: Client, db: Database, count_queries: QueryCounter
) -> None:
    await seed(db, small_bundle("award-1"))
    count_queries.statements.clear()
    await client.get("/")
    with_one = count_queries.count
    await seed(db, *(small_bundle(f"award-{i}") for i in range(2, 7)))
    count_queries.statements.clear()
    await client.get("/")
    assert count_queries.count == with_one


async def test_unexpected_error_is_friendly_500_without_details(settings: Any, db: Database) -> None:
    from litestar import get

    from award_jury.web.app import create_app

    @get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret internals")

    app = create_app(settings, database=db)
    app.register(boom)
    async with app_client(app) as c:
        response = await c.get("/boom", headers={"accept-language": "de"})
    assert response.status_code == 500
    assert "Etwas ist schiefgelaufen" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_csrf_failure_is_friendly_403_page(client: Client) -> None:
    response = await client.post("/language", data={"lang": "en"}, headers={"accept-language": "de"})
    assert response.status_code == 403
    text = " ".join(response.text.split())
    assert "<h1>Das Formular wurde nicht gesendet</h1>" in text
    assert "Bitte gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut." in text
    assert "Das dürfen Sie nicht" not in text and "freigegeben" not in text  # not a matter of rights


async def test_award_page_offers_scoring_to_the_awards_jurors_only(
    client: Client, db: Database, settings: Settings
) -> None:
    await seed(db, small_bundle())
    async with db.session() as s:
        award = await get_award(s, "mini-award")
        juror = await get_or_create_person(s, "jana@example.org", "Jana Juror", "en")
        await grant_role(s, juror, Role.JUROR, award.id)
        organiser = await get_or_create_person(s, "olga@example.org", "Olga Organiser", "en")
        await grant_role(s, organiser, Role.ORGANISER, award.id)
        people = {"juror": juror.id, "organiser": organiser.id}
    button = 'href="/awards/mini-award/jury">Score your entries</a>'
    anonymous = await client.get("/awards/mini-award", headers={"accept-language": "en"})
    assert anonymous.status_code == 200 and button not in anonymous.text
    for role, person_id in people.items():
        await sign_in_as(client, db, settings, person_id)
        page = await client.get("/awards/mini-award", headers={"accept-language": "en"})
        assert page.status_code == 200
        assert (button in page.text) is (role == "juror"), role


async def test_forbidden_page_explains_politely_and_offers_a_way_on(
    client: Client, db: Database, settings: Settings
) -> None:
    await seed(db, small_bundle())
    async with db.session() as s:
        award = await get_award(s, "mini-award")
        juror = await get_or_create_person(s, "jana@example.org", "Jana Juror", "de")
        await grant_role(s, juror, Role.JUROR, award.id)
        juror_id = juror.id
    await sign_in_as(client, db, settings, juror_id)
    for language, heading, sentence in (
        (
            "de",
            "Kein Zugriff",
            "Diese Seite ist für Ihr Konto nicht freigegeben. Wenn Sie mit einer anderen E-Mail-Adresse eingeladen "
            "wurden, melden Sie sich bitte damit an; sonst wenden Sie sich bitte an das Organisationsteam des "
            "Wettbewerbs.",
        ),
        (
            "en",
            "Access denied",
            "This page is not open to your account. If you were invited with another e-mail address, please sign in "
            "with that one; otherwise please ask the award's organisers.",
        ),
    ):
        response = await client.get("/awards/mini-award/entries", headers={"accept-language": language})
        assert response.status_code == 403
        text = " ".join(html.unescape(response.text).split())
        assert f"<h1>{heading}</h1>" in text and sentence in text, language
        assert 'href="/account"' in text and 'href="/"' in text  # a way on: the account (to switch) and the start
    assert "Das dürfen Sie nicht" not in text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),
        ("lang=xx&next=%00", "application/x-www-form-urlencoded"),
        ('{"lang": "en"}', "application/json"),
        ("\xff\xfe garbage", "application/x-www-form-urlencoded"),
    ],
)
async def test_language_switch_odd_input_never_500(client: Client, body: str, content_type: str) -> None:
    token = csrf_token((await client.get("/")).text)
    response = await client.post(
        "/language",
        content=body.encode("utf-8", "surrogateescape"),
        headers={"content-type": content_type, "x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert response.headers["location"] == "/"


async def test_unknown_host_name_is_refused(client: Client) -> None:
    response = await client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert (await client.get("/", headers={"host": "testserver.local:8080"})).status_code == 200
