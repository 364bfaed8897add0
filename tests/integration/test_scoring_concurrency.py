"""Many jurors saving at once, through the whole app, on a real database of its own (a file on
SQLite, a fresh database on PostgreSQL; not the rolled-back test transaction): no sheet or score
is duplicated or lost, no request answers 5xx."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from award_jury.accounts.models import Person, WebSession
from award_jury.accounts.sessions import start_session
from award_jury.db import Database, utcnow
from award_jury.enums import SheetStatus
from award_jury.judging.models import Score, ScoreSheet
from award_jury.settings import Settings
from award_jury.web.app import create_app
from award_jury.web.auth import session_policy
from tests.support.csrf import csrf_token
from tests.support.scoring import build_world, scoring_bundle, sheet_path

#: Fifty jurors at once is the point; each scores its entries one after the other, so more entries
#: only make the test longer (10 entries made 1,500 requests; 4 make 600, fifty jurors at it all the same).
JURORS, ENTRIES = 50, 4


def values_for(juror: int, entry: int) -> tuple[str, str]:
    """Scores that differ per pair, so a score saved on the wrong sheet would show."""
    return str((juror + entry) % 11), str(((juror * 3 + entry) % 21) / 2).removesuffix(".0")


async def juror_client(app: Any, settings: Settings, db: Database, person_id: int) -> httpx.AsyncClient:
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        token = await start_session(s, person, session_policy(settings), utcnow())
        # seen half an hour ago: the first request of each juror touches the session (a write)
        await s.execute(
            sa.update(WebSession)
            .where(WebSession.person_id == person_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=30))
        )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")
    await client.get("/")  # the CSRF cookie
    client.cookies.set(settings.session_cookie_name, token)
    return client


async def score_everything(client: httpx.AsyncClient, slug: str, juror: int, refs: list[str]) -> list[int]:
    """Like the page: an autosave with one score, another with both, then the form's Submit."""
    statuses = []
    token = csrf_token(client)
    headers = {"x-csrftoken": token, "accept": "application/json"}
    for n, ref in enumerate(refs):
        innovation, impact = values_for(juror, n)
        url = sheet_path(slug, ref)
        first = await client.post(
            url + "/autosave", data={"version": "0", "score-innovation": innovation}, headers=headers
        )
        statuses.append(first.status_code)
        version = first.json().get("version", 0) if first.status_code == 200 else 0
        second = await client.post(
            url + "/autosave",
            data={
                "version": str(version),
                "score-innovation": innovation,
                "score-impact": impact,
                "comment": f"{juror}/{ref}",
            },
            headers=headers,
        )
        statuses.append(second.status_code)
        version = second.json().get("version", version) if second.status_code == 200 else version
        submitted = await client.post(
            url,
            data={
                "version": str(version),
                "action": "submit",
                "score-innovation": innovation,
                "score-impact": impact,
                "comment": f"{juror}/{ref}",
                "_csrf_token": token,
            },
            follow_redirects=False,
        )
        statuses.append(submitted.status_code)
    return statuses


