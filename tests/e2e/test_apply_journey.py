"""A new startup applies as it would on a phone (360 px): asks for a sign-in link, fills the
form over two visits (autosave keeps the first), uploads its deck, submits, and finds the
confirmation e-mail and the status page. axe-core checks every page on the way."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.settings import Settings
from tests.support.browser import PHONE, LiveServer, serious_violations
from tests.support.entries import make_pdf
from tests.support.factories import small_bundle
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

SLUG = "open-call"


@pytest.fixture(scope="module")
async def call_server(
    make_database_url: Any, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink
) -> AsyncIterator[LiveServer]:
    url = make_database_url("e2eapply", migrated=True)
    db = Database.from_url(url)
    bundle = small_bundle(SLUG)
    now = utcnow()
    rnd = bundle["award"]["rounds"][0]
    rnd["submissions_open"] = (now - timedelta(days=10)).isoformat()
    rnd["submissions_close"] = (now + timedelta(days=10)).isoformat()
    rnd["scoring_close"] = (now + timedelta(days=30)).isoformat()
    async with db.session() as session:
        await import_bundle(session, bundle)
    await db.dispose()
    data_dir: Path = tmp_path_factory.mktemp("e2e-apply")
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="e2e-apply-secret-0123456789",
        base_url="http://127.0.0.1:8000",
        smtp_url=smtp.url,
    )
    server = LiveServer.start(settings)
    yield server
    server.stop()


async def fits_and_passes_axe(page: Any) -> None:
    assert await serious_violations(page) == [], page.url
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


async def test_a_new_startup_applies_on_a_phone(
    browser: Any, call_server: LiveServer, smtp: SmtpSink, tmp_path: Path
) -> None:
    smtp.clear()
    ctx = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await ctx.new_page()
    await page.goto(f"{call_server.url}/awards/{SLUG}/call")
    await fits_and_passes_axe(page)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Apply now").click()
    await fits_and_passes_axe(page)
    await page.get_by_label("Your name").fill("Lena Berg")
    await page.get_by_label("E-mail address").fill("lena@strassenklar.example")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Send me the link").click()
    assert await page.locator("h1").inner_text() == "Check your e-mail"
    (message,) = await asyncio.to_thread(smtp.wait_for, 1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/signin/link/[A-Za-z0-9_-]+\?next=\S+)", body)
    assert link, body
    await page.goto(call_server.url + link.group(1))
    await fits_and_passes_axe(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in now").click()
    assert page.url.endswith(f"/awards/{SLUG}/apply")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Start your application").click()
    assert re.search(r"/entries/\d+/edit$", page.url)
    await fits_and_passes_axe(page)

    # First visit: a few fields, saved by autosave without pressing a button.
    await page.get_by_label("Company name (required)").fill("Strassenklar GmbH")
    await page.get_by_label("City (required)").fill("Leipzig")
    await page.get_by_label("Pitch summary (required)").fill("Citizens report road damage with one photo.")
    assert "43 of 600 characters" in await page.locator("#f-pitch-count").inner_text()
    # A slip in one field (no https://) does not stop the draft: it is saved, the problem shown beside it.
    await page.get_by_label("Website").fill("strassenklar.example")
    await page.locator("[data-autosave-status]").filter(has_text="Draft saved.").wait_for(timeout=10_000)
    assert "https://" in await page.locator("#f-website-error").inner_text()
    assert await page.get_by_label("Website").get_attribute("aria-invalid") == "true"
    await fits_and_passes_axe(page)
    await page.goto(f"{call_server.url}/account")

    # Second visit: everything is still there; fill the rest, upload, submit.
    await page.goto(f"{call_server.url}/awards/{SLUG}/apply")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Continue editing").click()
    assert await page.get_by_label("Company name (required)").input_value() == "Strassenklar GmbH"
    assert (
        await page.get_by_label("Pitch summary (required)").input_value()
        == "Citizens report road damage with one photo."
    )
    # the slip is kept as typed, still marked; corrected, autosave clears the mark
    assert await page.get_by_label("Website").input_value() == "strassenklar.example"
    assert "https://" in await page.locator("#f-website-error").inner_text()
    await page.get_by_label("Website").fill("https://strassenklar.example")
    await page.locator("[data-autosave-status]").filter(has_text="All changes saved.").wait_for(timeout=10_000)
    assert await page.locator("#f-website-error").count() == 0
    assert await page.get_by_label("Website").get_attribute("aria-invalid") is None
    await page.get_by_label("Founding year (required)").fill("2021")
    await page.get_by_label("Employees (required)").fill("12")
    await page.get_by_label("Title of your solution (required)").fill("Potholes reported in seconds")
    await page.get_by_label("Problem (required)", exact=True).fill("Road damage is reported late.")
    await page.get_by_label("Solution (required)", exact=True).fill("A web app with photo and location.")
    await page.get_by_label("Benefit for public administration and citizens (required)").fill("Faster repairs.")
    await page.get_by_label("GovTech").check()
    await page.get_by_label("Stage (required)").select_option("pilot")
    deck = tmp_path / "Pitch Deck.pdf"
    deck.write_bytes(make_pdf(2))
    await page.get_by_label("Pitch deck (PDF) (required)").set_input_files(str(deck))
    await page.get_by_label(re.compile("I have read the privacy notice")).check()
    await fits_and_passes_axe(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Submit entry").click()
    assert re.search(r"/entries/\d+\?done=submitted$", page.url), page.url
    assert "Your entry is submitted" in await page.locator("main").inner_text()
    assert "Pitch Deck.pdf" in await page.locator("main").inner_text()
    await fits_and_passes_axe(page)

    messages = await asyncio.to_thread(smtp.wait_for, 2)
    confirmation = messages[1]
    assert confirmation["To"] == "lena@strassenklar.example"
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "Potholes reported in seconds" in text and "GovTech" in text
    status_link = re.search(r"https?://[^/\s]+(/entries/\d+)", text)
    assert status_link
    await page.goto(call_server.url + status_link.group(1))
    assert "Entry submitted" in await page.locator("main").inner_text()

    # The same pages in German pass axe too.
    de = await browser.new_context(locale="de-DE", viewport=PHONE)
    await de.add_cookies([*await ctx.cookies(), {"name": "award_jury_lang", "value": "de", "url": call_server.url}])
    de_page = await de.new_page()
    for path in (status_link.group(1), status_link.group(1) + "/edit", f"/awards/{SLUG}/call"):
        await de_page.goto(call_server.url + path)
        assert await de_page.locator("html").get_attribute("lang") == "de"
        await fits_and_passes_axe(de_page)
    await de.close()
    await ctx.close()


async def start_by_link(page: Any, server: LiveServer, smtp: SmtpSink, name: str, email: str) -> None:
    """Ask for a sign-in link, use it, start an application: the page ends on the new form."""
    smtp.clear()
    await page.goto(f"{server.url}/awards/{SLUG}/apply")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("E-mail address").fill(email)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Send me the link").click()
    (message,) = await asyncio.to_thread(smtp.wait_for, 1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/signin/link/[A-Za-z0-9_-]+\?next=\S+)", body)
    assert link, body
    await page.goto(server.url + link.group(1))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in now").click()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Start your application").click()


async def test_saving_while_an_autosave_is_on_its_way_is_not_refused_as_stale(
    browser: Any, call_server: LiveServer, smtp: SmtpSink
) -> None:
    """The button's form carried the version from before the autosave, so the server answered
    409 "someone saved in the meantime" for the person's own autosave."""
    ctx = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await ctx.new_page()
    await start_by_link(page, call_server, smtp, "Rita Rasch", "rita@rasch.example")

    async def slow_autosave(route: Any) -> None:
        """The server has saved; its answer is slow to come back."""
        if route.request.method == "POST" and "application/json" in (route.request.headers.get("accept") or ""):
            response = await route.fetch()
            await asyncio.sleep(1.5)
            await route.fulfill(response=response)
        else:
            await route.continue_()

    await page.route("**/entries/*/edit", slow_autosave)
    await page.get_by_label("Company name (required)").fill("Rasch GmbH")
    await page.locator("[data-autosave-status]").filter(has_text="Saving").wait_for(timeout=10_000)
    await page.get_by_label("City (required)").fill("Kiel")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save draft").click()
    await page.wait_for_load_state()
    assert page.url.endswith("/edit?saved=1"), page.url
    assert await page.get_by_label("City (required)").input_value() == "Kiel"
    assert await page.get_by_label("Company name (required)").input_value() == "Rasch GmbH"
    await ctx.close()


