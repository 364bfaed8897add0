"""Accounts: password and e-mail-link sign-in, sessions, rate limits, password reset, the
account page, CSRF and cookie attributes."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from argon2 import Type

from award_jury.accounts import passwords
from award_jury.accounts.models import Invitation, LoginToken, Person, RateLimitHit, WebSession
from award_jury.accounts.services import disable_person
from award_jury.audit.models import AuditEvent
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.accounts import (
    EN,
    HOST,
    PASSWORD,
    PRODUCTION_HASHER,
    SESSION_COOKIE,
    audit_actions,
    link_token,
    mail_parts,
    make_organiser,
    make_person,
    new_session_token,
    open_session,
    outbox,
    page_token,
    plant_cookie,
    post_form,
    session_rows,
    set_cookies,
    sign_in,
    sign_in_as,
)
from tests.support.apps import app_client, shared_app
from tests.support.csrf import csrf_token, without_csrf
from tests.support.factories import small_bundle

Client = httpx.AsyncClient
ORGANISER = "olga@example.org"
WRONG = "not the password at all"
NOT_RIGHT = "The e-mail address or the password is not right."


@pytest.fixture
async def second_browser(settings: Settings, db: Database) -> AsyncIterator[Client]:
    async with app_client(shared_app(settings, db)) as c:
        yield c


async def anonymous(client: Client, token: str | None = None) -> bool:
    """True when GET /account (with ``token`` as the session cookie, if given) is sent to sign-in."""
    if token is not None:
        plant_cookie(client, token)
    response = await client.get("/account", headers=EN)
    if response.status_code == 303:
        assert response.headers["location"] == "/signin?next=%2Faccount"
        return True
    assert response.status_code == 200
    return False


async def hits(db: Database, prefix: str) -> int:
    async with db.session() as s:
        return int(
            (
                await s.execute(
                    sa.select(sa.func.count()).select_from(RateLimitHit).where(RateLimitHit.bucket.startswith(prefix))
                )
            ).scalar_one()
        )


async def person_row(db: Database, person_id: int) -> Person:
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        return person


# --- password sign-in ------------------------------------------------------------------------


async def test_password_sign_in_sets_http_only_lax_session_cookie(client: Client, db: Database) -> None:
    await make_organiser(db)
    response = await sign_in(client, ORGANISER)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert cookie.has("httponly")
    assert cookie.attributes.get("samesite", "").lower() == "lax"
    assert cookie.attributes.get("path") == "/"
    assert not cookie.has("secure")  # http base URL
    assert "domain" not in cookie.attributes

    page = await client.get("/account", headers=EN)
    assert page.status_code == 200
    assert "Olga Organiser" in page.text and ORGANISER in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "signin.succeeded" in await audit_actions(db)


async def test_sign_in_accepts_address_in_other_case_and_spaces(client: Client, db: Database) -> None:
    await make_organiser(db)
    response = await sign_in(client, "  Olga@Example.ORG ")
    assert response.status_code == 303


async def test_sign_in_honours_local_next(client: Client, db: Database) -> None:
    await make_organiser(db)
    response = await sign_in(client, ORGANISER, next="/awards/mini-award/people")
    assert response.status_code == 303
    assert response.headers["location"] == "/awards/mini-award/people"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x", "/\\evil.example"])
async def test_sign_in_never_redirects_elsewhere(client: Client, db: Database, target: str) -> None:
    await make_organiser(db)
    response = await sign_in(client, ORGANISER, next=target)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location


async def test_sign_in_form_as_served_leads_to_account(client: Client, db: Database) -> None:
    """Post exactly what the page's form holds (its hidden ``next`` included)."""
    await make_organiser(db)
    for path in ("/signin", "/signin?next="):
        page = await client.get(path, headers=EN)
        form = page.text.split('action="/signin" ', 1)[1].split("</form>", 1)[0]
        hidden = re.search(r'<input type="hidden" name="next" value="([^"]*)">', form)
        assert hidden is not None
        response = await post_form(
            client,
            "/signin",
            {"email": ORGANISER, "password": PASSWORD, "next": html.unescape(hidden.group(1))},
            token=csrf_token(page.text),
        )
        assert (response.status_code, response.headers["location"]) == (303, "/account"), path
        client.cookies.clear()


