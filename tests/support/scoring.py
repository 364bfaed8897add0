"""Test data for the jury's pages: an award whose round is open for scoring, jurors assigned
to entries, and helpers to post a sheet like the page does."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.awards.models import Award
from award_jury.bundle.services import import_bundle
from award_jury.entries.models import Entry
from award_jury.judging.models import Assignment
from tests.support.csrf import csrf_token
from tests.support.factories import small_bundle

ROUND = "pre-selection"
OPEN_UNTIL = "2099-09-30T23:59:59+02:00"


def scoring_bundle(slug: str = "score-award", *, entries: int = 4, jurors: int = 2) -> dict[str, Any]:
    """``entries`` submitted smart-city entries (E001…), ``jurors`` jurors (juror1@… ), no sheets,
    no conflicts, scoring open until 2099. Criteria: innovation 0–10 step 1 (weight 30), impact
    0–10 step 0.5 (weight 25)."""
    doc = small_bundle(slug)
    doc["award"]["rounds"][0]["scoring_close"] = OPEN_UNTIL
    template = doc["entries"][0]
    doc["entries"] = []
    for i in range(1, entries + 1):
        e = copy.deepcopy(template)
        e.update(ref=f"E{i:03d}", title=f"Entry number {i}", pitch=f"Pitch of entry {i}.")
        e["startup"] = {"name": f"Startup {i} GmbH", "city": "Leipzig"}
        e["contact"] = {"email": f"contact{i}@startup.example", "name": f"Contact Person {i}"}
        doc["entries"].append(e)
    doc["jurors"] = [
        {"email": f"juror{j}@jury.example", "name": f"Juror {j}", "categories": ["smart-city"]}
        for j in range(1, jurors + 1)
    ]
    doc["conflicts"] = []
    doc["sheets"] = []
    return doc


@dataclass
class ScoringWorld:
    award_id: int
    slug: str
    jurors: list[int]
    entries: dict[str, int]


async def build_world(session: AsyncSession, doc: dict[str, Any], *, assign_all: bool = True) -> ScoringWorld:
    award: Award = await import_bundle(session, doc)
    rnd = award.rounds[0]
    jurors = [
        (await session.execute(sa.select(Person.id).where(Person.email == j["email"]))).scalar_one()
        for j in doc["jurors"]
    ]
    entries = {
        ref: entry_id
        for entry_id, ref in await session.execute(sa.select(Entry.id, Entry.ref).where(Entry.award_id == award.id))
    }
    if assign_all:
        session.add_all(Assignment(round_id=rnd.id, entry_id=e, juror_id=j) for j in jurors for e in entries.values())
    await session.flush()
    return ScoringWorld(award.id, award.slug, jurors, entries)


def sheet_path(slug: str, ref: str, round_slug: str = ROUND) -> str:
    return f"/awards/{slug}/rounds/{round_slug}/jury/entries/{ref}"


async def autosave(client: httpx.AsyncClient, slug: str, ref: str, version: int, **fields: str) -> httpx.Response:
    data = {"version": str(version), **{k.replace("score_", "score-"): v for k, v in fields.items()}}
    return await client.post(
        sheet_path(slug, ref) + "/autosave",
        data=data,
        headers={"x-csrftoken": csrf_token(client), "accept": "application/json"},
    )


async def post_sheet(
    client: httpx.AsyncClient, slug: str, ref: str, version: int, action: str, **fields: str
) -> httpx.Response:
    data = {
        "version": str(version),
        "action": action,
        "_csrf_token": csrf_token(client),
        **{k.replace("score_", "score-"): v for k, v in fields.items()},
    }
    return await client.post(
        sheet_path(slug, ref), data=data, headers={"accept-language": "en"}, follow_redirects=False
    )
