"""The organiser's webhook pages in a real browser, in German and English, on a 360 px phone
and a 1280 px screen: a refused address shows its message beside the field, an added endpoint
shows its secret once, and a test event is picked up by the server's own background loop (the
lifespan of ``serve``) and shows in the delivery log. Screenshots go to /tmp/shots-webhooks/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
from tests.e2e.conftest import ORGANISER_EMAIL, ORGANISER_PASSWORD, sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.look import flat_buttons, invisible_choices
from tests.support.webhooks import free_port

pytestmark = [pytest.mark.browser, pytest.mark.once]

AWARD = "/awards/smart-country-startup-award-2026"
SHOTS = Path("/tmp/shots-webhooks")
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
async def hook_server(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2ehooks")
    db = Database.from_url(url)
    await upgrade(db)
    async with db.session() as session:
        await import_bundle(session, load_demo_bundle())
        await create_user(
            session, email=ORGANISER_EMAIL, name="Clara Chair", role=Role.ORGANISER, password=ORGANISER_PASSWORD
        )
    await db.dispose()
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("e2e-hooks"),
        secret_key="e2e-hooks-secret-0123456789abc",
        base_url="http://127.0.0.1:8000",
        webhooks_allow_private=True,  # the receiver is on 127.0.0.1 (and nothing listens there)
    )
    server = LiveServer.start(settings)
    yield server
    server.stop()


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def looks_right(page: Any, width: int) -> list[str]:
    problems = []
    if await page.evaluate("document.documentElement.scrollWidth") > width:
        wide = await page.evaluate(
            """(limit) => [...document.querySelectorAll('main *')]
                .filter(el => el.getBoundingClientRect().right > limit)
                .slice(0, 3)
                .map(el => el.tagName + '.' + el.className + ' ' + (el.textContent || '').slice(0, 40))""",
            width,
        )
        problems.append(f"{page.url}: wider than {width} px: {wide}")
    problems += await flat_buttons(page)
    problems += await invisible_choices(page)
    if width == PHONE["width"]:
        problems += await serious_violations(page, look=False)
    return problems


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
async def test_webhook_pages_in_a_browser(
    browser: Any, hook_server: LiveServer, locale: str, viewport: dict[str, int]
) -> None:
    lang, tag = locale[:2], f"{locale[:2]}-{viewport['width']}"
    ctx = await browser.new_context(locale=locale, viewport=viewport)
    page = await ctx.new_page()
    await sign_in_with_password(page, hook_server)
    if lang == "en":
        async with page.expect_navigation():
            await page.get_by_role("button", name="English").click()
    await page.goto(hook_server.url + f"{AWARD}/setup")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Webhooks").click()
    problems = await looks_right(page, viewport["width"])

    # an http address: refused, with the message beside the field
    await page.fill("#nw-url", "http://crm.example.org/hooks")
    async with page.expect_navigation():
        await page.click("form[action$='/webhooks'] button[type=submit]")
    error = page.locator("#nw-url-error")
    assert "https://" in (await error.inner_text())
    assert await page.get_attribute("#nw-url", "aria-invalid") == "true"
    await shot(page, f"list-error-{tag}")

    receiver = f"https://127.0.0.1:{free_port()}/hooks/{tag}"
    await page.fill("#nw-url", receiver)
    await page.fill("#nw-description", "CRM")
    async with page.expect_navigation():
        await page.click("form[action$='/webhooks'] button[type=submit]")
    secret = (await page.locator("#secret").inner_text()).strip()
    assert secret.startswith("whsec_")
    problems += await looks_right(page, viewport["width"])
    await shot(page, f"endpoint-new-{tag}")

    test_button = "Testereignis senden" if lang == "de" else "Send a test event"
    async with page.expect_navigation():
        await page.get_by_role("button", name=test_button).click()
    assert secret not in await page.content()
    # the server's background loop tries it within a few seconds: nothing listens, so it will retry
    retrying = "Wird wiederholt" if lang == "de" else "Retrying"
    for _ in range(40):
        if retrying in await page.locator("#log").inner_text():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    log = await page.locator("#log").inner_text()
    assert retrying in log and "webhook.test" in log
    problems += await looks_right(page, viewport["width"])
    await shot(page, f"endpoint-log-{tag}")

    await page.goto(hook_server.url + f"{AWARD}/webhooks")
    assert receiver in await page.content()
    await shot(page, f"list-{tag}")
    assert problems == [], "\n".join(problems)
    await ctx.close()
