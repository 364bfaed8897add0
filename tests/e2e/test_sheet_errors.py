"""A score the server refuses during autosave: the message the script shows belongs to its field
(an id, aria-describedby, aria-invalid on the input) and goes away once the value is fixed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from award_jury.accounts.models import Person
from award_jury.accounts.sessions import start_session
from award_jury.db import Database, utcnow
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.browser import LiveServer, serious_violations
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle, sheet_path

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def wide_scale(
    make_database_url: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[LiveServer, ScoringWorld]]:
    url = make_database_url("e2esheeterr", migrated=True)
    db = Database.from_url(url)
    doc = scoring_bundle("wide-scale", entries=1, jurors=1)
    doc["award"]["rounds"][0]["criteria"][0]["max"] = 100  # 101 values: a number field, not radios
    async with db.session() as s:
        world = await build_world(s, doc)
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-sheet-errors")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-sheet-errors-0123456789abc",
        base_url="http://127.0.0.1:8000",
    )
    server = LiveServer.start(settings)
    yield server, world
    server.stop()


async def test_an_autosave_error_is_tied_to_its_field(
    browser: Any, wide_scale: tuple[LiveServer, ScoringWorld]
) -> None:
    server, world = wide_scale
    db = Database.from_url(server.settings.database_url)
    async with db.session() as s:
        person = await s.get(Person, world.jurors[0])
        assert person is not None
        token = await start_session(s, person, session_policy(server.settings), utcnow())
    await db.dispose()
    ctx = await browser.new_context(locale="en-GB")
    await ctx.add_cookies(
        [
            {"name": server.settings.session_cookie_name, "value": token, "url": server.url},
            {"name": "award_jury_lang", "value": "en", "url": server.url},
        ]
    )
    page = await ctx.new_page()
    await page.goto(server.url + sheet_path(world.slug, "E001"))
    field = page.locator("#i-score-innovation")
    await field.fill("101")
    error = page.locator("#f-score-innovation-error")
    await error.wait_for(timeout=10_000)
    assert "from 0 to 100" in await error.inner_text()
    assert "f-score-innovation-error" in (await field.get_attribute("aria-describedby") or "").split()
    assert await field.get_attribute("aria-invalid") == "true"
    assert await serious_violations(page) == []
    await field.fill("55")
    await error.wait_for(state="detached", timeout=10_000)
    assert "f-score-innovation-error" not in (await field.get_attribute("aria-describedby") or "").split()
    assert await field.get_attribute("aria-invalid") is None
    await ctx.close()
