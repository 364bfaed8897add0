"""Jurors score in a real browser: three entries (one with the keyboard only), the network lost in
the middle and back, two tabs of one sheet (a visible choice, nothing overwritten), and a juror on
a phone following a live pitch session that an organiser drives from another browser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.awards.models import Criterion
from award_jury.db import Database, utcnow
from award_jury.enums import Role, SheetStatus
from award_jury.judging.models import Score, ScoreSheet
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle, sheet_path

pytestmark = pytest.mark.browser
SLUG = "jury-e2e"
SAVED = "Saved at"


@pytest.fixture(scope="module")
async def jury(
    make_database_url: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[LiveServer, ScoringWorld, int]]:
    url = make_database_url("e2ejury", migrated=True)
    db = Database.from_url(url)
    async with db.session() as s:
        world = await build_world(s, scoring_bundle(SLUG, entries=5, jurors=3))
        organiser = await get_or_create_person(s, "chair@jury.example", "Clara Chair", "en")
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
        organiser_id = organiser.id
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-jury")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-jury-secret-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
    )
    server = LiveServer.start(settings)
    yield server, world, organiser_id
    server.stop()


async def signed_in_context(browser: Any, server: LiveServer, person_id: int, **options: Any) -> Any:
    db = Database.from_url(server.settings.database_url)
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        token = await start_session(s, person, session_policy(server.settings), utcnow())
    await db.dispose()
    ctx = await browser.new_context(locale="en-GB", **options)
    await ctx.add_cookies([{"name": server.settings.session_cookie_name, "value": token, "url": server.url}])
    return ctx


async def stored(server: LiveServer, juror_id: int, entry_id: int) -> tuple[str | None, dict[str, Decimal], str]:
    db = Database.from_url(server.settings.database_url)
    async with db.session() as s:
        sheet = (
            await s.execute(
                sa.select(ScoreSheet).where(ScoreSheet.juror_id == juror_id, ScoreSheet.entry_id == entry_id)
            )
        ).scalar_one_or_none()
        scores: dict[str, Decimal] = {}
        if sheet is not None:
            rows = await s.execute(
                sa.select(Criterion.key, Score.value)
                .join(Criterion, Criterion.id == Score.criterion_id)
                .where(Score.sheet_id == sheet.id)
            )
            scores = {k: v.normalize() for k, v in rows}
    await db.dispose()
    if sheet is None:
        return None, {}, ""
    return sheet.status.value, scores, sheet.comment


async def wait_saved(page: Any) -> None:
    await page.locator("[data-save-state]", has_text=SAVED).wait_for()


async def test_juror_scores_three_entries_one_by_keyboard_and_survives_going_offline(
    browser: Any, jury: tuple[LiveServer, ScoringWorld, int]
) -> None:
    server, world, _organiser = jury
    juror = world.jurors[0]
    ctx = await signed_in_context(browser, server, juror)
    page = await ctx.new_page()
    await page.goto(server.url + f"/awards/{SLUG}/rounds/pre-selection/jury")
    assert await serious_violations(page) == []
    assert await page.locator(".entry-card").count() == 5

    # 1. E001 with the keyboard only: Tab to the first radio group, arrows to choose, type, Enter.
    await page.goto(server.url + sheet_path(SLUG, "E001"))
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name === 'score-innovation'"):
            break
    else:
        pytest.fail("the first criterion cannot be reached with Tab")
    for _ in range(8):  # from "not scored" to 7
        await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Tab")  # to the next criterion's group
    assert await page.evaluate("document.activeElement.name") == "score-impact"
    for _ in range(14):  # 0, 0.5, ... 6.5
        await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.name") == "comment"
    await page.keyboard.type("Clear problem, strong pilot.")
    total = round(100 * (30 * 0.7 + 25 * 0.65) / 55, 1)
    assert await page.locator("[data-total]").text_content() == f"{total}"
    await wait_saved(page)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Submit"
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "Your sheet is submitted." in await page.locator("main").inner_text()
    assert await serious_violations(page) == []
    assert await stored(server, juror, world.entries["E001"]) == (
        "submitted",
        {"innovation": Decimal("7"), "impact": Decimal("6.5")},
        "Clear problem, strong pilot.",
    )
    # A submitted sheet is read-only: a stray tap changes nothing; "Change my scores" opens it,
    # and a change counts only once submitted again (no autosave of a submitted sheet).
    assert await page.locator("#f-score-innovation input[value='7']").is_disabled()
    await page.locator("#f-score-innovation label.score-choice", has_text="3").click(force=True)
    assert await page.locator("#f-score-innovation input[value='7']").is_checked()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Change my scores").click()
    assert await serious_violations(page) == []
    await page.locator("#f-score-innovation label.score-choice", has_text="8").click()
    await page.locator("[data-save-state]", has_text="submit your changes").wait_for()
    assert (await stored(server, juror, world.entries["E001"]))[1]["innovation"] == Decimal("7")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Submit changes").click()
    assert "Your sheet is submitted." in await page.locator("main").inner_text()
    assert (await stored(server, juror, world.entries["E001"]))[:2] == (
        "submitted",
        {"innovation": Decimal("8"), "impact": Decimal("6.5")},
    )

    # 2. E002: the network goes in the middle; the changes wait in the browser and go out when it is back.
    await page.goto(server.url + sheet_path(SLUG, "E002"))
    await page.locator("#f-score-innovation label.score-choice", has_text="4").first.click()
    await wait_saved(page)
    await ctx.set_offline(True)
    await page.locator("#f-score-impact label.score-choice", has_text="8.5").click()
    await page.fill("#f-comment", "Written in a hall without Wi-Fi.")
    await page.locator("[data-save-state]", has_text="No connection").wait_for()
    kept = await page.evaluate("JSON.parse(localStorage.getItem('award_jury.sheets.v1'))")
    assert [v["fields"]["comment"] for v in kept.values()] == ["Written in a hall without Wi-Fi."]
    assert (await stored(server, juror, world.entries["E002"]))[2] == ""
    await ctx.set_offline(False)
    await wait_saved(page)
    assert await stored(server, juror, world.entries["E002"]) == (
        "draft",
        {"innovation": Decimal("4"), "impact": Decimal("8.5")},
        "Written in a hall without Wi-Fi.",
    )
    assert await page.evaluate("localStorage.getItem('award_jury.sheets.v1')") == "{}"
    async with page.expect_navigation():
        await page.get_by_role("button", name="Submit", exact=True).click()

    # 3. E003 with the mouse, submitted straight away.
    await page.goto(server.url + sheet_path(SLUG, "E003"))
    await page.locator("#f-score-innovation label.score-choice", has_text="10").click()
    await page.locator("#f-score-impact label.score-choice", has_text="3").first.click()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Submit", exact=True).click()
    for ref in ("E002", "E003"):
        assert (await stored(server, juror, world.entries[ref]))[0] == "submitted"
    await page.goto(server.url + f"/awards/{SLUG}/rounds/pre-selection/jury")
    assert "3 of 5 sheets submitted" in await page.locator("main").inner_text()
    await ctx.close()


async def test_two_tabs_of_one_sheet_show_a_visible_choice(
    browser: Any, jury: tuple[LiveServer, ScoringWorld, int]
) -> None:
    server, world, _organiser = jury
    juror = world.jurors[1]
    ctx = await signed_in_context(browser, server, juror)
    first, second = await ctx.new_page(), await ctx.new_page()
    for tab in (first, second):
        await tab.goto(server.url + sheet_path(SLUG, "E004"))
    await first.locator("#f-score-innovation label.score-choice", has_text="5").click()
    await wait_saved(first)
    await second.locator("#f-score-innovation label.score-choice", has_text="2").click()
    panel = second.locator("[data-conflict-panel]")
    await panel.wait_for(state="visible")
    assert "changed in another tab" in await panel.inner_text()
    assert "5" in await panel.locator("[data-theirs]").inner_text()
    assert "2" in await panel.locator("[data-mine]").inner_text()
    assert await serious_violations(second) == []
    assert (await stored(server, juror, world.entries["E004"]))[1] == {
        "innovation": Decimal("5")
    }  # nothing overwritten
    await panel.get_by_role("button", name="Keep my version").click()
    await wait_saved(second)
    assert (await stored(server, juror, world.entries["E004"]))[1] == {"innovation": Decimal("2")}
    # the first tab is stale now: it gets the choice too, and takes the saved version
    await first.fill("#f-comment", "from the first tab")
    await first.locator("[data-conflict-panel]").wait_for(state="visible")
    await first.locator("[data-conflict-panel]").get_by_role("button", name="Use the saved version").click()
    assert await first.locator("#f-score-innovation input[value='2']").is_checked()
    assert await first.input_value("#f-comment") == ""
    assert (await stored(server, juror, world.entries["E004"]))[2] == ""
    await ctx.close()


async def test_phone_juror_follows_a_live_session_driven_by_the_organiser(
    browser: Any, jury: tuple[LiveServer, ScoringWorld, int]
) -> None:
    server, world, organiser = jury
    juror = world.jurors[2]
    phone_ctx = await signed_in_context(browser, server, juror, viewport=PHONE, has_touch=True, is_mobile=True)
    desk_ctx = await signed_in_context(browser, server, organiser)
    phone, desk = await phone_ctx.new_page(), await desk_ctx.new_page()
    await phone.goto(server.url + f"/awards/{SLUG}/rounds/pre-selection/live")
    await phone.evaluate("window.__notReloaded = true")
    assert "The session has not started yet." in await phone.locator("main").inner_text()
    await phone.locator("[data-connection]", has_text="live").wait_for()

    await desk.goto(server.url + f"/awards/{SLUG}/rounds/pre-selection/live/control")
    assert await serious_violations(desk) == []
    async with desk.expect_navigation():
        await desk.get_by_role("button", name="Start with the first entry").click()
    await phone.locator("form[data-sheet][data-entry='E001']").wait_for()
    assert await phone.evaluate("window.__notReloaded === true")
    assert "E001 – Startup 1 GmbH" in await phone.locator("[data-stage-name]").inner_text()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await serious_violations(phone) == []

    await phone.locator("#f-score-innovation label.score-choice", has_text="9").tap()
    await phone.locator("#f-score-impact label.score-choice", has_text="7").first.tap()
    await wait_saved(phone)
    async with desk.expect_navigation():
        await desk.get_by_role("button", name="Next entry").click()
    await phone.locator("form[data-sheet][data-entry='E002']").wait_for()
    assert await phone.evaluate("window.__notReloaded === true")
    assert "E001 – Startup 1 GmbH" in await phone.locator("#earlier-heading + p + ul").inner_text()
    assert (await stored(server, juror, world.entries["E001"]))[1] == {
        "innovation": Decimal("9"),
        "impact": Decimal("7"),
    }

    # the juror submits E002 on the phone; the organiser's page shows it without a reload
    await desk.evaluate("window.__notReloaded = true")
    await phone.locator("#f-score-innovation label.score-choice", has_text="6").tap()
    await phone.locator("#f-score-impact label.score-choice", has_text="6").first.tap()
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Submit", exact=True).tap()
    assert "/live" in phone.url and "Your sheet is submitted." in await phone.locator("main").inner_text()
    await desk.locator("[data-jurors] tr", has_text="Juror 3").filter(has_text="Submitted").wait_for()
    assert await desk.evaluate("window.__notReloaded === true")
    # going back to an earlier entry is still possible
    await phone.get_by_role("link", name="E001 – Startup 1 GmbH").tap()
    await phone.wait_for_url("**/jury/entries/E001")
    assert await phone.locator("#f-score-innovation input[value='9']").is_checked()
    await asyncio.gather(phone_ctx.close(), desk_ctx.close())
    assert (await stored(server, juror, world.entries["E002"]))[0] == SheetStatus.SUBMITTED.value


async def test_the_live_page_stops_following_the_stage_after_sign_out(
    browser: Any, jury: tuple[LiveServer, ScoringWorld, int]
) -> None:
    """Signing out in another tab ends the live stream, and the live page says so (with a link to
    sign in again) instead of reconnecting and polling on."""
    server, world, _organiser = jury
    ctx = await signed_in_context(browser, server, world.jurors[1])
    live_path = f"/awards/{SLUG}/rounds/pre-selection/live"
    live, other = await ctx.new_page(), await ctx.new_page()
    state_requests: list[str] = []
    live.on("request", lambda r: state_requests.append(r.url) if "/live/state" in r.url else None)
    await live.goto(server.url + live_path)
    await live.locator("[data-connection]", has_text="live").wait_for()

    await other.goto(server.url + "/account")
    async with other.expect_navigation():
        await other.get_by_role("button", name="Sign out", exact=True).click()

    notice = live.locator("[data-connection]", has_text="You are signed out")
    await notice.wait_for()
    link = notice.get_by_role("link", name="Sign in")
    assert await link.get_attribute("href") == "/signin?next=" + live_path.replace("/", "%2F")
    assert await serious_violations(live, look=False) == []
    asked = len(state_requests)
    await live.wait_for_timeout(8000)  # longer than the stream's retry (2 s) and a poll's pause (5 s)
    assert len(state_requests) == asked, state_requests[asked:]
    await ctx.close()