async def test_sign_in_page_keeps_next_in_hidden_field(client: Client) -> None:
    page = await client.get("/signin", params={"next": "/awards/mini-award/people"}, headers=EN)
    assert '<input type="hidden" name="next" value="/awards/mini-award/people">' in page.text
    evil = await client.get("/signin", params={"next": "https://evil.example"}, headers=EN)
    assert "evil.example" not in evil.text


async def test_signed_in_person_visiting_signin_goes_to_account(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    response = await client.get("/signin", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/account")


async def test_wrong_password_and_unknown_address_answer_identically(client: Client, db: Database) -> None:
    await make_organiser(db)
    wrong = await sign_in(client, ORGANISER, WRONG)
    unknown = await sign_in(client, "nobody@example.org", WRONG)
    assert (wrong.status_code, unknown.status_code) == (400, 400)
    for response in (wrong, unknown):
        assert NOT_RIGHT in response.text
        assert SESSION_COOKIE not in set_cookies(response)
    # the pages differ only in the address typed (echoed into the field) and the CSRF token
    assert without_csrf(wrong.text).replace(ORGANISER, "X") == without_csrf(unknown.text).replace(
        "nobody@example.org", "X"
    )
    assert await session_rows(db) == []


async def test_wrong_password_message_in_german(client: Client, db: Database) -> None:
    await make_organiser(db)
    token = await page_token(client)
    response = await client.post(
        "/signin",
        data={"email": ORGANISER, "password": WRONG, "_csrf_token": token},
        headers={"accept-language": "de"},
    )
    assert response.status_code == 400
    assert "Die E-Mail-Adresse oder das Passwort stimmt nicht." in response.text


async def test_person_without_password_cannot_sign_in_with_one(client: Client, db: Database) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    response = await sign_in(client, "juror@example.org", "")
    assert response.status_code == 400 and "Enter your password." in response.text
    response = await sign_in(client, "juror@example.org", "anything at all 123")
    assert response.status_code == 400 and NOT_RIGHT in response.text


async def test_missing_fields_are_named_beside_them(client: Client) -> None:
    token = await page_token(client)
    response = await post_form(client, "/signin", {"email": "", "password": ""}, token=token)
    assert response.status_code == 400
    assert re.search(r'id="f-email-error">.*Enter your e-mail address\.', response.text)
    assert re.search(r'id="f-password-error">.*Enter your password\.', response.text)


async def test_stored_password_hash_is_argon2id(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024  # at least OWASP's minimum for argon2id
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)  # (the suite runs with cheap ones)
    person_id = await make_organiser(db)
    stored = (await person_row(db, person_id)).password_hash
    assert stored is not None and stored.startswith("$argon2id$")
    h = PRODUCTION_HASHER
    assert f"$m={h.memory_cost},t={h.time_cost},p={h.parallelism}$" in stored
    assert PASSWORD not in stored


# --- rate limits -----------------------------------------------------------------------------


async def test_sixth_attempt_is_refused_even_with_right_password(client: Client, db: Database) -> None:
    await make_organiser(db)
    for _ in range(5):
        response = await sign_in(client, ORGANISER, WRONG)
        assert response.status_code == 400
    refused = await sign_in(client, ORGANISER, PASSWORD)
    assert refused.status_code == 429
    assert "Too many attempts. Please wait 15 minutes and try again." in refused.text
    assert SESSION_COOKIE not in set_cookies(refused)
    assert await session_rows(db) == []

    assert await hits(db, f"signin-fail-email:{ORGANISER}") == 5
    assert await hits(db, "signin-fail-ip:127.0.0.1") == 5
    actions = await audit_actions(db)
    assert actions.count("signin.failed") == 5
    assert actions.count("signin.refused") == 1
    assert "signin.succeeded" not in actions


async def test_rate_limit_message_in_german(client: Client, db: Database) -> None:
    await make_organiser(db)
    for _ in range(5):
        await sign_in(client, ORGANISER, WRONG)
    token = await page_token(client)
    response = await client.post(
        "/signin",
        data={"email": ORGANISER, "password": PASSWORD, "_csrf_token": token},
        headers={"accept-language": "de"},
    )
    assert response.status_code == 429
    assert "Zu viele Versuche. Bitte warten Sie 15 Minuten" in response.text


async def test_unknown_address_is_limited_like_a_known_one(client: Client, db: Database) -> None:
    """Otherwise the sixth attempt would tell whether an address has an account."""
    await make_organiser(db)
    answers = {}
    for address in (ORGANISER, "nobody@example.org"):
        for _ in range(5):
            assert (await sign_in(client, address, WRONG)).status_code == 400
        sixth = await sign_in(client, address, WRONG)
        answers[address] = (sixth.status_code, without_csrf(sixth.text).replace(address, "X"))
    assert answers[ORGANISER] == answers["nobody@example.org"]
    assert answers[ORGANISER][0] == 429


async def test_failures_older_than_the_window_do_not_count(client: Client, db: Database) -> None:
    await make_organiser(db)
    for _ in range(5):
        await sign_in(client, ORGANISER, WRONG)
    async with db.session() as s:
        await s.execute(sa.update(RateLimitHit).values(at=utcnow() - timedelta(minutes=15, seconds=1)))
    response = await sign_in(client, ORGANISER)
    assert response.status_code == 303


async def test_success_clears_the_counter_for_the_address_from_this_ip(client: Client, db: Database) -> None:
    await make_organiser(db)
    for _ in range(4):
        await sign_in(client, ORGANISER, WRONG)
    assert (await sign_in(client, ORGANISER)).status_code == 303
    assert await hits(db, "signin-fail-pair:") == 0
    assert await hits(db, "signin-fail-email:") == 4  # (left to age: see ratelimit)
    for _ in range(4):  # four more wrong ones do not add up with the first four
        assert (await sign_in(client, ORGANISER, WRONG)).status_code == 400
    assert (await sign_in(client, ORGANISER)).status_code == 303


async def test_thirty_failures_from_one_ip_refuse_the_next(client: Client, db: Database, settings: Settings) -> None:
    await make_organiser(db)
    for n in range(30):
        response = await sign_in(client, f"guess{n}@example.org", WRONG)
        assert response.status_code == 400, n
    refused = await sign_in(client, ORGANISER, PASSWORD)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert await hits(db, "signin-fail-ip:127.0.0.1") == 30

    # another client address is not affected
    transport = httpx.ASGITransport(app=shared_app(settings, db), client=("198.51.100.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as other:
        assert (await sign_in(other, ORGANISER)).status_code == 303


# --- sessions --------------------------------------------------------------------------------


async def test_planted_session_id_is_replaced_at_sign_in(client: Client, db: Database) -> None:
    await make_organiser(db)
    token = await page_token(client)
    planted = "made-up-session-id-0123456789abcdefghijklmnop"
    plant_cookie(client, planted)
    response = await post_form(client, "/signin", {"email": ORGANISER, "password": PASSWORD}, token=token)
    assert response.status_code == 303
    issued = new_session_token(response)
    assert issued != planted
    assert not await anonymous(client)  # the jar now holds the new value
    assert await anonymous(client, planted)


async def test_attackers_own_session_planted_in_victims_browser_is_ended(
    client: Client, db: Database, settings: Settings
) -> None:
    await make_organiser(db)
    mallory = await make_person(db, "mallory@example.org", "Mallory", password=PASSWORD)
    mallorys = await open_session(db, settings, mallory)
    token = await page_token(client)
    plant_cookie(client, mallorys)
    response = await post_form(client, "/signin", {"email": ORGANISER, "password": PASSWORD}, token=token)
    assert new_session_token(response) != mallorys
    assert await session_rows(db, mallory) == []


async def test_sign_out_ends_the_session(client: Client, db: Database) -> None:
    person_id = await make_organiser(db)
    old = new_session_token(await sign_in(client, ORGANISER))
    token = await page_token(client, "/account")
    response = await post_form(client, "/signout", token=token)
    assert (response.status_code, response.headers["location"]) == (303, "/?signed_out=1")
    cleared = set_cookies(response)[SESSION_COOKIE]
    assert cleared.value == "" and cleared.attributes.get("max-age") == "0"
    assert await session_rows(db, person_id) == []
    assert "signout" in await audit_actions(db)
    assert await anonymous(client, old)


async def test_idle_session_ends(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    async with db.session() as s:
        await s.execute(
            sa.update(WebSession).values(last_seen_at=utcnow() - timedelta(seconds=settings.session_idle_seconds + 1))
        )
    response = await client.get("/account", headers=EN)
    assert (response.status_code, response.headers["location"]) == (303, "/signin?next=%2Faccount")
    assert await session_rows(db, person_id) == []


async def test_dead_session_cookie_is_cleared_on_the_sign_in_redirect(client: Client, db: Database) -> None:
    """web/auth.py promises that a cookie naming no live session is cleared; the redirect of a
    page that needs a person is the response an ended session usually meets first."""
    await make_organiser(db)
    await sign_in(client, ORGANISER)
    async with db.session() as s:
        await s.execute(sa.delete(WebSession))
    response = await client.get("/account", headers=EN)
    assert response.status_code == 303
    cleared = set_cookies(response).get(SESSION_COOKIE)
    assert cleared is not None, "the dead session cookie is not cleared by the redirect to /signin"
    assert cleared.value == "" and cleared.attributes.get("max-age") == "0"


async def test_activity_within_idle_timeout_keeps_session(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    almost = utcnow() - timedelta(seconds=settings.session_idle_seconds - 60)
    async with db.session() as s:
        await s.execute(sa.update(WebSession).values(last_seen_at=almost))
    assert not await anonymous(client)
    (row,) = await session_rows(db, person_id)
    assert row.last_seen_at > almost + timedelta(seconds=30)  # the request counted as activity


async def test_session_ends_at_absolute_lifetime(client: Client, db: Database) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    (row,) = await session_rows(db, person_id)
    assert row.expires_at - row.created_at == timedelta(days=7)
    async with db.session() as s:
        await s.execute(sa.update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await anonymous(client)
    assert await session_rows(db, person_id) == []


async def test_extend_session_returns_later_deadline(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    async with db.session() as s:
        await s.execute(sa.update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
    (row,) = await session_rows(db, person_id)
    before = row.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
    token = await page_token(client, "/account")
    response = await client.post("/session/extend", headers={"accept": "application/json", "x-csrftoken": token, **EN})
    assert response.status_code in (200, 201)
    body = response.json()
    deadline = datetime.fromisoformat(body["expires_at"])
    assert deadline > before + timedelta(minutes=100)
    assert abs((deadline - utcnow()).total_seconds() - settings.session_idle_seconds) < 60
    assert 0 < body["seconds_left"] <= settings.session_idle_seconds


async def test_extending_never_passes_the_absolute_lifetime(client: Client, db: Database) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    end = utcnow() + timedelta(hours=1)
    async with db.session() as s:
        await s.execute(sa.update(WebSession).values(expires_at=end))
    token = await page_token(client, "/account")
    response = await client.post("/session/extend", headers={"accept": "application/json", "x-csrftoken": token, **EN})
    deadline = datetime.fromisoformat(response.json()["expires_at"])
    assert abs((deadline - end).total_seconds()) < 1
    (row,) = await session_rows(db, person_id)
    assert abs((row.expires_at - end).total_seconds()) < 1


async def test_extend_session_as_plain_form_redirects_back(client: Client, db: Database) -> None:
    await make_organiser(db)
    await sign_in(client, ORGANISER)
    token = await page_token(client, "/account")
    response = await post_form(client, "/session/extend", {"next": "/account"}, token=token)
    assert (response.status_code, response.headers["location"]) == (303, "/account")


async def test_extend_session_needs_a_session(client: Client) -> None:
    token = await page_token(client, "/")
    response = await client.post("/session/extend", headers={"accept": "application/json", "x-csrftoken": token, **EN})
    assert response.status_code == 401


async def test_disabled_account_loses_session_and_cannot_sign_in(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    assert not await anonymous(client)
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        await disable_person(s, person, actor_label="test")
    assert await anonymous(client)
    assert await session_rows(db, person_id) == []
    response = await sign_in(client, ORGANISER)
    assert response.status_code == 400 and NOT_RIGHT in response.text
    token = await page_token(client)
    await post_form(client, "/signin/link", {"email": ORGANISER}, token=token)
    assert outbox(settings) == []  # nor a sign-in link


async def test_disabled_account_gets_no_sign_in_link(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_person(db, "juror@example.org", "Jutta Juror")
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        await disable_person(s, person)
    token = await page_token(client)
    response = await post_form(client, "/signin/link", {"email": "juror@example.org"}, token=token)
    assert response.status_code == 200
    assert outbox(settings) == []


# --- sign-in by e-mail link ------------------------------------------------------------------


async def request_link(client: Client, address: str) -> httpx.Response:
    token = await page_token(client)
    return await post_form(client, "/signin/link", {"email": address}, token=token)


async def test_sign_in_link_mail_in_recipients_language(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror", locale="de")
    response = await request_link(client, "juror@example.org")  # the browser asks for English
    assert response.status_code == 200
    assert "Check your e-mail" in response.text
    (mail,) = outbox(settings)
    assert mail["To"] == "juror@example.org"
    assert mail["Subject"] == "Ihr Anmeldelink für award_jury"
    assert "noreply@testserver.local" in mail["From"]
    assert mail.get_content_type() == "multipart/alternative"
    text, body = mail_parts(mail)
    assert "Guten Tag Jutta Juror," in text and "Guten Tag Jutta Juror," in body
    assert "30 Minuten" in text
    token = link_token(mail, "/signin/link")
    assert token not in response.text
    async with db.session() as s:
        (row,) = (await s.execute(sa.select(LoginToken))).scalars()
    assert row.token_hash != token  # only a hash is stored
    assert row.expires_at - row.created_at == timedelta(minutes=30)


async def test_link_request_answers_alike_for_unknown_address(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    known = await request_link(client, "juror@example.org")
    unknown = await request_link(client, "nobody@example.org")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert without_csrf(known.text).replace("juror@example.org", "X") == without_csrf(unknown.text).replace(
        "nobody@example.org", "X"
    )
    assert set(set_cookies(known)) == set(set_cookies(unknown))
    assert len(outbox(settings)) == 1  # only the known address got a mail


async def test_invalid_address_for_link_is_named(client: Client, settings: Settings) -> None:
    response = await request_link(client, "not-an-address")
    assert response.status_code == 400
    assert re.search(r'id="l-email-error">.*Enter a valid e-mail address', response.text)
    assert outbox(settings) == []


async def test_link_opens_confirm_page_and_works_once(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_person(db, "juror@example.org", "Jutta Juror")
    await request_link(client, "juror@example.org")
    token = link_token(outbox(settings)[0], "/signin/link")

    page = await client.get(f"/signin/link/{token}", headers=EN)
    assert page.status_code == 200
    assert "Sign in now" in page.text
    assert await session_rows(db) == []
    async with db.session() as s:
        assert (await s.execute(sa.select(LoginToken.used_at))).scalar_one() is None  # a GET does not use it

    response = await post_form(client, f"/signin/link/{token}", token=csrf_token(page.text))
    assert (response.status_code, response.headers["location"]) == (303, "/account")
    new_session_token(response)
    assert [r.person_id for r in await session_rows(db)] == [person_id]
    assert "Jutta Juror" in (await client.get("/account", headers=EN)).text

    again = await post_form(client, f"/signin/link/{token}", token=csrf_token(page.text))
    assert again.status_code == 400
    assert "This link no longer works" in again.text and "used already" in again.text
    assert (await client.get(f"/signin/link/{token}", headers=EN)).status_code == 400


async def test_new_link_replaces_the_old_one(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    await request_link(client, "juror@example.org")
    await request_link(client, "juror@example.org")
    first, second = (link_token(m, "/signin/link") for m in outbox(settings))
    assert first != second
    old = await client.get(f"/signin/link/{first}", headers=EN)
    assert old.status_code == 400
    assert "A newer link was sent since" in old.text
    token = await page_token(client)
    assert (await post_form(client, f"/signin/link/{first}", token=token)).status_code == 400
    assert (await post_form(client, f"/signin/link/{second}", token=token)).status_code == 303


async def test_link_expires_after_thirty_minutes(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    await request_link(client, "juror@example.org")
    token = link_token(outbox(settings)[0], "/signin/link")
    long_ago = utcnow() - timedelta(minutes=31)
    async with db.session() as s:
        await s.execute(sa.update(LoginToken).values(created_at=long_ago, expires_at=long_ago + timedelta(minutes=30)))
    page = await client.get(f"/signin/link/{token}", headers=EN)
    assert page.status_code == 400 and "It has expired." in page.text
    response = await post_form(client, f"/signin/link/{token}", token=await page_token(client))
    assert response.status_code == 400
    assert await session_rows(db) == []


async def test_unknown_link_token_is_refused(client: Client) -> None:
    page = await client.get("/signin/link/not-a-real-token", headers=EN)
    assert page.status_code == 400 and "It is not valid" in page.text


async def test_link_requests_are_rate_limited(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    for _ in range(5):
        assert (await request_link(client, "juror@example.org")).status_code == 200
    refused = await request_link(client, "juror@example.org")
    assert refused.status_code == 429 and "Too many attempts" in refused.text
    assert len(outbox(settings)) == 5
    assert await hits(db, "link-email:juror@example.org") == 5


# --- password reset --------------------------------------------------------------------------


async def test_password_reset_flow(client: Client, db: Database, settings: Settings, second_browser: Client) -> None:
    person_id = await make_organiser(db)
    await sign_in(second_browser, ORGANISER)  # another device
    token = await page_token(client, "/password/forgot")
    response = await post_form(client, "/password/forgot", {"email": ORGANISER}, token=token)
    assert response.status_code == 200
    assert "we have sent it a link to set a new password" in response.text
    (mail,) = outbox(settings)
    assert mail["To"] == ORGANISER and mail["Subject"] == "Set a new password for award_jury"
    reset = link_token(mail, "/password/reset")

    form = await client.get(f"/password/reset/{reset}", headers=EN)
    assert form.status_code == 200 and 'name="password_confirm"' in form.text
    before = (await person_row(db, person_id)).password_hash

    short = await post_form(
        client,
        f"/password/reset/{reset}",
        {"password": "short1", "password_confirm": "short1"},
        token=csrf_token(form.text),
    )
    assert short.status_code == 400
    assert re.search(r'id="f-password-error">.*Use at least 10 characters\.', short.text)
    assert (await person_row(db, person_id)).password_hash == before
    assert len(await session_rows(db, person_id)) == 1  # nothing changed yet

    mismatch = await post_form(
        client,
        f"/password/reset/{reset}",
        {"password": "brand new secret 42", "password_confirm": "other 42 x"},
        token=csrf_token(form.text),
    )
    assert mismatch.status_code == 400 and "The two passwords are not the same." in mismatch.text

    done = await post_form(
        client,
        f"/password/reset/{reset}",
        {"password": "brand new secret 42", "password_confirm": "brand new secret 42"},
        token=csrf_token(form.text),
    )
    assert (done.status_code, done.headers["location"]) == (303, "/account?password=1")
    new_session_token(done)
    assert not await anonymous(client)
    assert await anonymous(second_browser)  # the other device is signed out
    rows = await session_rows(db, person_id)
    assert len(rows) == 1
    assert "password.changed" in await audit_actions(db)

    async with app_client(shared_app(settings, db)) as third:
        assert (await sign_in(third, ORGANISER, PASSWORD)).status_code == 400
        assert (await sign_in(third, ORGANISER, "brand new secret 42")).status_code == 303
    # the reset link works once
    again = await client.get(f"/password/reset/{reset}", headers=EN)
    assert again.status_code == 400


async def test_password_forgot_for_unknown_address_sends_nothing(client: Client, settings: Settings) -> None:
    token = await page_token(client, "/password/forgot")
    response = await post_form(client, "/password/forgot", {"email": "nobody@example.org"}, token=token)
    assert response.status_code == 200
    assert "we have sent it a link to set a new password" in response.text
    assert outbox(settings) == []


async def test_password_reset_link_is_not_a_sign_in_link(client: Client, db: Database, settings: Settings) -> None:
    await make_organiser(db)
    token = await page_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": ORGANISER}, token=token)
    reset = link_token(outbox(settings)[0], "/password/reset")
    assert (await post_form(client, f"/signin/link/{reset}", token=token)).status_code == 400


# --- the own password ------------------------------------------------------------------------


async def test_juror_sets_a_first_password(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_person(db, "juror@example.org", "Jutta Juror")
    await sign_in_as(client, db, settings, person_id)
    form = await client.get("/account/password", headers=EN)
    assert form.status_code == 200
    assert "Set a password" in form.text and 'name="current_password"' not in form.text
    response = await post_form(
        client,
        "/account/password",
        {"password": "brand new secret 42", "password_confirm": "brand new secret 42"},
        token=csrf_token(form.text),
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account?password=1")
    assert not await anonymous(client)  # a new session replaces the old one
    async with app_client(shared_app(settings, db)) as other:
        assert (await sign_in(other, "juror@example.org", "brand new secret 42")).status_code == 303


async def test_changing_password_needs_the_current_one(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    form = await client.get("/account/password", headers=EN)
    assert 'name="current_password"' in form.text
    token = csrf_token(form.text)
    before = (await person_row(db, person_id)).password_hash

    wrong = await post_form(
        client,
        "/account/password",
        {"current_password": WRONG, "password": "brand new secret 42", "password_confirm": "brand new secret 42"},
        token=token,
    )
    assert wrong.status_code == 400
    assert re.search(r'id="f-current_password-error">.*This is not your current password\.', wrong.text)
    assert (await person_row(db, person_id)).password_hash == before

    right = await post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "brand new secret 42", "password_confirm": "brand new secret 42"},
        token=token,
    )
    assert right.status_code == 303
    assert (await person_row(db, person_id)).password_hash != before


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Passwort123!", "This password is too common. Please choose another one."),
        ("password", "Use at least 10 characters."),
        ("aaaaaaaaaaaa", "This password is too simple. Please choose another one."),
        ("jutta-wins-2026", "The password must not contain your e-mail address or your name."),
    ],
)
async def test_weak_new_password_is_refused(
    client: Client, db: Database, settings: Settings, new: str, message: str
) -> None:
    person_id = await make_person(db, "juror@example.org", "Jutta Juror")
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account/password")
    response = await post_form(client, "/account/password", {"password": new, "password_confirm": new}, token=token)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert (await person_row(db, person_id)).password_hash is None


# --- the account page ------------------------------------------------------------------------


async def test_account_page_updates_name_and_language(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account")
    response = await post_form(client, "/account", {"name": "Olga Neu", "locale": "de"}, token=token)
    assert (response.status_code, response.headers["location"]) == (303, "/account?saved=1")
    lang = set_cookies(response)["award_jury_lang"]
    assert lang.value == "de" and lang.has("httponly")
    person = await person_row(db, person_id)
    assert (person.name, person.locale) == ("Olga Neu", "de")
    page = await client.get("/account?saved=1", headers=EN)
    assert '<html lang="de">' in page.text and "Olga Neu" in page.text
    assert "account.updated" in await audit_actions(db)

    token = csrf_token(page.text)
    response = await post_form(client, "/account", {"name": "Olga Neu", "locale": "en"}, token=token)
    assert set_cookies(response)["award_jury_lang"].value == "en"
    assert (await person_row(db, person_id)).locale == "en"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Olga", "locale": "fr"}, "locale", "Choose German or English."),
        ({"name": "", "locale": "en"}, "name", "Enter your name."),
        ({"name": "x" * 201, "locale": "en"}, "name", "Use at most 200 characters."),
    ],
)
async def test_account_page_refuses_bad_values(
    client: Client, db: Database, settings: Settings, data: dict[str, str], field: str, message: str
) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account")
    response = await post_form(client, "/account", data, token=token)
    assert response.status_code == 400
    assert re.search(rf'id="f-{field}-error">.*{re.escape(message)}', response.text)
    assert "award_jury_lang" not in set_cookies(response)
    person = await person_row(db, person_id)
    assert (person.name, person.locale) == ("Olga Organiser", "en")


async def test_account_page_needs_sign_in(client: Client) -> None:
    assert await anonymous(client)
    token = await page_token(client, "/")
    response = await post_form(client, "/account", {"name": "x", "locale": "en"}, token=token)
    assert response.status_code == 401


async def test_sign_out_everywhere_ends_every_session(
    client: Client, db: Database, settings: Settings, second_browser: Client
) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    await sign_in_as(second_browser, db, settings, person_id)
    token = await page_token(client, "/account")
    response = await post_form(client, "/account/signout-everywhere", token=token)
    assert response.status_code == 303
    assert await session_rows(db, person_id) == []
    assert await anonymous(second_browser)


# --- CSRF ------------------------------------------------------------------------------------


async def test_sign_in_without_csrf_token_is_refused(client: Client, db: Database) -> None:
    await make_organiser(db)
    await page_token(client)  # the CSRF cookie is there, the form field is not
    response = await post_form(client, "/signin", {"email": ORGANISER, "password": PASSWORD}, token="")
    assert response.status_code == 403
    assert "<h1>The form was not sent</h1>" in response.text
    assert SESSION_COOKIE not in set_cookies(response)
    assert await session_rows(db) == []
    wrong = await post_form(client, "/signin", {"email": ORGANISER, "password": PASSWORD}, token="forged-token")
    assert wrong.status_code == 403
    assert await session_rows(db) == []


async def test_sign_out_without_csrf_token_keeps_session(client: Client, db: Database) -> None:
    person_id = await make_organiser(db)
    await sign_in(client, ORGANISER)
    response = await post_form(client, "/signout", token="")
    assert response.status_code == 403
    assert len(await session_rows(db, person_id)) == 1
    assert not await anonymous(client)


async def test_account_update_without_csrf_token_changes_nothing(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    await page_token(client, "/account")
    response = await post_form(client, "/account", {"name": "Hacked", "locale": "de"}, token="")
    assert response.status_code == 403
    assert (await person_row(db, person_id)).name == "Olga Organiser"


async def test_invitation_without_csrf_token_creates_nothing(client: Client, db: Database, settings: Settings) -> None:
    async with db.session() as s:
        await import_bundle(s, small_bundle())
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    assert (await client.get("/awards/mini-award/people", headers=EN)).status_code == 200
    response = await post_form(
        client, "/awards/mini-award/invitations", {"email": "new@example.org", "name": "New", "role": "juror"}, token=""
    )
    assert response.status_code == 403
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Invitation))).scalar_one() == 0
    assert outbox(settings) == []


async def test_link_use_without_csrf_token_keeps_link(client: Client, db: Database, settings: Settings) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    await request_link(client, "juror@example.org")
    token = link_token(outbox(settings)[0], "/signin/link")
    response = await post_form(client, f"/signin/link/{token}", token="")
    assert response.status_code == 403
    assert (await client.get(f"/signin/link/{token}", headers=EN)).status_code == 200


# --- cookies on https ------------------------------------------------------------------------


@pytest.fixture
async def https_client(settings: Settings, db: Database) -> AsyncIterator[Client]:
    app = create_app(replace(settings, base_url=f"https://{HOST}"), database=db)
    async with app_client(app) as c:
        c.base_url = httpx.URL(f"https://{HOST}")  # Secure cookies travel back only over https
        yield c


async def test_cookies_are_secure_with_host_prefix_on_https(https_client: Client, db: Database) -> None:
    await make_organiser(db)
    form = await https_client.get("/signin", headers=EN)
    csrf = set_cookies(form)["__Host-award_jury_csrf"]
    assert csrf.has("secure") and csrf.attributes.get("path") == "/" and "domain" not in csrf.attributes

    response = await post_form(
        https_client, "/signin", {"email": ORGANISER, "password": PASSWORD}, token=csrf_token(form.text)
    )
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert SESSION_COOKIE not in cookies
    session = cookies[f"__Host-{SESSION_COOKIE}"]
    assert session.has("secure") and session.has("httponly")
    assert session.attributes.get("samesite", "").lower() == "lax"
    assert session.attributes.get("path") == "/" and "domain" not in session.attributes

    page = await https_client.get("/account", headers=EN)
    assert page.status_code == 200 and "Olga Organiser" in page.text
    out = await post_form(https_client, "/signout", token=csrf_token(page.text))
    cleared = set_cookies(out)[f"__Host-{SESSION_COOKIE}"]
    assert cleared.value == "" and cleared.has("secure")


async def test_dead_session_cookie_is_cleared_with_secure_on_https(https_client: Client) -> None:
    """Browsers ignore a ``__Host-`` Set-Cookie without Secure, so the clearing one needs it too."""
    plant_cookie(https_client, "no-such-session-0123456789abcdefghijkl", name=f"__Host-{SESSION_COOKIE}")
    response = await https_client.get("/", headers=EN)
    cleared = set_cookies(response)[f"__Host-{SESSION_COOKIE}"]
    assert cleared.value == ""
    assert cleared.has("secure"), "a __Host- cookie can only be cleared by a Secure Set-Cookie"
    assert cleared.attributes.get("path") == "/"


async def test_audit_records_sign_in_events_with_ip(client: Client, db: Database) -> None:
    await make_organiser(db)
    await sign_in(client, ORGANISER, WRONG)
    await sign_in(client, ORGANISER)
    async with db.session() as s:
        events = (
            await s.execute(sa.select(AuditEvent).where(AuditEvent.action.in_(["signin.failed", "signin.succeeded"])))
        ).scalars()
        by_action = {e.action: e for e in events}
    assert by_action["signin.failed"].ip == "127.0.0.1"
    assert by_action["signin.succeeded"].ip == "127.0.0.1"
    assert by_action["signin.succeeded"].after == {"method": "password"}
