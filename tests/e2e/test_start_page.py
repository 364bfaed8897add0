"""The start page in a real browser: both languages, a phone-sized screen, keyboard, axe-core."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import PHONE, LiveServer, serious_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "heading", "badge"), [("de", "Wettbewerbe", "Jury bewertet"), ("en", "Awards", "Jury at work")]
)
async def test_start_page_loads_without_serious_axe_violations(
    browser: Any, live_server: LiveServer, locale: str, heading: str, badge: str
) -> None:
    ctx = await browser.new_context(locale=locale, viewport=PHONE)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = await page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert await page.get_attribute("html", "lang") == locale
    assert await page.locator("h1").inner_text() == heading
    assert badge in await page.locator("main").inner_text()
    # nothing wider than the 360 px screen
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_violations(page) == []
    assert errors == []  # e.g. no Content-Security-Policy violations
    await ctx.close()


async def test_language_switch_by_keyboard(context: Any, live_server: LiveServer) -> None:
    page = await context.new_page()
    await page.goto(live_server.url + "/")
    assert await page.get_attribute("html", "lang") == "de"
    await page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert await skip.evaluate("el => el === document.activeElement")
    await page.get_by_role("button", name="English").focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.locator("h1").inner_text() == "Awards"


async def test_award_page_has_no_serious_axe_violations(context: Any, live_server: LiveServer) -> None:
    page = await context.new_page()
    await page.goto(live_server.url + "/awards/smart-country-startup-award-2026")
    assert "Smart City" in await page.locator("main").inner_text()
    await page.locator("details summary").first.click()
    assert await serious_violations(page) == []
