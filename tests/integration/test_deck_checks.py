"""The pitch deck's check runs off the event loop, in a child process with a time and page budget,
and before the write lock is taken: a crafted PDF is refused beside the field and stalls nobody."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from award_jury.db import Database
from award_jury.entries import deck_check
from award_jury.entries.models import Entry
from award_jury.i18n import current_locale
from award_jury.settings import Settings
from tests.support.apps import app_client, shared_app
from tests.support.entries import (
    applicant,
    complete_values,
    form_version,
    freeze_clock,
    make_pdf,
    nested_page_tree_pdf,
    save,
    start_entry,
    wide_page_tree_pdf,
)
from tests.support.setup_helpers import field_errors, import_small

Client = httpx.AsyncClient


@pytest.fixture
async def other_client(settings: Settings, db: Database) -> AsyncIterator[Client]:
    async with app_client(shared_app(settings, db)) as c:
        yield c


@pytest.fixture
async def award_id(db: Database) -> int:
    return await import_small(db, "mini-award")


async def attachments(db: Database, entry_id: int) -> list[str]:
    async with db.session() as s:
        entry = await s.get(Entry, entry_id)
        assert entry is not None
        await s.refresh(entry, ["attachments"])
        return [a.name for a in entry.attachments]


async def test_a_deck_with_100000_pages_is_refused_beside_the_field(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    deck = wide_page_tree_pdf(100_000)
    response = await save(b, entry_id, {"title": "T"}, deck=("deck.pdf", deck))
    assert response.status_code == 200  # a draft is saved; the deck is not, its problem shows beside it
    assert field_errors(response.text)["f-deck"] == (
        "The PDF has more than 300 pages. Please upload a shorter pitch deck."
    )
    assert await attachments(db, entry_id) == []


async def test_a_deck_whose_page_count_lies_is_stopped_by_the_time_budget(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It declares one page and has 100,000: the page tree is walked until the time is up; the
    process is killed, the file refused, in both languages."""
    freeze_clock(monkeypatch)
    monkeypatch.setattr(deck_check, "TIME_BUDGET", 0.2)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    deck = wide_page_tree_pdf(100_000, declared=1)
    response = await save(b, entry_id, {"title": "T"}, deck=("deck.pdf", deck))
    assert response.status_code == 200  # a draft is saved; the deck is not, its problem shows beside it
    assert field_errors(response.text)["f-deck"].startswith("The PDF is too complex to check")
    b.client.cookies.set("award_jury_lang", "de")  # the visitor's choice of language
    german = await b.client.post(
        f"/entries/{entry_id}/edit",
        data={"title": "T", "action": "save", "version": str(await form_version(b, entry_id)), "_csrf_token": b.token},
        files={"deck": ("deck.pdf", deck, "application/pdf")},
        follow_redirects=False,
    )
    assert german.status_code == 200
    assert field_errors(german.text)["f-deck"].startswith("Die PDF-Datei ist zu komplex")
    assert await attachments(db, entry_id) == []


async def test_a_deeply_nested_page_tree_is_refused_and_a_normal_deck_then_accepted(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    response = await save(b, entry_id, {"title": "T"}, deck=("deck.pdf", nested_page_tree_pdf(5000)))
    assert response.status_code == 200  # a draft is saved; the deck is not, its problem shows beside it
    assert field_errors(response.text)["f-deck"] in (
        "The PDF cannot be opened. Please export it again and upload the new file.",
        "The PDF is too complex to check (its structure is unusually large). Please export it again, "
        "for example with “Save as PDF”, and upload the new file.",
    )
    ok = await save(b, entry_id, complete_values(), action="submit", deck=("deck.pdf", make_pdf(3)))
    assert ok.status_code == 303, field_errors(ok.text)
    assert await attachments(db, entry_id) == ["deck.pdf"]


async def test_other_requests_and_writes_go_on_while_a_deck_is_checked(
    client: Client,
    other_client: Client,
    db: Database,
    settings: Settings,
    award_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While one startup's deck is being checked, another startup's autosave (which takes the
    write lock) and a page load finish first: the check neither blocks the event loop nor holds
    the lock. The check is held open by a gate (released once the others are done, or after a
    guard time, so a wrong implementation fails by order instead of hanging)."""
    freeze_clock(monkeypatch)
    started, gate = asyncio.Event(), asyncio.Event()
    order: list[str] = []
    real = deck_check.check_in_child

    async def gated(data: bytes, max_pages: int, seconds: float) -> str | None:
        started.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gate.wait(), 15)
        result = await real(data, max_pages, seconds)
        order.append("check done")
        return result

    monkeypatch.setattr(deck_check, "check_in_child", gated)
    uploader = await applicant(client, db, settings)
    other = await applicant(other_client, db, settings, email="kai@andere.example")
    entry_id, other_entry = await start_entry(uploader), await start_entry(other)
    other_version = await form_version(other, other_entry)

    upload = asyncio.create_task(
        save(uploader, entry_id, {"title": "T"}, deck=("deck.pdf", wide_page_tree_pdf(100_000, declared=1)))
    )
    while not started.is_set() and not upload.done():
        await asyncio.sleep(0.01)
    autosave = await save(
        other, other_entry, {"title": "Meanwhile"}, action="autosave", version=other_version, json=True
    )
    page = await other.get(f"/entries/{other_entry}/edit")
    order.append("others done")
    gate.set()
    response = await upload

    assert (autosave.status_code, page.status_code) == (200, 200)
    assert order == ["others done", "check done"]
    assert response.status_code == 200  # a draft is saved; the deck is not, its problem shows beside it
    assert "f-deck" in field_errors(response.text)


async def test_a_small_deck_is_checked_while_a_crafted_one_is_still_being_checked() -> None:
    """Two checks at once: the crafted deck (declaring one page, holding 100,000) keeps its child
    process busy; the small deck's check, started after it, finishes first, so the event loop
    was free all along."""
    order: list[str] = []
    current_locale.set("en")  # (this test's own context)

    async def check(name: str, data: bytes) -> str | None:
        problem = await deck_check.deck_problem(data, 20_000_000, seconds=60)
        order.append(name)
        return problem

    crafted = asyncio.create_task(check("crafted", wide_page_tree_pdf(100_000, declared=1)))
    await asyncio.sleep(0)
    small = await check("small", make_pdf(2))
    assert small is None
    assert (await crafted) == "The PDF has more than 300 pages. Please upload a shorter pitch deck."
    assert order == ["small", "crafted"]
