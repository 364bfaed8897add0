"""Signing in and out in a real browser: by password and by an e-mail link read from a real
SMTP server, the idle-session warning and its extension, and a dead cookie after sign-out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import IDLE_SECONDS, JUROR_EMAIL, link_in, sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


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
    assert "Bitte sehen Sie in Ihrem E-Mail-Postfach nach" in await page.locator("h1").inner_text()
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
    """The page's clock is Playwright's, so nothing waits in real time: the warning shows half-way
    through the idle time with the focus on its button, and Enter extends the session on the server
    (its new deadline is later than the first; that the server then keeps the session past the first
    deadline is tests/integration/test_accounts.py's job, with the database clock moved)."""
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await page.clock.install()
    await sign_in_with_password(page, mail_server)
    warning = page.locator("#session-warning")
    first_deadline = datetime.fromisoformat(await warning.get_attribute("data-deadline"))
    await page.clock.run_for((IDLE_SECONDS // 2 - 2) * 1000)
    assert await warning.is_hidden()
    await page.clock.run_for(3 * 1000)
    await warning.wait_for(state="visible")
    assert await serious_violations(page) == []
    button = page.get_by_role("button", name="Angemeldet bleiben")
    assert await button.evaluate("el => el === document.activeElement")
    await page.clock.set_system_time(datetime.now(UTC))  # back in step with the server's clock
    async with page.expect_response(lambda r: r.url.endswith("/session/extend")) as extended:
        await page.keyboard.press("Enter")
    response = await extended.value
    assert response.status == 200
    assert datetime.fromisoformat((await response.json())["expires_at"]) > first_deadline
    await warning.wait_for(state="hidden")
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
