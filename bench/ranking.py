"""Benchmark: ranking a large round from the database (issue "Rankings and results").

5,000 entries in two categories, 200 jurors, 8 criteria, 25,000 submitted sheets (200,000
scores), on SQLite (or AWARD_JURY_BENCH_DATABASE_URL). Reports, best of N:
  read   - just reading the score rows of the round (one SELECT, rows fetched)
  load   - ranking/queries.load_round_rows (entries, sheets, scores, decisions)
  rank   - the pure engine on the loaded rows
  total  - load + rank, what `award-jury results` does
Run: uv run python bench/ranking.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.awards.models import Award, Category, Criterion, Round
from award_jury.db import Database
from award_jury.entries.models import Entry, EntryRound, Startup
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.judging.models import Score, ScoreSheet
from award_jury.migrate import upgrade
from award_jury.ranking.compute import rank_round
from award_jury.ranking.queries import criterion_specs, load_round_rows

ENTRIES, JURORS, CRITERIA, SHEETS_PER_ENTRY = 5000, 200, 8, 5


async def populate(db: Database, seed: int = 7) -> int:
    rng = random.Random(seed)
    async with db.session() as s:
        award = Award(slug="bench", name="Bench", locale="en")
        award.categories = [Category(slug="a", name="A", prizes=3, position=0),
                            Category(slug="b", name="B", prizes=3, position=1)]  # fmt: skip
        rnd = Round(slug="r", name="R", min_sheets=3)
        rnd.criteria = [
            Criterion(key=f"c{i}", name=f"C{i}", weight=Decimal(10 + i), min_value=Decimal(0), max_value=Decimal(10),
                      step=Decimal(1), position=i)
            for i in range(CRITERIA)
        ]  # fmt: skip
        award.rounds = [rnd]
        s.add(award)
        await s.flush()
        jurors = [Person(email=f"j{j}@bench.example", name=f"Juror {j}") for j in range(JURORS)]
        s.add_all(jurors)
        await s.flush()
        startups = [Startup(name=f"Startup {e}") for e in range(ENTRIES)]
        s.add_all(startups)
        await s.flush()
        await s.execute(sa.insert(Entry), [
            {"award_id": award.id, "category_id": award.categories[e % 2].id, "startup_id": startups[e].id,
             "ref": f"E{e:05d}", "status": EntryStatus.SUBMITTED, "version": 1}
            for e in range(ENTRIES)
        ])  # fmt: skip
        entry_ids = (await s.execute(sa.select(Entry.id).order_by(Entry.id))).scalars().all()
        await s.execute(sa.insert(EntryRound), [{"entry_id": e, "round_id": rnd.id} for e in entry_ids])
        sheet_rows = []
        for e in entry_ids:
            for j in rng.sample(range(JURORS), SHEETS_PER_ENTRY):
                sheet_rows.append({"juror_id": jurors[j].id, "entry_id": e, "round_id": rnd.id,
                                   "status": SheetStatus.SUBMITTED, "version": 1})  # fmt: skip
        await s.execute(sa.insert(ScoreSheet), sheet_rows)
        sheet_ids = (await s.execute(sa.select(ScoreSheet.id))).scalars().all()
        criterion_ids = [c.id for c in rnd.criteria]
        await s.execute(sa.insert(Score), [
            {"sheet_id": sid, "criterion_id": cid, "value": Decimal(rng.randint(0, 10))}
            for sid in sheet_ids for cid in criterion_ids
        ])  # fmt: skip
        return len(sheet_ids)


async def main(repeat: int) -> None:
    url = os.environ.get("AWARD_JURY_BENCH_DATABASE_URL")
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="award-jury-bench-")
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    db = Database.from_url(url)
    await upgrade(db)
    start = time.perf_counter()
    sheets = await populate(db)
    print(f"populated {ENTRIES} entries, {JURORS} jurors, {CRITERIA} criteria, {sheets} sheets "
          f"in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})")  # fmt: skip
    from award_jury.awards.services import get_award

    times: dict[str, list[float]] = {"read": [], "load": [], "rank": [], "total": []}
    for _ in range(repeat):
        async with db.session() as s:
            award = await get_award(s, "bench")
            rnd = award.rounds[0]
            t0 = time.perf_counter()
            rows = (
                await s.execute(
                    sa.select(Score.sheet_id, Score.criterion_id, Score.value)
                    .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
                    .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
                )
            ).all()
            t1 = time.perf_counter()
            categories, entries, sheet_rows, decided = await load_round_rows(s, award, rnd)
            t2 = time.perf_counter()
            rank_round(criterion_specs(rnd), categories, entries, sheet_rows, rnd.method.value, rnd.min_sheets, decided)
            t3 = time.perf_counter()
        assert len(rows) == sheets * CRITERIA
        times["read"].append(t1 - t0)
        times["load"].append(t2 - t1)
        times["rank"].append(t3 - t2)
        times["total"].append(t3 - t1)
    best = {k: min(v) for k, v in times.items()}
    print(" ".join(f"{k} {v * 1000:.0f} ms" for k, v in best.items())
          + f"; total / read = {best['total'] / best['read']:.2f}")  # fmt: skip
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