async def test_text_kept_for_an_older_version_is_shown_and_a_signed_out_autosave_says_so(
    browser: Any, call_server: LiveServer, smtp: SmtpSink
) -> None:
    ctx = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await ctx.new_page()
    await start_by_link(page, call_server, smtp, "Kai Kept", "kai@kept.example")
    path = page.url.removeprefix(call_server.url)
    kept = {"version": "0", "title": "Title typed offline", "startup_name": ""}
    owner = await page.locator("script[data-owner]").get_attribute("data-owner")
    await page.evaluate(
        "(kept) => localStorage.setItem('award_jury.entries.v1', JSON.stringify(kept))", {f"{owner} {path}": kept}
    )
    await page.reload()
    panel = page.locator("section.panel[role=alert]")
    assert "was not saved" in await panel.inner_text()
    assert await panel.locator("textarea").input_value() == "Title typed offline"
    assert await page.locator("#f-title").input_value() == ""  # nothing overwritten
    assert await serious_violations(page) == []
    # Signed out in another tab: the autosave says so instead of "no connection".
    await ctx.clear_cookies()
    await page.get_by_label("City (required)").fill("Kiel")
    await page.locator("[data-autosave-status]").filter(has_text="you are signed out").wait_for(timeout=10_000)
    await ctx.close()


