"""Every organiser page of the demo award, on a 360 px phone and a 1280 px screen and in both
languages: no serious axe-core violation (checked at 360 px), nothing wider than the screen, every radio and checkbox
visibly changes when chosen and every button looks like a button."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.look import flat_buttons, invisible_choices

pytestmark = [pytest.mark.browser, pytest.mark.once]  # (what is drawn does not depend on the database)

AWARD = "/awards/smart-country-startup-award-2026"
ROUND = f"{AWARD}/rounds/vorauswahl"
PAGES = [
    f"{AWARD}/setup",
    f"{AWARD}/people",
    f"{AWARD}/conflicts",
    ROUND,
    f"{ROUND}/assignments?k=3",
    f"{ROUND}/progress",
    f"{ROUND}/advance?top=2",
    f"{ROUND}/results",
    f"{ROUND}/results/entries/E005",
    f"{AWARD}/results",
    f"{AWARD}/entries",
    f"{AWARD}/entries?status=submitted&category=govtech",
    f"{AWARD}/anonymise",
    f"{AWARD}/call",
    "/entries/1",  # the demo's first entry, as its organiser sees it (eligibility form)
    "/privacy",
    "/awards/new",
    "/account",
    "/account/password",
]


DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
async def test_organiser_pages_fit_the_screen_look_right_and_pass_axe(
    browser: Any, mail_server: LiveServer, locale: str, viewport: dict[str, int]
) -> None:
    ctx = await browser.new_context(locale=locale, viewport=viewport)
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    if locale.startswith("en"):
        async with page.expect_navigation():
            await page.get_by_role("button", name="English").click()
    problems = []
    for path in PAGES:
        response = await page.goto(mail_server.url + path)
        assert response is not None
        if response.status != 200:
            problems.append(f"{path}: status {response.status}")
            continue
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            wide = await page.evaluate(
                """(limit) => [...document.querySelectorAll('main *')]
                    .filter(el => el.getBoundingClientRect().right > limit)
                    .slice(0, 3)
                    .map(el => el.tagName + '.' + el.className + ' ' + (el.textContent || '').slice(0, 40))""",
                viewport["width"],
            )
            problems.append(f"{path}: {width} px wide ({wide})")
        if viewport is PHONE:  # axe's findings do not depend on the width; it runs once per language
            problems += [f"{path}: {v}" for v in await serious_violations(page, look=False)]
        problems += [f"{path}: {v}" for v in await flat_buttons(page)]
        problems += [f"{path}: {v}" for v in await invisible_choices(page)]
    assert problems == []
    await ctx.close()
