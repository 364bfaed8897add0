"""Two-factor sign-in (TOTP with recovery codes): turning it on and off, the code step after the
password and after an e-mail link, replays, recovery codes, the half-done sign-in's expiry and
its rate limits, password reset, and awards that require it of their organisers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import PendingSignIn, Person, RateLimitHit, RecoveryCode, TwoFactor
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.accounts import (
    EN,
    PASSWORD,
    SESSION_COOKIE,
    audit_actions,
    csrf_token,
    link_token,
    make_organiser,
    make_person,
    open_session,
    outbox,
    page_token,
    post_form,
    session_cookie_in_jar,
    session_rows,
    set_cookies,
    sign_in,
    sign_in_as,
    use_cheap_argon2,
)
from tests.support.factories import small_bundle
from tests.support.two_factor import code, recovery_codes_on_page, secret_on_page, setup_field, turn_on

Client = httpx.AsyncClient
MakeClient = Callable[[str], Client]
ORGANISER = "olga@example.org"
PENDING_COOKIE = "award_jury_2fa"
WRONG_CODE = "This code is not right, or it was used already."


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_argon2(monkeypatch)


@pytest.fixture
async def from_ip(settings: Settings, db: Database) -> AsyncIterator[MakeClient]:
    """Clients that the app sees at a given IP address."""
    app = create_app(settings, database=db)
    opened: list[Client] = []

    def make(ip: str) -> Client:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        client = Client(transport=transport, base_url="http://testserver.local")
        opened.append(client)
        return client

    yield make
    for c in opened:
        await c.aclose()


async def two_factor_row(db: Database, person_id: int) -> TwoFactor | None:
    async with db.session() as s:
        return await s.get(TwoFactor, person_id)


async def code_step(client: Client, value: str, *, recovery: bool = False) -> httpx.Response:
    token = csrf_token((await client.get("/signin/two-factor", headers=EN)).text)
    data = {"code": value, **({"kind": "recovery"} if recovery else {})}
    return await post_form(client, "/signin/two-factor", data, token=token)


async def password_then_code_asked(client: Client, email: str = ORGANISER, next: str = "") -> None:
    response = await sign_in(client, email, next=next)
    assert (response.status_code, response.headers["location"]) == (303, "/signin/two-factor")


# --- turning it on ----------------------------------------------------------------------------------


async def test_enabling_needs_a_right_code_and_shows_ten_recovery_codes_once(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    page = await client.get("/account/two-factor", headers=EN)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text  # the QR code, allowed by the CSP (img-src data:)
    secret, setup = secret_on_page(page.text), setup_field(page.text)
    assert len(secret) == 32 and secret not in setup  # the form carries the secret sealed only
    token = csrf_token(page.text)

    wrong = await post_form(
        client,
        "/account/two-factor/enable",
        {"setup": setup, "password": PASSWORD, "code": code(secret, 5)},
        token=token,
    )
    assert wrong.status_code == 400
    assert WRONG_CODE in wrong.text
    assert secret_on_page(wrong.text) == secret  # the same key again: what the app already has still works
    assert await two_factor_row(db, person_id) is None

    bad_password = await post_form(
        client, "/account/two-factor/enable", {"setup": setup, "password": "nope", "code": code(secret)}, token=token
    )
    assert bad_password.status_code == 400 and "This is not your current password." in bad_password.text
    assert await two_factor_row(db, person_id) is None

    done = await post_form(
        client, "/account/two-factor/enable", {"setup": setup, "password": PASSWORD, "code": code(secret)}, token=token
    )
    assert done.status_code == 200
    codes = recovery_codes_on_page(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Keep these codes safe. They are shown only now." in done.text
    assert 'download="award-jury-recovery-codes.txt"' in done.text
    download = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)"', done.text)
    assert download is not None and all(c in download.group(1) for c in codes)

    row = await two_factor_row(db, person_id)
    assert row is not None and secret not in row.secret_sealed
    async with db.session() as s:
        stored = list(
            (await s.execute(sa.select(RecoveryCode.code_hash).where(RecoveryCode.person_id == person_id))).scalars()
        )
        events = list(
            (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "two_factor.enabled"))).scalars()
        )
    assert len(stored) == 10 and not any(c.replace("-", "") in h or c in h for c in codes for h in stored)
    (event,) = events
    assert secret not in str(event.after) and codes[0] not in str(event.after)
    (mail,) = outbox(settings)
    assert mail["Subject"] == "Two-factor sign-in was turned on" and mail["To"] == ORGANISER

    again = await client.get("/account/two-factor", headers=EN)
    assert "You have 10 unused recovery codes." in again.text
    assert not recovery_codes_on_page(again.text)  # shown once only
    assert "Manage two-factor sign-in" in (await client.get("/account", headers=EN)).text


async def test_a_foreign_or_forged_setup_field_is_refused(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    other_id = await make_person(db, "other@example.org", "Otto", password=PASSWORD)
    await sign_in_as(client, db, settings, other_id)
    others_page = await client.get("/account/two-factor", headers=EN)
    secret, setup = secret_on_page(others_page.text), setup_field(others_page.text)
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account/two-factor")
    response = await post_form(
        client, "/account/two-factor/enable", {"setup": setup, "password": PASSWORD, "code": code(secret)}, token=token
    )
    assert response.status_code == 400 and "The set-up took too long." in response.text
    assert await two_factor_row(db, person_id) is None


async def test_people_without_a_password_are_asked_to_set_one_first(
    client: Client, db: Database, settings: Settings
) -> None:
    juror_id = await make_person(db, "jana@example.org", "Jana")
    await sign_in_as(client, db, settings, juror_id)
    page = await client.get("/account/two-factor", headers=EN)
    assert page.status_code == 200 and "Set a password first" in page.text and "secret-key" not in page.text
    token = csrf_token(page.text)
    response = await post_form(client, "/account/two-factor/enable", {"code": "123456"}, token=token)
    assert (response.status_code, response.headers["location"]) == (303, "/account/two-factor")
    assert await two_factor_row(db, juror_id) is None


# --- signing in -----------------------------------------------------------------------------------


async def test_sign_in_asks_for_the_code_after_the_password(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    response = await sign_in(client, ORGANISER, next="/account?from=signin")
    assert (response.status_code, response.headers["location"]) == (303, "/signin/two-factor")
    cookies = set_cookies(response)
    assert SESSION_COOKIE not in cookies  # no session before the code
    pending = cookies[PENDING_COOKIE]
    assert pending.has("httponly") and pending.attributes["max-age"] == "300"
    async with db.session() as s:
        (row,) = (await s.execute(sa.select(PendingSignIn))).scalars()
    assert row.token_hash != pending.value and row.person_id == person_id  # only its hash is stored
    assert await session_rows(db, person_id) == []
    assert (await client.get("/account", headers=EN)).status_code == 303  # not signed in yet

    form = await client.get("/signin/two-factor", headers=EN)
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.text

    wrong = await code_step(client, code(secret, 4))
    assert wrong.status_code == 400 and WRONG_CODE in wrong.text
    assert await session_rows(db, person_id) == []

    right = await code_step(client, code(secret, 1))
    assert (right.status_code, right.headers["location"]) == (303, "/account?from=signin")
    assert session_cookie_in_jar(client)
    assert (await client.get("/account", headers=EN)).status_code == 200
    assert len(await session_rows(db, person_id)) == 1
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(PendingSignIn))).scalar_one() == 0
        signed = (
            await s.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "signin.succeeded"))
        ).scalar_one()
    assert signed == {"method": "password+totp"}
    assert set_cookies(right)[PENDING_COOKIE].attributes["max-age"] == "0"


async def test_a_used_code_is_refused_the_second_time(
    client: Client, db: Database, settings: Settings, from_ip: MakeClient
) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    used = code(secret, 1)
    await password_then_code_asked(client)
    assert (await code_step(client, used)).status_code == 303

    other = from_ip("192.0.2.50")
    await password_then_code_asked(other)
    replay = await code_step(other, used)
    assert replay.status_code == 400 and WRONG_CODE in replay.text
    # an older step (within the skew) is refused as well once a newer one was used
    assert (await code_step(other, code(secret, 0))).status_code == 400
    assert len(await session_rows(db, person_id)) == 1


async def test_a_recovery_code_signs_in_once(
    client: Client, db: Database, settings: Settings, from_ip: MakeClient
) -> None:
    person_id = await make_organiser(db)
    _secret, codes = await turn_on(db, settings, person_id)
    await password_then_code_asked(client)
    response = await code_step(client, codes[3].upper().replace("-", " "), recovery=True)  # forgiving to type
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/two-factor?recovery_used=1")
    notice = await client.get(response.headers["location"], headers=EN)
    assert "You have 9 recovery codes left." in notice.text
    assert "two_factor.recovery_code_used" in await audit_actions(db)

    other = from_ip("192.0.2.51")
    await password_then_code_asked(other)
    again = await code_step(other, codes[3], recovery=True)
    assert again.status_code == 400 and "This recovery code is not right, or it was used already." in again.text
    assert len(await session_rows(db, person_id)) == 1


async def test_the_half_done_sign_in_expires_after_five_minutes(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    await password_then_code_asked(client)
    async with db.session() as s:
        await s.execute(sa.update(PendingSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = await client.get("/signin/two-factor", headers=EN)
    assert (page.status_code, page.headers["location"]) == (303, "/signin?code_expired=1")
    token = await page_token(client, "/signin?code_expired=1")
    late = await post_form(client, "/signin/two-factor", {"code": code(secret, 1)}, token=token)
    assert (late.status_code, late.headers["location"]) == (303, "/signin?code_expired=1")
    assert await session_rows(db, person_id) == []
    signin = await client.get("/signin?code_expired=1", headers=EN)
    assert "Your sign-in was not completed within 5 minutes." in signin.text


async def test_the_code_step_without_a_first_step_signs_nobody_in(client: Client, db: Database) -> None:
    await make_organiser(db)
    token = await page_token(client, "/signin")
    client.cookies.set(PENDING_COOKIE, "made-up-token", domain="testserver.local", path="/")
    response = await post_form(client, "/signin/two-factor", {"code": "123456"}, token=token)
    assert (response.status_code, response.headers["location"]) == (303, "/signin?code_expired=1")
    assert await session_rows(db) == []


async def test_wrong_codes_are_rate_limited_without_locking_the_owner_out(
    db: Database, settings: Settings, from_ip: MakeClient
) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    attacker = from_ip("198.51.100.7")
    await password_then_code_asked(attacker)
    answers = [(await code_step(attacker, f"{n:06d}")).status_code for n in range(5)]
    assert answers == [400] * 5
    refused = await code_step(attacker, code(secret, 1))  # even the right code: the limit comes first
    assert refused.status_code == 429 and "Too many attempts." in refused.text
    assert await session_rows(db, person_id) == []
    assert "two_factor.refused" in await audit_actions(db)

    owner = from_ip("203.0.113.5")
    await password_then_code_asked(owner)
    assert (await code_step(owner, code(secret, 1))).status_code == 303
    async with db.session() as s:
        buckets = set((await s.execute(sa.select(RateLimitHit.bucket))).scalars())
    assert not any(b.startswith("2fa-fail-pair:olga@example.org 203.0.113.5") for b in buckets)


async def test_sign_in_link_asks_for_the_code(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    token = await page_token(client, "/signin")
    await post_form(client, "/signin/link", {"email": ORGANISER}, token=token)
    link = link_token(outbox(settings)[-1], "/signin/link")
    page = await client.get(f"/signin/link/{link}", headers=EN)
    used = await post_form(client, f"/signin/link/{link}", {}, token=csrf_token(page.text))
    assert (used.status_code, used.headers["location"]) == (303, "/signin/two-factor")
    assert SESSION_COOKIE not in set_cookies(used)
    assert await session_rows(db, person_id) == []
    done = await code_step(client, code(secret, 1))
    assert done.status_code == 303
    assert len(await session_rows(db, person_id)) == 1
    async with db.session() as s:
        method = (
            await s.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "signin.succeeded"))
        ).scalar_one()
    assert method == {"method": "link+totp"}


async def test_accepting_an_invitation_asks_for_the_code(client: Client, db: Database, settings: Settings) -> None:
    from award_jury.accounts import invitations

    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    async with db.session() as s:
        award = await import_bundle(s, small_bundle())
        inviter = await s.get(Person, person_id)
        assert inviter is not None
        _invitation, invite_token = await invitations.invite(
            s, award, email=ORGANISER, name="Olga", role=Role.JUROR, categories=[], invited_by=inviter, now=utcnow()
        )
    page = await client.get(f"/invitations/{invite_token}", headers=EN)
    accepted = await post_form(client, f"/invitations/{invite_token}", {}, token=csrf_token(page.text))
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/signin/two-factor")
    assert await session_rows(db, person_id) == []
    done = await code_step(client, code(secret, 1))
    assert (done.status_code, done.headers["location"]) == (303, "/account?welcome=mini-award")


async def test_password_reset_asks_for_the_code_before_anything_changes(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    _secret, codes = await turn_on(db, settings, person_id)
    await open_session(db, settings, person_id)  # signed in on another device
    token = await page_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": ORGANISER}, token=token)
    reset = link_token(outbox(settings)[-1], "/password/reset")
    form = await client.get(f"/password/reset/{reset}", headers=EN)
    assert 'name="code"' in form.text
    new = {"password": "brand new secret 42", "password_confirm": "brand new secret 42"}

    missing = await post_form(client, f"/password/reset/{reset}", new, token=csrf_token(form.text))
    assert missing.status_code == 400 and WRONG_CODE in missing.text
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None and person.password_hash is not None
        unchanged = person.password_hash
    assert len(await session_rows(db, person_id)) == 1  # the owner's other device stays signed in

    done = await post_form(client, f"/password/reset/{reset}", {**new, "code": codes[0]}, token=csrf_token(form.text))
    assert (done.status_code, done.headers["location"]) == (303, "/account?password=1")
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None and person.password_hash != unchanged
        method = (
            (
                await s.execute(
                    sa.select(AuditEvent.after)
                    .where(AuditEvent.action == "signin.succeeded")
                    .order_by(AuditEvent.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert method == {"method": "reset+recovery"}
    assert len(await session_rows(db, person_id)) == 1  # the new password ended the other session


async def test_password_reset_takes_the_code_from_the_app(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    token = await page_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": ORGANISER}, token=token)
    reset = link_token(outbox(settings)[-1], "/password/reset")
    form = await client.get(f"/password/reset/{reset}", headers=EN)
    new = {"password": "brand new secret 42", "password_confirm": "brand new secret 42", "code": code(secret, 1)}
    done = await post_form(client, f"/password/reset/{reset}", new, token=csrf_token(form.text))
    assert (done.status_code, done.headers["location"]) == (303, "/account?password=1")


async def test_reset_for_a_person_without_two_factor_is_unchanged(
    client: Client, db: Database, settings: Settings
) -> None:
    await make_organiser(db)
    token = await page_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": ORGANISER}, token=token)
    reset = link_token(outbox(settings)[-1], "/password/reset")
    form = await client.get(f"/password/reset/{reset}", headers=EN)
    assert 'name="code"' not in form.text
    new = {"password": "brand new secret 42", "password_confirm": "brand new secret 42"}
    done = await post_form(client, f"/password/reset/{reset}", new, token=csrf_token(form.text))
    assert done.status_code == 303


# --- managing it ------------------------------------------------------------------------------------


async def test_new_recovery_codes_need_password_and_code_and_replace_the_old_ones(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    secret, old = await turn_on(db, settings, person_id)
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account/two-factor")
    wrong = await post_form(
        client, "/account/two-factor/recovery-codes", {"password": "nope", "code": code(secret, 1)}, token=token
    )
    assert wrong.status_code == 400 and "This is not your current password." in wrong.text
    done = await post_form(
        client, "/account/two-factor/recovery-codes", {"password": PASSWORD, "code": code(secret, 1)}, token=token
    )
    assert done.status_code == 200
    new = recovery_codes_on_page(done.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert outbox(settings)[-1]["Subject"] == "New recovery codes were created"
    assert "two_factor.recovery_codes_replaced" in await audit_actions(db)

    await client.post("/signout", data={"_csrf_token": token})
    client.cookies.clear()
    await password_then_code_asked(client)
    assert (await code_step(client, old[0], recovery=True)).status_code == 400
    assert (await code_step(client, new[0], recovery=True)).status_code == 303


async def test_turning_off_needs_password_and_code(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    await sign_in_as(client, db, settings, person_id)
    token = await page_token(client, "/account/two-factor")
    no_code = await post_form(client, "/account/two-factor/disable", {"password": PASSWORD, "code": ""}, token=token)
    assert no_code.status_code == 400 and await two_factor_row(db, person_id) is not None
    done = await post_form(
        client, "/account/two-factor/disable", {"password": PASSWORD, "code": code(secret, 1)}, token=token
    )
    assert (done.status_code, done.headers["location"]) == (303, "/account?two_factor=off")
    assert await two_factor_row(db, person_id) is None
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(RecoveryCode))).scalar_one() == 0
    assert outbox(settings)[-1]["Subject"] == "Two-factor sign-in was turned off"
    assert "two_factor.disabled" in await audit_actions(db)
    client.cookies.clear()
    assert (await sign_in(client, ORGANISER)).headers["location"] != "/signin/two-factor"


async def test_every_two_factor_post_needs_the_csrf_token(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    secret, _codes = await turn_on(db, settings, person_id)
    await sign_in_as(client, db, settings, person_id)
    await client.get("/account/two-factor")
    for path in (
        "/account/two-factor/enable",
        "/account/two-factor/recovery-codes",
        "/account/two-factor/disable",
        "/signin/two-factor",
    ):
        response = await post_form(client, path, {"password": PASSWORD, "code": code(secret, 1)}, token="")
        assert response.status_code == 403, path
    assert await two_factor_row(db, person_id) is not None
    assert "two_factor.recovery_codes_replaced" not in await audit_actions(db)


# --- awards that require it -------------------------------------------------------------------------


async def award_with_organiser(db: Database, *, required: bool) -> tuple[int, int]:
    async with db.session() as s:
        award = await import_bundle(s, small_bundle())
        award.organisers_need_two_factor = required
        award_id = award.id
    person_id = await make_person(
        db, "orga@example.org", "Olli", password=PASSWORD, role=Role.ORGANISER, award_id=award_id
    )
    return award_id, person_id


async def test_organiser_without_two_factor_is_sent_to_set_it_up(
    client: Client, db: Database, settings: Settings
) -> None:
    award_id, person_id = await award_with_organiser(db, required=True)
    await sign_in_as(client, db, settings, person_id)
    response = await client.get("/awards/mini-award/entries?status=submitted", headers=EN)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/account/two-factor?award={award_id}&next=%2Fawards%2Fmini-award%2Fentries%3Fstatus%3Dsubmitted"
    )
    page = await client.get(response.headers["location"], headers=EN)
    assert "Mini Award asks its organisers to use two-factor sign-in." in page.text
    assert 'href="/awards/mini-award"' in page.text  # a way back
    # a form sent meanwhile does nothing and leads to the set-up as well
    token = csrf_token(page.text)
    post = await post_form(client, "/awards/mini-award/setup", {"name": "Taken over"}, token=token)
    assert (post.status_code, post.headers["location"]) == (303, f"/account/two-factor?award={award_id}")
    # other pages keep working
    assert (await client.get("/awards/mini-award", headers=EN)).status_code == 200
    account = await client.get("/account", headers=EN)
    assert "An award you organise asks its organisers to use two-factor sign-in." in account.text

    # turning it on through the page, then back to where they were
    secret = secret_on_page(page.text)
    done = await post_form(
        client,
        "/account/two-factor/enable",
        {
            "setup": setup_field(page.text),
            "password": PASSWORD,
            "code": code(secret),
            "next": "/awards/mini-award/entries",
        },
        token=token,
    )
    assert done.status_code == 200 and 'href="/awards/mini-award/entries"' in done.text
    assert (await client.get("/awards/mini-award/entries", headers=EN)).status_code == 200


async def test_organiser_of_an_award_without_the_requirement_is_not_asked(
    client: Client, db: Database, settings: Settings
) -> None:
    _award_id, person_id = await award_with_organiser(db, required=False)
    await sign_in_as(client, db, settings, person_id)
    assert (await client.get("/awards/mini-award/setup", headers=EN)).status_code == 200


async def test_requiring_two_factor_needs_it_on_for_the_organiser_who_asks(
    client: Client, db: Database, settings: Settings
) -> None:
    award_id, person_id = await award_with_organiser(db, required=False)
    await sign_in_as(client, db, settings, person_id)
    page = await client.get("/awards/mini-award/setup/security", headers=EN)
    assert page.status_code == 200 and "Organisers of this award must use two-factor sign-in" in page.text
    refused = await post_form(
        client, "/awards/mini-award/setup/security", {"organisers_need_two_factor": "1"}, token=csrf_token(page.text)
    )
    assert refused.status_code == 400 and "Turn on two-factor sign-in for your own account first." in refused.text
    await turn_on(db, settings, person_id)
    done = await post_form(
        client, "/awards/mini-award/setup/security", {"organisers_need_two_factor": "1"}, token=csrf_token(page.text)
    )
    assert (done.status_code, done.headers["location"]) == (303, "/awards/mini-award/setup/security?saved=1")
    async with db.session() as s:
        award = await s.get(Award, award_id)
        assert award is not None and award.organisers_need_two_factor
        (event,) = (
            await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "award.two_factor_requirement"))
        ).scalars()
    assert (event.before, event.after) == ({"organisers_need_two_factor": False}, {"organisers_need_two_factor": True})
    listed = await client.get("/awards/mini-award/setup/security", headers=EN)
    assert "Olli" in listed.text and "checked" in listed.text


async def test_requirement_does_not_change_the_bundle(db: Database) -> None:
    from award_jury.bundle.services import export_bundle

    async with db.session() as s:
        award = await import_bundle(s, small_bundle())
        before = await export_bundle(s, award.slug)
        award.organisers_need_two_factor = True
        await s.flush()
        after = await export_bundle(s, award.slug)
    assert before == after and "two_factor" not in str(after)


async def test_my_data_says_two_factor_is_on_without_any_secret(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)
    secret, codes = await turn_on(db, settings, person_id)
    await sign_in_as(client, db, settings, person_id)
    response = await client.get("/account/data", headers=EN)
    data = response.json()
    assert data["two_factor"]["on"] is True and data["two_factor"]["recovery_codes_unused"] == 10
    row = await two_factor_row(db, person_id)
    assert row is not None
    for hidden in (secret, row.secret_sealed, codes[0]):
        assert hidden not in response.text


async def test_odd_query_values_on_the_set_up_page_answer_without_error(
    client: Client, db: Database, settings: Settings
) -> None:
    person_id = await make_organiser(db)  # a platform-wide organiser: every award is theirs
    await sign_in_as(client, db, settings, person_id)
    for query in ("award=99999999999999999999", "award=-1", "award=abc", "next=https://evil.example/", "next=//x"):
        response = await client.get(f"/account/two-factor?{query}", headers=EN)
        assert response.status_code in (200, 400), query
        assert "evil.example" not in response.text
