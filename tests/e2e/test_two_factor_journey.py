"""Two-factor sign-in in a real browser: setting it up from the account page (QR code, key,
code, recovery codes with their .txt download), then signing in with password and code, a wrong
code on the way; the management page and the award's security page. axe-core and the look
harness check every page in both languages at 360 and 1280 px (screenshots under test-results/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from award_jury.accounts import totp
from tests.e2e.conftest import ORGANISER_PASSWORD, sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.look import DESKTOP, LANGUAGE_COOKIE, LOOK, SCREENSHOTS, sticking_out

pytestmark = pytest.mark.browser

AWARD = "smart-country-startup-award-2026"


class Codes:
    """Codes of the app, never one of a time step used already (the server refuses replays)."""

    def __init__(self, secret: str) -> None:
        self.key = totp.secret_bytes(secret)
        self.last = -1

    def next(self) -> str:
        step = max(totp.time_step(time.time()), self.last + 1)
        self.last = step
        return totp.hotp(self.key, step)

    def wrong(self) -> str:
        return str((int(self.next_peek()) + 1) % 1_000_000).zfill(6)

    def next_peek(self) -> str:
        return totp.hotp(self.key, max(totp.time_step(time.time()), self.last + 1))


async def shoot(page: Any, name: str) -> None:
    """Screenshots of a page that only a POST shows (the look harness reloads pages by GET)."""
    if not LOOK.enabled:
        return
    folder = SCREENSHOTS / LOOK.run / "two_factor"
    folder.mkdir(parents=True, exist_ok=True)
    for viewport in (PHONE, DESKTOP):
        await page.set_viewport_size(viewport)
        await page.screenshot(path=str(folder / f"{name}-{viewport['width']}.png"), full_page=True)
        assert await sticking_out(page) == [], name
    await page.set_viewport_size(DESKTOP)


async def test_set_up_two_factor_then_sign_in_with_a_code(browser: Any, mail_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="de-DE", viewport=DESKTOP, accept_downloads=True)
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    assert page.url.endswith("/account")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Zwei-Faktor-Anmeldung einrichten").click()
    assert await page.locator("h1").inner_text() == "Zwei-Faktor-Anmeldung"
    qr = page.get_by_role("img", name="QR-Code für Ihre Authenticator-App")
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn despite the strict CSP
    assert await serious_violations(page) == []

    codes = Codes((await page.locator(".secret-key code").inner_text()).replace(" ", ""))
    await page.get_by_label("6-stelliger Code aus der App").fill(codes.wrong())
    await page.get_by_label("Ihr Passwort").fill(ORGANISER_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Zwei-Faktor-Anmeldung einschalten").click()
    assert "Dieser Code ist nicht richtig" in await page.locator(".error-summary").inner_text()
    assert await serious_violations(page, look=False) == []

    await page.get_by_label("6-stelliger Code aus der App").fill(codes.next())
    await page.get_by_label("Ihr Passwort").fill(ORGANISER_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Zwei-Faktor-Anmeldung einschalten").click()
    # (a soft hyphen lets the long word break on a phone)
    assert (await page.locator("h1").inner_text()).replace("\xad", "") == "Ihre Wiederherstellungscodes"
    recovery = await page.locator(".recovery-codes code").all_inner_texts()
    assert len(recovery) == 10
    assert await serious_violations(page, look=False) == []
    await shoot(page, "recovery-codes-de")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Als .txt herunterladen").click()
    download = await download_info.value
    assert download.suggested_filename == "award-jury-recovery-codes.txt"
    text = Path(await download.path()).read_text(encoding="utf-8")
    assert all(code in text for code in recovery)

    # Signing in again: the password, then the code (a wrong one first).
    async with page.expect_navigation():
        await page.get_by_role("button", name="Abmelden", exact=True).click()
    await sign_in_with_password(page, mail_server)
    assert page.url.endswith("/signin/two-factor")
    assert "award_jury_session" not in {c["name"] for c in await ctx.cookies()}
    assert await serious_violations(page) == []
    await page.get_by_label("6-stelliger Code").first.fill(codes.wrong())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Weiter").click()
    assert "Dieser Code ist nicht richtig" in await page.locator(".field-error").first.inner_text()
    assert await serious_violations(page, look=False) == []
    await shoot(page, "code-step-error-de")
    await page.get_by_label("6-stelliger Code").first.fill(codes.next())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Weiter").click()
    assert page.url.endswith("/account")
    assert "award_jury_session" in {c["name"] for c in await ctx.cookies()}

    # The management page and new recovery codes (in English, with a recovery code), on a phone.
    await ctx.add_cookies([{"name": LANGUAGE_COOKIE, "value": "en", "url": mail_server.url}])
    await page.goto(mail_server.url + "/account/two-factor")
    assert "You have 10 unused recovery codes." in await page.locator("main").inner_text()
    assert await serious_violations(page, look=False) == []  # (the look harness saw this page during set-up)
    await shoot(page, "manage-en")
    await page.set_viewport_size(PHONE)
    form = page.locator("form[action='/account/two-factor/recovery-codes']")
    await form.get_by_label("Your password").fill(ORGANISER_PASSWORD)
    await form.get_by_label("Code from your authenticator app").fill(recovery[0])
    async with page.expect_navigation():
        await form.get_by_role("button", name="Create new recovery codes").click()
    assert await page.locator("h1").inner_text() == "Your recovery codes"
    assert recovery[0] not in await page.locator("main").inner_text()
    assert await serious_violations(page, look=False) == []
    await shoot(page, "recovery-codes-en")

    # The set-up page names the rule; the award's security page (the look harness clicks its
    # checkbox in a tab that cannot post).
    await page.goto(mail_server.url + f"/awards/{AWARD}/setup")
    assert "may sign in without two-factor sign-in" in await page.locator("main").inner_text()
    assert await serious_violations(page) == []
    await page.goto(mail_server.url + f"/awards/{AWARD}/setup/security")
    assert await serious_violations(page) == []
    await ctx.close()
