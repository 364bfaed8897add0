"""Live pitch day: the organiser moves the stage, jurors' pages and the event stream follow,
the organiser sees who has submitted for the entry on stage."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Criterion, Round
from award_jury.awards.services import get_award
from award_jury.db import Database
from award_jury.entries.models import Entry
from award_jury.enums import EntryStatus, Role, SheetStatus
from award_jury.judging.live_controllers import juror_stage, stage_events
from award_jury.judging.models import Score, ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import choose_language, sign_in_as
from tests.support.confirm import confirm, open_confirmation
from tests.support.csrf import csrf_token
from tests.support.scoring import ScoringWorld, build_world, post_sheet, scoring_bundle, sheet_path

EN = {"accept-language": "en"}
BASE = "/awards/live-award/rounds/pre-selection/live"


@pytest.fixture
async def world(db: Database) -> tuple[ScoringWorld, int]:
    async with db.session() as s:
        world = await build_world(s, scoring_bundle("live-award", entries=3, jurors=2))
        organiser = await get_or_create_person(s, "chair@example.org", "Chair", "en")
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
        return world, organiser.id


async def control(client: httpx.AsyncClient, do: str, **fields: str) -> httpx.Response:
    data = {"do": do, "_csrf_token": csrf_token(client), **fields}
    return await client.post(BASE + "/control", data=data, headers=EN, follow_redirects=False)


async def stage_of(db: Database) -> tuple[int | None, str | None, int, int]:
    async with db.session() as s:
        row = (
            await s.execute(
                sa.select(Round.live_entry_id, Round.live_phase, Round.live_pitch_seconds, Round.live_qa_seconds)
            )
        ).one()
        return row[0], row[1], row[2], row[3]


async def test_organiser_moves_through_the_running_order(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: tuple[ScoringWorld, int]
) -> None:
    scoring, organiser = world
    await client.get("/")
    await sign_in_as(client, db, settings, organiser)
    page = await client.get(BASE + "/control", headers=EN)
    assert page.status_code == 200 and "Start with the first entry" in page.text
    assert re.findall(r"(E00\d) – Startup", page.text) == ["E001", "E002", "E003"]
    e = scoring.entries
    assert (await control(client, "start")).status_code == 303
    assert await stage_of(db) == (e["E001"], "pitch", 300, 300)
    await control(client, "next")
    await control(client, "next")
    await control(client, "next")  # stays on the last entry
    assert (await stage_of(db))[:2] == (e["E003"], "pitch")
    await control(client, "previous")
    await control(client, "qa")
    assert (await stage_of(db))[:2] == (e["E002"], "qa")
    await control(client, "goto", entry=str(e["E001"]))
    assert (await stage_of(db))[:2] == (e["E001"], "pitch")
    await control(client, "goto", entry="999999")  # no such entry: nothing moves
    assert (await stage_of(db))[:2] == (e["E001"], "pitch")
    bad = await control(client, "timing", pitch_minutes="0", qa_minutes="x")
    assert bad.status_code == 400 and bad.text.count("Enter a number from 1 to 120.") == 2
    await control(client, "timing", pitch_minutes="4", qa_minutes="3")
    assert (await stage_of(db))[2:] == (240, 180)
    state = (await client.get(BASE + "/control/state")).json()
    assert state | {"remaining": 0} == {
        "entry": "E001",
        "title": "Entry number 1",
        "startup": "Startup 1 GmbH",
        "category": "Smart City",
        "position": 1,
        "total": 3,
        "phase": "pitch",
        "remaining": 0,
        "pitch_seconds": 240,
        "qa_seconds": 180,
        "closed": False,
        "jurors": [{"name": "Juror 1", "state": "not_started"}, {"name": "Juror 2", "state": "not_started"}],
        "submitted": 0,
    }
    # ending the session: the old button (do=stop) only shows the confirmation page; nothing changes
    stop = await control(client, "stop")
    assert stop.status_code == 400
    assert "Nothing was changed: this needs your confirmation on this page first." in stop.text
    assert (await stage_of(db))[0] is not None
    shown = await open_confirmation(client, BASE + "/end")
    assert shown.facts == [
        "E001 – Startup 1 GmbH is on stage now, entry 1 of 3; the stage is cleared for every juror.",
        "2 entries of the running order come after it.",
        "Score sheets stay as they are. You can start again from any entry.",
    ]
    ended = await confirm(client, BASE + "/end", page=shown)
    assert (ended.status_code, ended.headers["location"]) == (303, BASE + "/control")
    assert (await stage_of(db))[:2] == (None, None)
    assert (await open_confirmation(client, BASE + "/end")).refusals == [
        "No entry is on stage: there is no session to end."
    ]
    async with db.session() as s:
        actions = (
            (await s.execute(sa.select(AuditEvent.action).where(AuditEvent.action.like("live.%")))).scalars().all()
        )
    assert actions[0] == "live.start" and actions[-1] == "live.stop"


async def test_next_after_the_entry_on_stage_left_the_competition_goes_on_not_back_to_the_start(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: tuple[ScoringWorld, int]
) -> None:
    scoring, organiser = world
    await client.get("/")
    await sign_in_as(client, db, settings, organiser)
    e = scoring.entries
    await control(client, "start")
    await control(client, "next")
    assert (await stage_of(db))[0] == e["E002"]
    async with db.session() as s:  # withdrawn while it is on stage
        await s.execute(sa.update(Entry).where(Entry.id == e["E002"]).values(status=EntryStatus.WITHDRAWN))
    await control(client, "next")
    assert (await stage_of(db))[0] == e["E003"]
    await control(client, "goto", entry=str(e["E002"]))  # it cannot be put on stage again
    assert (await stage_of(db))[0] == e["E003"]


async def test_juror_live_page_shows_the_sheet_of_the_entry_on_stage(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: tuple[ScoringWorld, int]
) -> None:
    scoring, organiser = world
    await client.get("/")
    await sign_in_as(client, db, settings, scoring.jurors[0])
    waiting = await client.get(BASE, headers=EN)
    assert "The session has not started yet." in waiting.text and "data-sheet" not in waiting.text
    await sign_in_as(client, db, settings, organiser)
    await control(client, "start")
    await control(client, "next")
    await sign_in_as(client, db, settings, scoring.jurors[0])
    page = await client.get(BASE, headers=EN)
    assert 'data-entry="E002"' in page.text and f'action="{sheet_path(scoring.slug, "E002")}"' in page.text
    assert "sheet-live" in page.text
    assert re.search(r'Earlier entries.*?href="[^"]+/E001">E001 – Startup 1 GmbH', page.text, re.S)
    state = (await client.get(BASE + "/state")).json()
    assert (state["entry"], state["scoring"], state["sheet"]) == ("E002", True, sheet_path(scoring.slug, "E002"))
    # a juror submits: the organiser sees it for the entry on stage
    await post_sheet(client, scoring.slug, "E002", 0, "submit", score_innovation="8", score_impact="7")
    await sign_in_as(client, db, settings, organiser)
    seen = (await client.get(BASE + "/control/state")).json()
    assert (seen["submitted"], seen["jurors"][0]) == (1, {"name": "Juror 1", "state": "submitted"})
    page = await client.get(BASE + "/control", headers=EN)
    assert "1 of 2 submitted" in page.text


async def test_live_sheet_without_a_submission_date_shows_no_empty_date_and_offers_a_jump_link(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: tuple[ScoringWorld, int]
) -> None:
    scoring, organiser = world
    async with db.session() as s:  # a submitted sheet from a bundle: no submission time is known
        rnd = (await s.execute(sa.select(Round).where(Round.award_id == scoring.award_id))).scalar_one()
        criteria = (await s.execute(sa.select(Criterion).where(Criterion.round_id == rnd.id))).scalars().all()
        sheet = ScoreSheet(
            juror_id=scoring.jurors[0], entry_id=scoring.entries["E001"], round_id=rnd.id, status=SheetStatus.SUBMITTED
        )
        sheet.scores = [Score(criterion_id=c.id, value=Decimal(5)) for c in criteria]
        s.add(sheet)
    await client.get("/")
    await sign_in_as(client, db, settings, organiser)
    await control(client, "start")
    await sign_in_as(client, db, settings, scoring.jurors[0])
    for lang, submitted in (("en", "Submitted"), ("de", "Abgegeben")):
        choose_language(client, lang)
        page = await client.get(BASE)
        status = re.search(r'<p class="sheet-status">(.*?)</p>', page.text, re.S)
        assert status is not None and submitted in status.group(1)
        words = " ".join(re.sub(r"<[^>]+>", " ", status.group(1)).split())
        assert not re.search(r"\b(on|am)\s*(·|$)", words), words
        jump = re.search(r'<a [^>]*href="#sheet"[^>]*>([^<]+)</a>', page.text)
        assert jump is not None and jump.start() < page.text.index('id="sheet"'), lang
    # a sheet submitted here says when
    choose_language(client, "en")
    await post_sheet(client, scoring.slug, "E002", 0, "submit", score_innovation="8", score_impact="7")
    page = await client.get(sheet_path(scoring.slug, "E002"), headers=EN)
    status = re.search(r'<p class="sheet-status">(.*?)</p>', page.text, re.S)
    assert status is not None and re.search(r"on \d{1,2} \w{3} \d{4}, \d\d:\d\d", status.group(1))
    jump = re.search(r'<a [^>]*href="#sheet"[^>]*>([^<]+)</a>', page.text)
    assert jump is not None and jump.start() < page.text.index('id="entry-heading"')


async def test_juror_without_the_entry_on_stage_is_told_so(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: tuple[ScoringWorld, int]
) -> None:
    scoring, organiser = world
    async with db.session() as s:
        await s.execute(
            sa.text("DELETE FROM assignment WHERE juror_id = :j AND entry_id = :e"),
            {"j": scoring.jurors[1], "e": scoring.entries["E001"]},
        )
    await client.get("/")
    await sign_in_as(client, db, settings, organiser)
    await control(client, "start")
    await sign_in_as(client, db, settings, scoring.jurors[1])
    page = await client.get(BASE, headers=EN)
    assert "You do not score this entry." in page.text and "data-sheet" not in page.text
    assert (await client.get(BASE + "/state")).json()["scoring"] is False


async def test_event_stream_sends_the_stage_when_it_changes(db: Database, world: tuple[ScoringWorld, int]) -> None:
    scoring, _organiser = world
    async with db.session() as s:
        award: Award = await get_award(s, scoring.slug)
    rnd_id, juror = award.rounds[0].id, scoring.jurors[0]
    events = stage_events(db, lambda s: juror_stage(s, award, rnd_id, juror), seconds=10, poll=0.02)
    first = await anext(events)
    assert first.retry == 2000
    idle = json.loads((await anext(events)).data or "{}")
    assert (idle["entry"], idle["scoring"]) == (None, False)
    async with db.session() as s:
        await s.execute(
            sa.update(Round).where(Round.id == rnd_id).values(live_entry_id=scoring.entries["E003"], live_phase="pitch")
        )
    moved = json.loads((await anext(events)).data or "{}")
    assert (moved["entry"], moved["phase"], moved["scoring"]) == ("E003", "pitch", True)
    await events.aclose()