async def test_fifty_jurors_saving_and_submitting_at_once_lose_and_duplicate_nothing(
    make_database_url: Any, tmp_path: Path
) -> None:
    url = make_database_url("conc", migrated=True)
    db = Database.from_url(url)
    async with db.session() as s:
        world = await build_world(s, scoring_bundle("busy-award", entries=ENTRIES, jurors=JURORS))
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "var",
        secret_key="concurrency-secret-0123456789",
        base_url="http://testserver.local",
    )
    app = create_app(settings, database=db)
    refs = sorted(world.entries)
    clients = [await juror_client(app, settings, db, person_id) for person_id in world.jurors]
    try:
        started = time.perf_counter()
        results = await asyncio.gather(*(score_everything(c, world.slug, n, refs) for n, c in enumerate(clients)))
        elapsed = time.perf_counter() - started
        # two first saves of one sheet at the same moment: one wins, the other is told (409)
        race = await asyncio.gather(
            *(
                c.post(
                    sheet_path(world.slug, "E001") + "/autosave",
                    data={"version": "0", "score-innovation": "1"},
                    headers={"x-csrftoken": csrf_token(c), "accept": "application/json"},
                )
                for c in (clients[0], clients[0])
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    statuses = Counter(status for juror_statuses in results for status in juror_statuses)
    assert statuses == {200: 2 * JURORS * ENTRIES, 303: JURORS * ENTRIES}, statuses
    assert sorted(r.status_code for r in race) == [409, 409]  # E001 exists for juror 0 already: version 0 is stale

    async with db.session() as s:
        sheets = (await s.execute(sa.select(ScoreSheet))).scalars().all()
        scores = (await s.execute(sa.select(Score.sheet_id, Score.criterion_id, Score.value))).all()
        key_of = dict((await s.execute(sa.text("SELECT id, key FROM criterion"))).all())
    await db.dispose()
    assert len(sheets) == JURORS * ENTRIES
    assert len({(sh.juror_id, sh.entry_id, sh.round_id) for sh in sheets}) == JURORS * ENTRIES
    assert all(sh.status == SheetStatus.SUBMITTED for sh in sheets)
    assert len(scores) == 2 * JURORS * ENTRIES
    juror_index = {person_id: n for n, person_id in enumerate(world.jurors)}
    entry_index = {entry_id: refs.index(ref) for ref, entry_id in world.entries.items()}
    by_sheet = {sh.id: sh for sh in sheets}
    for sheet_id, criterion_id, value in scores:
        sheet = by_sheet[sheet_id]
        innovation, impact = values_for(juror_index[sheet.juror_id], entry_index[sheet.entry_id])
        expected = innovation if key_of[criterion_id] == "innovation" else impact
        assert value == Decimal(expected), (sheet.juror_id, sheet.entry_id, key_of[criterion_id])
        assert sheet.comment == f"{juror_index[sheet.juror_id]}/{refs[entry_index[sheet.entry_id]]}"
    print(f"\n{3 * JURORS * ENTRIES} requests from {JURORS} jurors in {elapsed:.1f} s")


async def test_two_first_saves_of_one_sheet_at_once_give_one_sheet(make_database_url: Any, tmp_path: Path) -> None:
    url = make_database_url("race", migrated=True)
    db = Database.from_url(url)
    async with db.session() as s:
        world = await build_world(s, scoring_bundle("race-award", entries=3, jurors=1))
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "var",
        secret_key="race-secret-0123456789abcdef",
        base_url="http://testserver.local",
    )
    app = create_app(settings, database=db)
    tabs = [await juror_client(app, settings, db, world.jurors[0]) for _ in range(2)]
    try:
        answers = []
        for ref in sorted(world.entries):
            answers.append(
                await asyncio.gather(
                    *(
                        tab.post(
                            sheet_path(world.slug, ref) + "/autosave",
                            data={"version": "0", "score-innovation": str(n + 4), "comment": f"tab {n}"},
                            headers={
                                "x-csrftoken": csrf_token(tab),
                                "accept": "application/json",
                            },
                        )
                        for n, tab in enumerate(tabs)
                    )
                )
            )
    finally:
        for tab in tabs:
            await tab.aclose()
    async with db.session() as s:
        sheets = (await s.execute(sa.select(ScoreSheet.entry_id, ScoreSheet.comment))).all()
        score_count = (await s.execute(sa.select(sa.func.count(Score.id)))).scalar_one()
    await db.dispose()
    for pair in answers:
        assert sorted(r.status_code for r in pair) == [200, 409]
        winner = next(r for r in pair if r.status_code == 200).json()
        loser = next(r for r in pair if r.status_code == 409).json()
        assert loser["current"]["comment"] == winner["comment"]  # the loser sees what won
    assert len(sheets) == 3 and score_count == 3
