"""Fixtures for browser tests: a live server with the demo award, and Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from award_jury.accounts.services import create_user
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import load_demo_bundle
from award_jury.enums import Role
from award_jury.settings import Settings
from tests.conftest import missing_component
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
async def live_server(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2e", migrated=True)
    db = Database.from_url(url)
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


ORGANISER_EMAIL, ORGANISER_PASSWORD = "chair@award.example", "Kastanienallee im Herbst"
JUROR_EMAIL = "jana.schroeder@juror.example"  # in the demo bundle, without a password
IDLE_SECONDS = 24  # short, so the idle warning shows within the test


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
async def mail_server(
    make_database_url: Any, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink
) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2eacc", migrated=True)
    db = Database.from_url(url)
    async with db.session() as session:
        await import_bundle(session, load_demo_bundle())
        await create_user(
            session, email=ORGANISER_EMAIL, name="Clara Chair", role=Role.ORGANISER, password=ORGANISER_PASSWORD
        )
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-accounts")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-accounts-secret-0123456789",
        base_url="http://127.0.0.1:8000",
        smtp_url=smtp.url,
        session_idle_seconds=IDLE_SECONDS,
    )
    server = LiveServer.start(settings)
    # links in mails point at the base URL; the test server listens elsewhere
    yield server
    server.stop()


def link_in(message: Any, path: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"https?://[^\s]+({re.escape(path)}[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


async def sign_in_with_password(page: Any, server: LiveServer) -> None:
    await page.goto(server.url + "/signin")
    await page.fill("#f-email", ORGANISER_EMAIL)
    await page.fill("#f-password", ORGANISER_PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action='/signin'] button[type=submit]")
