"""An organiser sets up an award from nothing in a real browser: the award, two categories,
a round with weighted criteria, and invitations for two jurors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.conftest import sign_in_with_password
from tests.support.browser import LiveServer, serious_violations
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


async def submit(page: Any, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button, exact=True).click()


async def test_organiser_sets_up_an_award_from_nothing(browser: Any, mail_server: LiveServer, smtp: SmtpSink) -> None:
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)

    await page.goto(mail_server.url + "/awards/new")
    assert await serious_violations(page) == []
    await page.fill("#f-name", "GovTech Preis 2027")
    await page.fill("#f-slug", "govtech-preis-2027")
    await page.select_option("#f-time_zone", "Europe/Berlin")
    await page.fill("#f-description", "Der Preis für digitale Verwaltung.")
    await submit(page, "Wettbewerb anlegen")
    assert page.url.endswith("/awards/govtech-preis-2027/setup?created=1")
    assert await serious_violations(page) == []

    for name, prizes in (("Smart City", "1"), ("GovTech", "2")):
        await page.fill("#nc-name", name)
        await page.fill("#nc-prizes", prizes)
        await submit(page, "Kategorie hinzufügen")
    assert "GovTech – 2 Preise" in await page.locator("#categories").inner_text()

    await page.fill("#nr-name", "Vorauswahl")
    await page.fill("#nr-submissions_open", "2027-06-01T00:00")
    await page.fill("#nr-submissions_close", "2027-08-31T23:59")
    await page.fill("#nr-scoring_close", "2027-09-30T23:59")
    await page.fill("#nr-min_sheets", "2")
    await submit(page, "Runde hinzufügen")
    assert page.url.endswith("/awards/govtech-preis-2027/rounds/vorauswahl?created=1")

    # A mistake first: the message appears beside the field and nothing is added.
    await page.fill("#nk-name", "Innovationsgrad")
    await page.fill("#nk-weight", "0")
    await submit(page, "Kriterium hinzufügen")
    assert await page.locator("#nk-weight-error").text_content() == "Fehler: Das Gewicht muss größer als 0 sein."
    assert await page.get_attribute("#nk-weight", "aria-invalid") == "true"
    for name, weight in (("Innovationsgrad", "30"), ("Nutzen für Verwaltung", "25")):
        await page.fill("#nk-name", name)
        await page.fill("#nk-weight", weight)
        await page.fill("#nk-step", "0,5")
        await page.fill("#nk-levels", "0-4: schwach\n5-10: stark")
        await submit(page, "Kriterium hinzufügen")
    table = await page.locator("#criteria table").inner_text()
    assert "54,5 %" in table and "45,5 %" in table
    assert await serious_violations(page) == []

    smtp.clear()
    await page.goto(mail_server.url + "/awards/govtech-preis-2027/people")
    for name, email in (("Jörg Weiß", "joerg@jury.example"), ("Aylin Kaya", "aylin@jury.example")):
        await page.fill("#f-name", name)
        await page.fill("#f-email", email)
        await page.check("input[name=categories][value=govtech]")
        await submit(page, "Einladung senden")
    messages = await asyncio.to_thread(smtp.wait_for, 2)
    assert sorted(m["To"] for m in messages) == ["aylin@jury.example", "joerg@jury.example"]
    assert await page.locator("text=Offen").count() == 2
    await ctx.close()


async def test_organiser_assigns_jurors_automatically_and_follows_progress(
    browser: Any, mail_server: LiveServer
) -> None:
    ctx = await browser.new_context(locale="de-DE")
    page = await ctx.new_page()
    await sign_in_with_password(page, mail_server)
    round_url = mail_server.url + "/awards/smart-country-startup-award-2026/rounds/vorauswahl"
    await page.goto(round_url)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Jury zuordnen").click()
    await page.fill("#f-k", "3")
    await submit(page, "Vorschau")
    assert "42 neue Zuordnungen." in await page.locator("#h-preview + p").inner_text()
    assert await serious_violations(page) == []
    await submit(page, "Diese Zuordnung übernehmen")
    assert "42 Zuordnungen hinzugefügt." in await page.locator("main").inner_text()

    await page.goto(round_url + "/progress")
    assert "Fortschritt" in await page.locator("h1").inner_text()
    assert await serious_violations(page) == []
    await ctx.close()
