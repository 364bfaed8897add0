"""What a score sheet keeps and sends, in a real browser: changes kept offline on a shared device
stay with their person, and a Submit pressed before the autosave is due is not refused as stale."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from award_jury.accounts.models import Person
from award_jury.accounts.sessions import start_session
from award_jury.db import Database, utcnow
from award_jury.web.auth import session_policy
from tests.e2e.test_scoring_journey import SLUG, jury, signed_in_context, stored  # noqa: F401  (jury: fixture)
from tests.support.browser import LiveServer
from tests.support.scoring import ScoringWorld, sheet_path

pytestmark = pytest.mark.browser


async def switch_person(ctx: Any, server: LiveServer, person_id: int) -> None:
    """Another person signs in on the same browser (a shared laptop at the jury meeting)."""
    db = Database.from_url(server.settings.database_url)
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        token = await start_session(s, person, session_policy(server.settings), utcnow())
    await db.dispose()
    await ctx.clear_cookies()
    await ctx.add_cookies([{"name": server.settings.session_cookie_name, "value": token, "url": server.url}])


async def test_changes_kept_on_a_shared_device_never_reach_another_jurors_sheet(
    browser: Any,
    jury: tuple[LiveServer, ScoringWorld, int],  # noqa: F811
) -> None:
    server, world, _organiser = jury
    first, second = world.jurors[0], world.jurors[1]
    ctx = await signed_in_context(browser, server, first)
    page = await ctx.new_page()
    await page.goto(server.url + sheet_path(SLUG, "E005"))
    await ctx.set_offline(True)
    await page.fill("#f-private_note", "FIRST JUROR'S PRIVATE NOTE")
    await page.locator("[data-save-state]", has_text="No connection").wait_for()
    await page.close()
    await ctx.set_offline(False)

    await switch_person(ctx, server, second)
    page = await ctx.new_page()
    await page.goto(server.url + sheet_path(SLUG, "E004"))  # a sheet page sends what is kept for other sheets
    await page.wait_for_timeout(2000)
    await page.goto(server.url + sheet_path(SLUG, "E005"))
    await page.wait_for_timeout(2500)
    assert await page.input_value("#f-private_note") == ""
    assert await stored(server, second, world.entries["E005"]) == (None, {}, "")
    assert await stored(server, second, world.entries["E004"]) == (None, {}, "")

    # back on the first juror's account, the kept note is still there and is sent
    await switch_person(ctx, server, first)
    await page.goto(server.url + sheet_path(SLUG, "E005"))
    await page.locator("[data-save-state]", has_text="Saved at").wait_for()
    assert await page.input_value("#f-private_note") == "FIRST JUROR'S PRIVATE NOTE"
    await ctx.close()


async def test_submit_pressed_before_the_autosave_is_due_is_not_refused_as_stale(
    browser: Any,
    jury: tuple[LiveServer, ScoringWorld, int],  # noqa: F811
) -> None:
    server, world, _organiser = jury
    juror = world.jurors[2]
    ctx = await signed_in_context(browser, server, juror)
    page = await ctx.new_page()
    path = sheet_path(SLUG, "E003")

    async def slow_form_post(route: Any) -> None:  # a slow hall network: the post takes a while
        if route.request.method == "POST":
            await asyncio.sleep(2.5)
        await route.continue_()

    await page.route(server.url + path, slow_form_post)
    await page.goto(server.url + path)
    await page.locator("#f-score-innovation label.score-choice", has_text="5").first.click()
    await page.locator("#f-score-impact label.score-choice", has_text="5").first.click()
    async with page.expect_navigation(timeout=15000):
        await page.get_by_role("button", name="Submit", exact=True).click()
    text = await page.locator("main").inner_text()
    assert "changed in another tab" not in text
    assert "Your sheet is submitted." in text
    assert (await stored(server, juror, world.entries["E003"]))[0] == "submitted"
    await ctx.close()
