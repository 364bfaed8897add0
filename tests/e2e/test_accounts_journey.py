"""Signing in and out in a real browser: by password and by an e-mail link read from a real
SMTP server, the idle-session warning and its extension, and a dead cookie after sign-out."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from award_jury.accounts.services import create_user
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import load_demo_bundle
from award_jury.enums import Role
from award_jury.migrate import upgrade
from award_jury.settings import Settings
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

ORGANISER_EMAIL, ORGANISER_PASSWORD = "chair@award.example", "Kastanienallee im Herbst"
JUROR_EMAIL = "jana.schroeder@juror.example"  # in the demo bundle, without a password
IDLE_SECONDS = 24  # short, so the idle warning shows within the test


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
async def mail_server(
    make_database_url: Any, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink
) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2eacc")
    db = Database.from_url(url)
    await upgrade(db)
    async with db.session() as session:
        await import_bundle(session, load_demo_bundle())
        await create_user(
            session, email=ORGANISER_EMAIL, name="Clara Chair", role=Role.ORGANISER, password=ORGANISER_PASSWORD
        )
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-accounts")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-accounts-secret-0123456789",
        base_url="http://127.0.0.1:8000",
        smtp_url=smtp.url,
        session_idle_seconds=IDLE_SECONDS,
    )
    server = LiveServer.start(settings)
    # links in mails point at the base URL; the test server listens elsewhere
    yield server
    server.stop()


def link_in(message: Any, path: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"https?://[^\s]+({re.escape(path)}[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


async def sign_in_with_password(page: Any, server: LiveServer) -> None:
    await page.goto(server.url + "/signin")
    await page.fill("#f-email", ORGANISER_EMAIL)
    await page.fill("#f-password", ORGANISER_PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action='/signin'] button[type=submit]")


async def test_password_sign_in_and_sign_out_kills_the_cookie(browser: Any, mail_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await page.goto(mail_server.url + "/signin")
    assert await serious_violations(page) == []
    await sign_in_with_password(page, mail_server)
    assert page.url.endswith("/account")
    assert await page.locator("h1").inner_text() == "Ihr Konto"
    assert await serious_violations(page) == []
    cookies = {c["name"]: c["value"] for c in await ctx.cookies()}
    old_session = cookies["award_jury_session"]

    async with page.expect_navigation():
        await page.get_by_role("button", name="Abmelden", exact=True).click()
    assert await page.get_by_role("link", name="Anmelden").count() == 1

    # The old cookie, replayed in a fresh browser, is refused.
    replay = await browser.new_context(locale="de-DE")
    await replay.add_cookies([{"name": "award_jury_session", "value": old_session, "url": mail_server.url}])
    replay_page = await replay.new_page()
    await replay_page.goto(mail_server.url + "/account")
    assert "/signin?next=%2Faccount" in replay_page.url
    await replay.close()
    await ctx.close()


async def test_sign_in_by_email_link_on_a_phone(browser: Any, mail_server: LiveServer, smtp: SmtpSink) -> None:
    smtp.clear()
    ctx = await browser.new_context(locale="de-DE", viewport=PHONE)
    page = await ctx.new_page()
    await page.goto(mail_server.url + "/signin")
    await page.fill("#l-email", JUROR_EMAIL)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Anmeldelink senden").click()
    assert "Sehen Sie in Ihr E-Mail-Postfach" in await page.locator("h1").inner_text()
    (message,) = await asyncio.to_thread(smtp.wait_for, 1)
    assert message["To"] == JUROR_EMAIL
    assert message["Subject"] == "Ihr Anmeldelink für award_jury"
    link = link_in(message, "/signin/link/")

    await page.goto(mail_server.url + link)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Jetzt anmelden").click()
    assert page.url.endswith("/account")
    assert "Smart Country Startup Award 2026" in await page.locator("main").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_violations(page) == []

    # The same link a second time does not sign anybody in.
    other = await browser.new_context(locale="de-DE")
    other_page = await other.new_page()
    await other_page.goto(mail_server.url + link)
    assert await other_page.locator("h1").inner_text() == "Dieser Link funktioniert nicht mehr"
    await other.close()
    await ctx.close()


async def test_idle_warning_extends_the_session(browser: Any, mail_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    warning = page.locator("#session-warning")
    assert await warning.is_hidden()
    # The warning appears half-way through the idle time, with the focus on its button.
    await warning.wait_for(state="visible", timeout=(IDLE_SECONDS + 5) * 1000)
    assert await serious_violations(page) == []
    button = page.get_by_role("button", name="Angemeldet bleiben")
    assert await button.evaluate("el => el === document.activeElement")
    async with page.expect_response(lambda r: r.url.endswith("/session/extend")) as extended:
        await page.keyboard.press("Enter")
    assert (await extended.value).status == 200
    await warning.wait_for(state="hidden")
    # Past the first deadline the session lives on, because it was extended.
    await page.wait_for_timeout((IDLE_SECONDS // 2 + 3) * 1000)
    await page.reload()
    assert page.url.endswith("/account")
    assert await page.locator("h1").inner_text() == "Ihr Konto"
    await ctx.close()


async def test_people_page_on_a_phone_is_accessible(browser: Any, mail_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="de-DE", viewport=PHONE)
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    await page.goto(mail_server.url + "/awards/smart-country-startup-award-2026/people")
    assert await page.locator("h1").inner_text() == "Personen"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_violations(page) == []
    # an invitation with a mistake comes back with the message beside the field
    await page.fill("#f-name", "Nina Neu")
    await page.fill("#f-email", "nina@")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Einladung senden").click()
    assert "Geben Sie eine gültige E-Mail-Adresse ein" in await page.locator("#f-email-error").inner_text()
    assert await page.get_attribute("#f-email", "aria-invalid") == "true"
    await ctx.close()
