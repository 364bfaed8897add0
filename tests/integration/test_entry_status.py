"""What the status page tells a startup about its entry: the outcome of every combination of
rounds, the time before judging starts, and the company's name as it was typed; and how the same
page speaks to an organiser (about the startup's entry, not "your entry")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.awards.models import Round
from award_jury.db import Database
from award_jury.entries.models import Entry, EntryRound
from award_jury.enums import Method, Role
from award_jury.ranking.models import ResultSnapshot
from award_jury.settings import Settings
from tests.support.accounts import choose_language, outbox
from tests.support.entries import applicant, complete_values, freeze_clock, make_pdf, save, start_entry
from tests.support.setup_helpers import browser_for, field_errors, import_small

Client = httpx.AsyncClient
SLUG = "mini-award"
PRE_PUBLISHED = datetime(2023, 10, 2, 9, 0, tzinfo=UTC)
FINAL_PUBLISHED = datetime(2023, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
async def award_id(db: Database) -> int:
    return await import_small(db, SLUG)


def results(ref: str, *, rank: int | None, winner: bool) -> dict[str, Any]:
    """A frozen results document (SPEC §3) with one row for ``ref``."""
    row = {
        "ref": ref,
        "startup": "",
        "rank": rank,
        "score": 70.0,
        "sheets": 3,
        "tied": False,
        "winner": winner,
        "decision_needed": False,
        "status": "ranked" if rank else "insufficient",
    }
    return {
        "award": SLUG,
        "round": "",
        "method": "mean",
        "categories": [{"category": "smart-city", "prizes": 1, "entries": [row]}],
    }


async def arrange(
    db: Database,
    award_id: int,
    *,
    final: bool,
    in_final: bool = False,
    pre: dict[str, Any] | None = None,
    fin: dict[str, Any] | None = None,
) -> int:
    """E002's rounds: the pre-selection (published with ``pre`` when given) and, with ``final``,
    a final (that E002 reached with ``in_final``; published with ``fin`` when given)."""
    async with db.session() as s:
        first = (await s.execute(sa.select(Round).where(Round.slug == "pre-selection"))).scalar_one()
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E002"))).scalar_one()
        if pre is not None:
            first.finalised_at, first.published_at = PRE_PUBLISHED, PRE_PUBLISHED
            s.add(ResultSnapshot(round_id=first.id, method=Method.MEAN, sha256="0" * 64, payload=pre))
        if final:
            last = Round(award_id=award_id, slug="final", name="Final", position=first.position + 1, method="mean")
            s.add(last)
            await s.flush()
            if in_final:
                s.add(EntryRound(entry_id=entry.id, round_id=last.id, added_at=PRE_PUBLISHED))
            if fin is not None:
                last.finalised_at, last.published_at = FINAL_PUBLISHED, FINAL_PUBLISHED
                s.add(ResultSnapshot(round_id=last.id, method=Method.MEAN, sha256="1" * 64, payload=fin))
        return entry.id


def headline(page: str) -> str:
    match = re.search(r'<h2 id="h-state">(.*?)</h2>', page, re.S)
    assert match, page[:2000]
    return " ".join(match.group(1).split())


def history(page: str) -> list[str]:
    match = re.search(r'<ol class="history">(.*?)</ol>', page, re.S)
    assert match
    return [" ".join(re.sub(r"<[^>]+>", "", li).split()) for li in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


@pytest.mark.parametrize(
    ("case", "expected_headline", "expected_step"),
    [
        ("only-round-winner", "Status: Winner – place 1", "Results published: winner of Pre-selection (place 1)"),
        ("only-round-ranked", "Status: Not selected", "Results published: not selected in Pre-selection"),
        ("advanced", "Status: Finalist", "Results published: finalist in Final"),
        (
            "pre-winner-not-moved-yet",
            "Status: Selected for the next round",
            "Results published: selected for the next round in Pre-selection",
        ),
        ("pre-ranked-not-advanced", "Status: Not selected", "Results published: not selected in Pre-selection"),
        ("final-ranked", "Status: Finalist", "Results published: finalist in Final"),
        ("final-insufficient", "Status: Finalist", "Results published: finalist in Final"),
        ("final-winner", "Status: Winner – place 1", "Results published: winner of Final (place 1)"),
        ("final-only-published-not-in-it", "Status: Not selected", "Results published: not selected in Pre-selection"),
    ],
)
async def test_the_status_page_tells_the_outcome_of_every_combination_of_rounds(
    client: Client,
    db: Database,
    settings: Settings,
    award_id: int,
    case: str,
    expected_headline: str,
    expected_step: str,
) -> None:
    won, ranked = results("E002", rank=1, winner=True), results("E002", rank=2, winner=False)
    arrangements: dict[str, dict[str, Any]] = {
        "only-round-winner": {"final": False, "pre": won},
        "only-round-ranked": {"final": False, "pre": ranked},
        "advanced": {"final": True, "in_final": True, "pre": won},
        "pre-winner-not-moved-yet": {"final": True, "pre": won},
        "pre-ranked-not-advanced": {"final": True, "pre": ranked},
        "final-ranked": {"final": True, "in_final": True, "pre": won, "fin": ranked},
        "final-insufficient": {
            "final": True,
            "in_final": True,
            "pre": won,
            "fin": results("E002", rank=None, winner=False),
        },
        "final-winner": {"final": True, "in_final": True, "pre": won, "fin": won},
        "final-only-published-not-in-it": {"final": True, "fin": results("E009", rank=1, winner=True)},
    }
    entry_id = await arrange(db, award_id, **arrangements[case])
    startup = await applicant(client, db, settings, "hallo@zweite.example")
    page = await startup.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    assert headline(page.text) == expected_headline
    assert any(step.endswith(expected_step) for step in history(page.text)), history(page.text)


async def test_a_finalist_of_the_final_is_never_called_not_selected(
    client: Client, db: Database, settings: Settings, award_id: int
) -> None:
    entry_id = await arrange(
        db,
        award_id,
        final=True,
        in_final=True,
        pre=results("E002", rank=1, winner=True),
        fin=results("E002", rank=2, winner=False),
    )
    startup = await applicant(client, db, settings, "hallo@zweite.example")
    choose_language(client, "de")
    page = await startup.get(f"/entries/{entry_id}")
    assert "nicht ausgewählt" not in page.text.lower() and "Not selected" not in page.text
    assert headline(page.text) == "Status: Finalist"


async def test_right_after_submitting_the_page_says_judging_starts_after_the_deadline(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    done = await save(b, entry_id, complete_values(), action="submit", deck=("d.pdf", make_pdf()))
    assert done.status_code == 303, field_errors(done.text)
    page = await b.get(f"/entries/{entry_id}")
    assert headline(page.text) == "Status: Submitted"
    assert "Judging starts after the deadline on 31 Aug 2023, 23:59." in " ".join(page.text.split())
    assert "jury" not in headline(page.text).lower()
    clock.now = datetime(2023, 9, 5, 10, 0, tzinfo=UTC)
    later = await b.get(f"/entries/{entry_id}")
    assert headline(later.text) == "Status: With the jury"


async def test_the_company_name_shows_its_legal_form_once(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    values = complete_values(startup_name="Behördenfunk GmbH", legal_form="GmbH")
    done = await save(b, entry_id, values, action="submit", deck=("d.pdf", make_pdf()))
    assert done.status_code == 303, field_errors(done.text)
    page = await b.get(f"/entries/{entry_id}")
    assert "Behördenfunk GmbH GmbH" not in page.text
    assert "Behördenfunk GmbH, Leipzig" in page.text
    [mail] = outbox(settings)
    assert "GmbH GmbH" not in mail.as_string()


async def test_the_same_state_has_the_same_german_word_on_the_badge_and_in_the_mail(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    done = await save(b, entry_id, complete_values(), action="submit", deck=("d.pdf", make_pdf()))
    assert done.status_code == 303
    choose_language(client, "de")
    pages = [(await b.get(f"/entries/{entry_id}")).text, (await b.get(f"/entries/{entry_id}/edit")).text]
    for page in pages:
        assert "Abgegeben" not in page and "abgegeben" not in page
    assert "Eingereicht" in pages[0]


async def test_the_organiser_reads_about_the_startups_entry_in_the_third_person(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    startup_draft = " ".join((await b.get(f"/entries/{entry_id}")).text.split())
    assert "Submit your entry before 31 Aug 2023, 23:59. Until then you can change it." in startup_draft
    organiser = await browser_for(client, db, settings, "olga@example.org", role=Role.ORGANISER, award_ids=(award_id,))
    draft = " ".join((await organiser.get(f"/entries/{entry_id}")).text.split())
    assert "The startup has not submitted this entry yet. It can do so until 31 Aug 2023, 23:59." in draft
    assert "your entry" not in draft.lower()

    b = await applicant(client, db, settings)  # the startup again
    done = await save(b, entry_id, complete_values(), action="submit", deck=("d.pdf", make_pdf()))
    assert done.status_code == 303, field_errors(done.text)
    startup = " ".join((await b.get(f"/entries/{entry_id}")).text.split())
    assert "You can change your entry until 31 Aug 2023, 23:59." in startup
    assert '<h2 id="h-entry">Your entry</h2>' in startup

    organiser = await browser_for(client, db, settings, "olga@example.org", role=Role.ORGANISER, award_ids=(award_id,))
    page = " ".join((await organiser.get(f"/entries/{entry_id}")).text.split())
    assert "The startup can change its entry until 31 Aug 2023, 23:59." in page
    assert '<h2 id="h-entry">The startup’s entry</h2>' in page
    assert "your entry" not in page.lower() and "you can" not in page.lower()

    choose_language(client, "de")
    german = " ".join((await organiser.get(f"/entries/{entry_id}")).text.split())
    assert "Das Startup kann seinen Beitrag bis 31.08.2023, 23:59 Uhr ändern." in german
    assert '<h2 id="h-entry">Beitrag des Startups</h2>' in german
    assert "Ihr Beitrag" not in german and "Ihren Beitrag" not in german


async def test_a_finalist_sees_when_the_results_were_published(
    client: Client, db: Database, settings: Settings, award_id: int
) -> None:
    published = datetime(2023, 10, 2, 9, 0, tzinfo=UTC)
    async with db.session() as s:
        first = (await s.execute(sa.select(Round).where(Round.slug == "pre-selection"))).scalar_one()
        first.finalised_at, first.published_at = published, published
        final = Round(award_id=award_id, slug="final", name="Final", position=first.position + 1, method="mean")
        s.add(final)
        await s.flush()
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E002"))).scalar_one()
        entry_id = entry.id
        s.add(EntryRound(entry_id=entry.id, round_id=final.id, added_at=published))
    winner = await applicant(client, db, settings, "hallo@zweite.example")
    page = await winner.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    assert "Finalist" in page.text
    history = re.search(r'<ol class="history">(.*?)</ol>', page.text, re.S)
    assert history is not None
    finalist = next(li for li in re.findall(r"<li>(.*?)</li>", history.group(1), re.S) if "finalist in" in li)
    assert "02 Oct 2023" in finalist or "2 Oct 2023" in finalist, finalist


async def test_an_entry_left_out_of_a_published_final_is_not_selected(
    client: Client, db: Database, settings: Settings, award_id: int
) -> None:
    """The pre-selection's results are often never published; the final's are."""
    published = datetime(2023, 11, 20, 18, 0, tzinfo=UTC)
    async with db.session() as s:
        first = (await s.execute(sa.select(Round).where(Round.slug == "pre-selection"))).scalar_one()
        first.finalised_at = published
        final = Round(
            award_id=award_id,
            slug="final",
            name="Final",
            position=first.position + 1,
            method="mean",
            finalised_at=published,
            published_at=published,
        )
        s.add(final)
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E001"))).scalar_one()
        entry_id = entry.id
    other = await applicant(client, db, settings, "team@example.org")
    page = await other.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    assert "With the jury" not in page.text
    assert "Not selected" in page.text and "20 Nov 2023" in page.text
