"""The apply-link form: it cannot put text of a stranger's choice into a
platform e-mail, and it creates no account until the link in the mail is used."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.db import Database
from award_jury.settings import Settings
from tests.support.accounts import mail_parts, outbox, page_token, post_form
from tests.support.apps import app_client, shared_app
from tests.support.entries import freeze_clock
from tests.support.setup_helpers import field_errors, import_small

SLUG = "mini-award"
APPLY = f"/awards/{SLUG}/apply/link"


@pytest.fixture
async def client(settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    await import_small(db, SLUG)
    freeze_clock(monkeypatch)
    async with app_client(shared_app(settings, db)) as c:
        yield c


async def people(db: Database, email: str) -> list[Person]:
    async with db.session() as s:
        return list((await s.execute(sa.select(Person).where(Person.email == email))).scalars())


def apply_link_in(text: str) -> str:
    found = re.search(r"http://testserver\.local(/signin/link/[A-Za-z0-9_-]+)\?next=\S+", text)
    assert found, text
    return found.group(1)


@pytest.mark.parametrize(
    "name",
    [
        "Win a prize at https://evil.example now",
        "Call +49 30 1234567 to confirm your account",
        "Nina\u202eueN",
        "x" * 101,
        "Dear customer: your account is blocked. Visit evil.example",
    ],
)
async def test_a_name_that_is_no_name_is_refused(client: httpx.AsyncClient, settings: Settings, name: str) -> None:
    token = await page_token(client, f"/awards/{SLUG}/apply")
    answer = await post_form(client, APPLY, {"email": "victim@example.org", "name": name}, token=token)
    assert answer.status_code == 400
    assert set(field_errors(answer.text)) == {"f-name"}
    assert outbox(settings) == []


async def test_the_mail_greets_nobody_by_name_and_the_account_waits_for_the_link(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await page_token(client, f"/awards/{SLUG}/apply")
    for name in ("Nina Neu", "Jean-Luc O'Brien"):
        sent = await post_form(client, APPLY, {"email": "nina@startup.example", "name": name}, token=token)
        assert sent.status_code == 200
    assert await people(db, "nina@startup.example") == []  # nothing stored on request
    mails = outbox(settings)
    assert len(mails) == 2
    for mail in mails:
        text, html = mail_parts(mail)
        assert "Nina" not in text + html and "Jean-Luc" not in text + html
        assert text.startswith("Hello,")

    link = apply_link_in(mail_parts(mails[-1])[0])
    assert (await client.get(link)).status_code == 200
    assert await people(db, "nina@startup.example") == []  # opening the link is not using it
    used = await post_form(client, link, {"next": f"/awards/{SLUG}/apply"}, token=await page_token(client, "/"))
    assert used.status_code == 303 and used.headers["location"] == f"/awards/{SLUG}/apply"
    [person] = await people(db, "nina@startup.example")
    assert person.name == "Jean-Luc O'Brien"

    # Each link works once; the older one no longer does, now that the account exists.
    older = apply_link_in(mail_parts(mails[0])[0])
    client.cookies.clear()
    again = await post_form(client, link, {"next": ""}, token=await page_token(client, "/"))
    assert again.status_code == 400
    assert (await post_form(client, older, {"next": ""}, token=await page_token(client, "/"))).status_code == 400
    assert len(await people(db, "nina@startup.example")) == 1


async def test_a_forged_or_altered_link_is_refused(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    token = await page_token(client, f"/awards/{SLUG}/apply")
    await post_form(client, APPLY, {"email": "nina@startup.example", "name": "Nina Neu"}, token=token)
    link = apply_link_in(mail_parts(outbox(settings)[0])[0])
    altered = link[:-5] + ("AAAAA" if not link.endswith("AAAAA") else "BBBBB")
    assert (await client.get(altered)).status_code == 400
    used = await post_form(client, altered, {"next": ""}, token=await page_token(client, "/"))
    assert used.status_code == 400
    assert await people(db, "nina@startup.example") == []
