"""A personal API token in a real browser, on a phone: created on the account page, shown once,
used against the API, revoked; the account page, the token's page and /api/docs pass axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations

pytestmark = pytest.mark.browser


async def test_token_created_used_and_revoked_on_a_phone(browser: Any, mail_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="en-GB", viewport=PHONE)
    await ctx.add_cookies([{"name": "award_jury_lang", "value": "en", "url": mail_server.url}])
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    await page.goto(mail_server.url + "/account#tokens-heading")
    assert await serious_violations(page) == []

    await page.fill("#t-label", "Phone test")
    await page.fill("#t-expires_days", "7")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Create token").click()
    token = await page.locator("#new-token").input_value()
    assert re.fullmatch(r"awj_[A-Za-z0-9_-]{43}", token)
    # (the answer of a POST: the look check, which loads the page again in other sizes, cannot visit it)
    assert await serious_violations(page, look=False) == []

    api = mail_server.url + "/api/v1/me/entries"
    used = await ctx.request.get(api, headers={"authorization": f"Bearer {token}"})
    assert used.status == 200

    await page.goto(mail_server.url + "/account")
    assert token not in await page.content()
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"Revoke token {token[:12]}…").click()
    assert await page.get_by_role("status").filter(has_text="The token is revoked.").count() == 1
    refused = await ctx.request.get(api, headers={"authorization": f"Bearer {token}"})
    assert refused.status == 401

    await page.goto(mail_server.url + "/api/docs")
    assert await page.locator("h1").inner_text() == "API documentation"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_violations(page) == []
    await ctx.close()
