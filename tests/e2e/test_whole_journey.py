"""The whole journey in a real browser: a startup applies with a deck; the organiser
sets up the round and assigns jurors; three jurors score (one on a phone); the organiser reviews
the results, decides the tie, finalises and publishes, and prints the winners' certificates; the
startup downloads its certificate; the verification page confirms it. axe-core checks every page
of the journey, in English on the way and in German afterwards."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import create_user, get_or_create_person
from award_jury.accounts.sessions import start_session
from award_jury.awards.models import Round
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.entries import make_pdf
from tests.support.pdf import page_texts

pytestmark = pytest.mark.browser

SLUG = "journey-award"
AWARD = f"/awards/{SLUG}"
ROUND = f"{AWARD}/rounds/pre-selection"
JURORS = ["anna@jury.example", "ben@jury.example", "cem@jury.example"]
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def journey_bundle() -> dict[str, Any]:
    now = utcnow()
    return {
        "format": "award-jury/bundle@1",
        "award": {
            "slug": SLUG,
            "name": "Journey Startup Award",
            "locale": "de",
            "time_zone": "Europe/Berlin",
            "categories": [{"slug": "smart-city", "name": "Smart City", "prizes": 1}],
            "rounds": [
                {
                    "slug": "pre-selection",
                    "name": "Pre-selection",
                    "submissions_open": (now - timedelta(days=5)).isoformat(),
                    "submissions_close": (now + timedelta(days=5)).isoformat(),
                    "scoring_close": (now + timedelta(days=20)).isoformat(),
                    "method": "mean",
                    "min_sheets": 1,
                    "criteria": [
                        {"key": "innovation", "name": "Innovation", "weight": 60, "min": 0, "max": 10, "step": 1},
                        {"key": "impact", "name": "Impact", "weight": 40, "min": 0, "max": 10, "step": 1},
                    ],
                }
            ],
        },
        "jurors": [{"email": e, "name": e.split("@")[0].title(), "categories": ["smart-city"]} for e in JURORS],
        "entries": [
            {
                "ref": "E001",
                "category": "smart-city",
                "status": "submitted",
                "startup": {"name": "Zweite AG", "city": "Bonn", "founded": 2020},
                "contact": {"email": "hallo@zweite.example", "name": "Erika Muster"},
                "title": "Digital permits",
                "pitch": "Permits in minutes.",
                "rounds": ["pre-selection"],
                "attachments": [],
            }
        ],
        "conflicts": [],
        "sheets": [],
    }


@pytest.fixture(scope="module")
async def journey(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2ejourney", migrated=True)
    db = Database.from_url(url)
    async with db.session() as s:
        award = await import_bundle(s, journey_bundle())
        organiser = await create_user(
            s, email="chair@journey.example", name="Clara Chair", role=Role.ORGANISER, locale="en"
        )
        from award_jury.accounts.services import grant_role

        await grant_role(s, organiser, Role.ORGANISER, award.id)
        await get_or_create_person(s, "lena@strassenklar.example", "Lena Berg", "en")
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-journey")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-journey-secret-0123456789abc",
        base_url="http://127.0.0.1:8000",
    )
    server = LiveServer.start(settings)
    yield server
    server.stop()


class Journey:
    """Browser contexts signed in as each person, and every page visited (for the German pass)."""

    def __init__(self, browser: Any, server: LiveServer) -> None:
        self.browser, self.server = browser, server
        self.visited: list[tuple[Any, str]] = []
        self.problems: list[str] = []

    async def context(self, email: str, **options: Any) -> Any:
        db = Database.from_url(self.server.settings.database_url)
        async with db.session() as s:
            from sqlalchemy import select

            person = (await s.execute(select(Person).where(Person.email == email))).scalar_one()
            token = await start_session(s, person, session_policy(self.server.settings), utcnow())
        await db.dispose()
        ctx = await self.browser.new_context(locale="en-GB", **options)
        await ctx.add_cookies(
            [
                {"name": self.server.settings.session_cookie_name, "value": token, "url": self.server.url},
                {"name": "award_jury_lang", "value": "en", "url": self.server.url},  # (people of a German award)
            ]
        )
        return ctx

    async def check(self, page: Any) -> None:
        """axe on the page as it is now; remembered for the German pass."""
        self.problems += [f"{page.url}: {v}" for v in await serious_violations(page)]
        self.visited.append((page.context, page.url))

    async def german_pass(self) -> None:
        seen = set()
        for ctx, url in self.visited:
            path = url.removeprefix(self.server.url)
            if (id(ctx), path) in seen:
                continue
            seen.add((id(ctx), path))
            await ctx.add_cookies([{"name": "award_jury_lang", "value": "de", "url": self.server.url}])
            page = await ctx.new_page()
            response = await page.goto(url)
            assert response is not None and response.status == 200, (url, response and response.status)
            assert await page.locator("html").get_attribute("lang") == "de"
            self.problems += [f"{url} (de): {v}" for v in await serious_violations(page)]
            await page.close()


async def test_the_whole_journey(browser: Any, journey: LiveServer, tmp_path: Path) -> None:
    server = journey
    j = Journey(browser, server)

    # 1. A startup applies with its deck.
    startup = await j.context("lena@strassenklar.example")
    sp = await startup.new_page()
    await sp.goto(f"{server.url}{AWARD}/call")
    await j.check(sp)
    async with sp.expect_navigation():
        await sp.get_by_role("link", name="Apply now").click()
    async with sp.expect_navigation():
        await sp.get_by_role("button", name="Start your application").click()
    await j.check(sp)
    form = {
        "Company name (required)": "Strassenklar GmbH",
        "City (required)": "Leipzig",
        "Founding year (required)": "2021",
        "Employees (required)": "12",
        "Title of your solution (required)": "Potholes reported in seconds",
        "Pitch summary (required)": "Citizens report road damage with one photo.",
        "Benefit for public administration and citizens (required)": "Faster repairs.",
    }
    for label, value in form.items():
        await sp.get_by_label(label).fill(value)
    await sp.get_by_label("Problem (required)", exact=True).fill("Road damage is reported late.")
    await sp.get_by_label("Solution (required)", exact=True).fill("A web app with photo and location.")
    await sp.get_by_label("Stage (required)").select_option("pilot")
    deck = tmp_path / "deck.pdf"
    deck.write_bytes(make_pdf(2))
    await sp.get_by_label("Pitch deck (PDF) (required)").set_input_files(str(deck))
    await sp.get_by_label(re.compile("I have read the privacy notice")).check()
    async with sp.expect_navigation():
        await sp.get_by_role("button", name="Submit entry").click()
    assert "?done=submitted" in sp.url
    status_url = sp.url.split("?")[0]
    await j.check(sp)

    # 2. The organiser sets up the round (at least three sheets per entry) and assigns the jurors.
    organiser = await j.context("chair@journey.example")
    op = await organiser.new_page()
    await op.goto(server.url + ROUND)
    await j.check(op)
    await op.locator(f"form[action='{ROUND}'] [name=min_sheets]").fill("3")
    async with op.expect_navigation():
        await op.get_by_role("button", name="Save round").click()
    assert await op.locator(f"form[action='{ROUND}'] [name=min_sheets]").input_value() == "3"
    await op.goto(f"{server.url}{ROUND}/assignments?k=3")
    await j.check(op)
    async with op.expect_navigation():
        await op.get_by_role("button", name="Apply this assignment").click()
    await j.check(op)

    # 3. Three jurors score both entries the same way (a tie across the prize line); one on a phone.
    for number, email in enumerate(JURORS):
        ctx = await j.context(email, **({"viewport": PHONE} if number == 1 else {}))
        jp = await ctx.new_page()
        await jp.goto(f"{server.url}{AWARD}/jury")
        assert jp.url.endswith(f"{ROUND}/jury"), jp.url
        await j.check(jp)
        if number == 1:  # the phone: nothing wider than the screen
            assert await jp.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for ref in ("E001", "E002"):
            await jp.goto(f"{server.url}{ROUND}/jury/entries/{ref}")
            await jp.locator("input[name='score-innovation'][value='8']").check()
            await jp.locator("input[name='score-impact'][value='6']").check()
            await j.check(jp)
            if number == 1:
                assert await jp.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            # (the juror sees "Saved at …" before submitting: a submit while an autosave is still on
            # its way once did not navigate within 30 s here; not diagnosed yet, see the session note)
            await jp.locator("[data-save-state][data-kind='saved']").wait_for()
            async with jp.expect_navigation():
                await jp.get_by_role("button", name="Submit", exact=True).click()
            assert "Submitted" in await jp.locator("main").inner_text()

    # 4. The organiser reviews the results, decides the tie, finalises and publishes.
    await op.goto(f"{server.url}{ROUND}/results")
    await j.check(op)
    await op.locator("select[name=place_E002]").select_option("1")
    await op.locator("select[name=place_E001]").select_option("2")
    await op.locator("textarea[name=reason]").fill("Stronger pilot with a city; the jury voted 2:1 on pitch day.")
    async with op.expect_navigation():
        await op.get_by_role("button", name="Record the decision").click()
    await j.check(op)
    # Time passes: the call closes (finalising is refused while it is open). Scoring stays open, so
    # the confirmation page asks why the organiser finalises early, and the reason is audited.
    db = Database.from_url(server.settings.database_url)
    async with db.session() as s:
        await s.execute(sa.update(Round).values(submissions_close=utcnow() - timedelta(minutes=1)))
    await db.dispose()
    async with op.expect_navigation():
        await op.get_by_role("link", name="Finalise this round").click()
    await j.check(op)
    facts = await op.locator("ul.consequences").inner_text()
    assert "2 entries take part in this round" in facts and "6 score sheets are submitted and count." in facts
    await op.get_by_label("Why do you go ahead anyway?").fill("All three jurors have scored; the jury met early.")
    async with op.expect_navigation():
        await op.get_by_role("button", name="Finalise this round").click()
    assert "The round is finalised." in await op.locator("main").inner_text()
    async with op.expect_navigation():
        await op.get_by_role("link", name="Publish the results").click()
    await j.check(op)
    async with op.expect_navigation():
        await op.get_by_role("button", name="Publish the results").click()
    assert "The results are published." in await op.locator("main").inner_text()
    await j.check(op)

    # 5. The organiser prints the winners' certificates in one batch.
    await op.goto(f"{server.url}{AWARD}/certificates/rounds/pre-selection")
    await j.check(op)
    async with op.expect_navigation():
        await op.locator("form[action$='/generate']:has(input[value=winner]) button").click()
    await op.locator("a[href$='/download']").wait_for(timeout=60_000)
    await j.check(op)
    batch = await op.request.get(server.url + (await op.locator("a[href$='/download']").get_attribute("href")))
    assert batch.status == 200
    [printed] = [" ".join(t.split()) for t in page_texts(await batch.body())]
    assert "Strassenklar GmbH" in printed and "1. Platz" in printed.replace("1. PLATZ", "1. Platz")
    code = CODE.search(printed)
    assert code is not None and f"/verify/{code.group(0)}" in printed.replace(" ", "")

    # 6. The startup sees its outcome and downloads its certificate.
    await sp.goto(status_url)
    main = await sp.locator("main").inner_text()
    assert "Winner" in main and "place 1" in main
    await j.check(sp)
    href = await sp.get_by_role("link", name="Download your certificate (PDF)").get_attribute("href")
    own = await sp.request.get(server.url + href)
    assert own.status == 200 and own.headers["content-type"] == "application/pdf"
    assert code.group(0) in " ".join(page_texts(await own.body())[0].split())

    # 7. The printed link verifies the certificate, for anybody.
    visitor = await browser.new_context(locale="en-GB", viewport=PHONE)
    vp = await visitor.new_page()
    await vp.goto(f"{server.url}/verify/{code.group(0)}")
    assert await vp.locator("h1").inner_text() == "Certificate verified"
    assert "Strassenklar GmbH" in await vp.locator("main").inner_text()
    await j.check(vp)

    await j.german_pass()
    assert j.problems == []
