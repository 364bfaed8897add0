"""Review of live pitch day (issue 6): regression tests for what the review found."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from award_jury.db import Database
from award_jury.entries.models import Entry
from award_jury.enums import EntryStatus
from award_jury.settings import Settings
from tests.integration.test_live import control, stage_of, world  # noqa: F401  (world: fixture)
from tests.support.accounts import sign_in_as
from tests.support.scoring import ScoringWorld


async def test_next_after_the_entry_on_stage_left_the_competition_goes_on_not_back_to_the_start(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: tuple[ScoringWorld, int],  # noqa: F811
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