async def test_text_kept_offline_stays_with_its_person_on_a_shared_browser(
    browser: Any, call_server: LiveServer, smtp: SmtpSink
) -> None:
    """Kept values were stored under the form's address only: a co-editor signing in on the same
    browser got the previous person's offline text put back into the form and autosaved as theirs."""
    ctx = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await ctx.new_page()
    await start_by_link(page, call_server, smtp, "Anna Erste", "anna@geteilt.example")
    edit_path = page.url.removeprefix(call_server.url)
    entry_path = edit_path.removesuffix("/edit")
    # Anna invites a colleague, who gets a sign-in link to the same entry.
    smtp.clear()
    await page.goto(call_server.url + entry_path)
    await page.locator("#m-member_name").fill("Bert Zweiter")
    await page.locator("#m-member_email").fill("bert@geteilt.example")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Send invitation").click()
    (invitation,) = await asyncio.to_thread(smtp.wait_for, 1)
    body = invitation.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/signin/link/[A-Za-z0-9_-]+\?next=\S+)", body)
    assert link, body

    # Anna types while the network is gone: the text is kept in this browser.
    await page.goto(call_server.url + edit_path)
    secret = "Anna's unsaved idea"

    async def no_network_for_saves(route: Any) -> None:
        await (route.abort() if route.request.method == "POST" else route.continue_())

    await page.route("**/entries/*/edit", no_network_for_saves)
    await page.get_by_label("Title of your solution (required)").fill(secret)
    await page.locator("[data-autosave-status]").filter(has_text="No connection").wait_for(timeout=10_000)
    await page.unroute("**/entries/*/edit")
    # what an earlier version of the page kept under the form's address alone, not knowing whose it is
    await page.evaluate(
        """(path) => {
        const kept = JSON.parse(localStorage.getItem("award_jury.entries.v1"));
        const own = Object.keys(kept).filter((k) => k.endsWith(" " + path));
        localStorage.setItem("award-jury:" + path, JSON.stringify(kept[own[0]]));
    }""",
        edit_path,
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign out").click()

    # Bert signs in on the same browser and opens the same entry: nothing of Anna's appears or is sent.
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.post_data or "") if request.method == "POST" else None)
    await page.goto(call_server.url + link.group(1))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in now").click()
    assert page.url.endswith(edit_path), page.url
    assert await page.locator("#f-title").input_value() == ""  # Bert's language is German: ids, not labels
    assert secret not in await page.locator("main").inner_text()
    assert await page.locator("section.panel[role=alert]").count() == 0
    assert await page.evaluate("(path) => localStorage.getItem('award-jury:' + path)", edit_path) is None
    async with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(edit_path)) as saved:
        await page.locator("#f-city").fill("Rostock")
    assert (await saved.value).status == 200
    assert any("Rostock" in data for data in sent)
    assert not any("unsaved idea" in data for data in sent)
    await ctx.close()
