"""Fixtures for browser tests: a live server with the demo award, and Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import load_demo_bundle
from award_jury.migrate import upgrade
from award_jury.settings import Settings
from tests.conftest import missing_component
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
async def live_server(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2e")
    db = Database.from_url(url)
    await upgrade(db)
    async with db.session() as session:
        await import_bundle(session, load_demo_bundle())
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-var")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-secret-key-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
    )
    server = LiveServer.start(settings)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        missing_component(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser: Any) -> AsyncIterator[Any]:
    ctx = await browser.new_context(locale="de-DE")
    yield ctx
    await ctx.close()
