"""Personal API tokens (SPEC §5): created on the account page and by ``award-jury api-token create``,
shown once, stored only as a SHA-256 with a prefix, listed, revoked, audited."""

from __future__ import annotations

import hashlib
import re

import httpx
import sqlalchemy as sa

from award_jury.accounts.models import ApiToken
from award_jury.audit.models import AuditEvent
from award_jury.db import Database
from award_jury.settings import Settings
from tests.integration.test_cli import Cli, cli  # noqa: F401 (the fixture)
from tests.support.accounts import make_person, page_token, post_form, sign_in_as

TOKEN = re.compile(r"awj_[A-Za-z0-9_-]{43}")


async def tokens_of(db: Database, person_id: int) -> list[ApiToken]:
    async with db.session() as s:
        return list((await s.execute(sa.select(ApiToken).where(ApiToken.person_id == person_id))).scalars())


async def create_on_page(client: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    token = await page_token(client, "/account")
    return await post_form(client, "/account/tokens", data, token=token)


async def test_token_created_on_account_page_is_shown_once_and_stored_as_hash(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    person_id = await make_person(db, "ada@example.org", "Ada Lovelace")
    await sign_in_as(client, db, settings, person_id)

    created = await create_on_page(client, {"label": "CRM sync", "expires_days": "30"})

    assert created.status_code == 201
    shown = TOKEN.findall(created.text)
    assert len(set(shown)) == 1
    token = shown[0]
    assert created.headers["cache-control"] == "no-store"
    [row] = await tokens_of(db, person_id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.prefix, row.label) == (token[:12], "CRM sync")
    assert row.expires_at is not None and 29 <= (row.expires_at - row.created_at).days <= 30
    account = await client.get("/account", headers={"accept-language": "en"})
    assert token not in account.text  # never again
    assert f"{row.prefix}…" in account.text and "CRM sync" in account.text
    async with db.session() as s:
        events = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "api_token.created"))).scalars()
        [event] = list(events)
    assert (event.actor_id, event.after["prefix"], event.after["via"]) == (person_id, row.prefix, "account")


async def test_token_form_with_bad_expiry_comes_back_with_message(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    person_id = await make_person(db, "ada@example.org", "Ada Lovelace")
    await sign_in_as(client, db, settings, person_id)

    for days in ("0", "-3", "1e9", "99999", "zwei"):
        response = await create_on_page(client, {"label": "x", "expires_days": days})
        assert response.status_code == 400, days
        assert "Enter a whole number of days from 1 to 3650" in response.text
        assert f'value="{days}"' in response.text
    long_label = await create_on_page(client, {"label": "l" * 101})
    assert long_label.status_code == 400 and "Use at most 100 characters." in long_label.text
    assert await tokens_of(db, person_id) == []


async def test_token_revoked_on_account_page_stays_listed_as_revoked(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    person_id = await make_person(db, "ada@example.org", "Ada Lovelace")
    await sign_in_as(client, db, settings, person_id)
    await create_on_page(client, {"label": "old script"})
    [row] = await tokens_of(db, person_id)

    csrf = await page_token(client, "/account")
    revoked = await post_form(client, f"/account/tokens/{row.id}/revoke", token=csrf)

    assert (revoked.status_code, revoked.headers["location"]) == (303, "/account?token_revoked=1#tokens-heading")
    [row] = await tokens_of(db, person_id)
    assert row.revoked_at is not None
    page = await client.get(revoked.headers["location"], headers={"accept-language": "en"})
    assert "Revoked" in page.text and "The token is revoked." in page.text
    assert f"Revoke token {row.prefix}" not in page.text


async def test_someone_elses_token_cannot_be_revoked(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    owner = await make_person(db, "ada@example.org", "Ada Lovelace")
    other = await make_person(db, "bob@example.org", "Bob Builder")
    await sign_in_as(client, db, settings, owner)
    await create_on_page(client, {"label": "mine"})
    [row] = await tokens_of(db, owner)
    client.cookies.clear()
    await sign_in_as(client, db, settings, other)

    csrf = await page_token(client, "/account")
    response = await post_form(client, f"/account/tokens/{row.id}/revoke", token=csrf)

    assert response.status_code == 404
    [row] = await tokens_of(db, owner)
    assert row.revoked_at is None


def test_cli_creates_token_once_and_refuses_unknown_person(cli: Cli) -> None:  # noqa: F811 (the fixture)
    assert cli("create-user", "--email", "ada@example.org", "--name", "Ada", "--role", "juror").code == 0

    done = cli("api-token", "create", "--email", "Ada@Example.org", "--label", "nightly", "--expires-days", "7")
    unknown = cli("api-token", "create", "--email", "nobody@example.org")
    bad_days = cli("api-token", "create", "--email", "ada@example.org", "--expires-days", "0")

    assert done.code == 0 and TOKEN.fullmatch(done.out.strip())
    assert (unknown.code, unknown.out) == (1, "")
    assert unknown.err_lines == ["award-jury: error: there is no person with the e-mail address 'nobody@example.org'"]
    assert bad_days.code == 2
