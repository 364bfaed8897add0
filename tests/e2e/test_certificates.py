"""Certificate pages in Chromium: the organiser previews, generates a batch and watches its
progress, downloads the PDF; anyone verifies a code. Every page in de and en on a 360 px phone
passes axe-core without serious violations and fits the screen."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from award_jury.accounts.services import create_user
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import load_demo_bundle
from award_jury.enums import Role
from award_jury.ranking.services import finalise_round
from award_jury.settings import Settings
from tests.e2e.conftest import ORGANISER_EMAIL, ORGANISER_PASSWORD, sign_in_with_password
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.pdf import page_texts

pytestmark = pytest.mark.browser

AWARD = "/awards/smart-country-startup-award-2026"
ROUND = f"{AWARD}/certificates/rounds/vorauswahl"


@pytest.fixture(scope="module")
async def cert_server(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2ecert", migrated=True)
    db = Database.from_url(url)
    async with db.session() as session:
        award = await import_bundle(session, load_demo_bundle())
        await create_user(
            session, email=ORGANISER_EMAIL, name="Clara Chair", role=Role.ORGANISER, password=ORGANISER_PASSWORD
        )
        award = await get_award(session, award.slug)
        await finalise_round(session, award, award.rounds[0], None, "test", override_reason="demo: two drafts")
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-cert")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-cert-secret-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
    )
    server = LiveServer.start(settings)
    yield server
    server.stop()


async def generate_winners(page: Any, server: LiveServer) -> str:
    """Generate the winners' batch from the round page; returns the job page's URL once done."""
    await page.goto(server.url + ROUND)
    async with page.expect_navigation():
        await page.locator("form[action$='/generate']:has(input[value=winner]) button").click()
    assert re.search(r"/certificates/jobs/\d+$", page.url)
    await page.locator("a[href$='/download']").wait_for(timeout=60_000)  # the script reloads when done
    return str(page.url)


async def test_batch_generation_shows_progress_then_the_download(browser: Any, cert_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await sign_in_with_password(page, cert_server)
    job_url = await generate_winners(page, cert_server)
    assert await page.locator("progress").get_attribute("value") == await page.locator("progress").get_attribute("max")
    assert "PDF herunterladen" in await page.content()
    href = await page.locator("a[href$='/download']").get_attribute("href")
    response = await page.request.get(cert_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    texts = [" ".join(t.split()) for t in page_texts(await response.body())]
    assert len(texts) == 2 and all("1. PLATZ" in t for t in texts)
    # the code printed on a certificate leads to its verification page
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", texts[0])
    assert code is not None
    await page.goto(f"{cert_server.url}/verify/{code.group(0)}")
    assert await page.locator("h1").inner_text() == "Urkunde bestätigt"
    assert job_url.startswith(cert_server.url)
    await ctx.close()


async def test_preview_is_a_pdf_with_a_watermark(browser: Any, cert_server: LiveServer) -> None:
    ctx = await browser.new_context(locale="en-GB")
    page = await ctx.new_page()
    await sign_in_with_password(page, cert_server)
    await page.goto(cert_server.url + ROUND)
    href = await page.locator("a[href*='/preview/']").first.get_attribute("href")
    response = await page.request.get(cert_server.url + href)
    assert response.headers["content-type"] == "application/pdf"
    assert "VORSCHAU" in page_texts(await response.body())[0]  # the award speaks German
    await ctx.close()


@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
async def test_certificate_pages_fit_a_phone_and_pass_axe(browser: Any, cert_server: LiveServer, locale: str) -> None:
    ctx = await browser.new_context(locale=locale, viewport=PHONE)
    page = await ctx.new_page()
    await sign_in_with_password(page, cert_server)
    if locale.startswith("en"):
        async with page.expect_navigation():
            await page.get_by_role("button", name="English").click()
    job_url = await generate_winners(page, cert_server)
    await page.goto(cert_server.url + ROUND)
    code_href = await page.locator("a[href^='/verify/']").first.get_attribute("href")
    problems = []
    for path in [
        f"{AWARD}/certificates",
        ROUND,
        job_url.removeprefix(cert_server.url),
        code_href,
        "/verify",
        "/verify/0000-0000-0000-0000",
    ]:
        response = await page.goto(cert_server.url + path)
        assert response is not None
        expected = 404 if path.endswith("0000-0000-0000-0000") else 200
        if response.status != expected:
            problems.append(f"{path}: status {response.status}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{path}: {width} px wide")
        problems += [f"{path}: {v}" for v in await serious_violations(page)]
    assert problems == []
    # signed out, the verification page is public and speaks the visitor's language
    anonymous = await browser.new_context(locale=locale, viewport=PHONE)
    public = await anonymous.new_page()
    await public.goto(cert_server.url + code_href)
    heading = await public.locator("h1").inner_text()
    assert heading == ("Urkunde bestätigt" if locale == "de-DE" else "Certificate verified")
    assert await serious_violations(public) == []
    await anonymous.close()
    await ctx.close()
