"""Review of jury scoring (issue 6): regression tests for what the review found."""

from __future__ import annotations

import copy

import httpx
import pytest
import sqlalchemy as sa

from award_jury.awards.models import Round
from award_jury.db import Database, utcnow
from award_jury.judging.models import Assignment, Conflict, ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import sign_in_as
from tests.support.scoring import ScoringWorld, autosave, build_world, csrf_of, scoring_bundle, sheet_path

EN = {"accept-language": "en"}


@pytest.fixture
async def world(db: Database) -> ScoringWorld:
    async with db.session() as s:
        return await build_world(s, scoring_bundle())


async def test_a_zero_with_a_huge_exponent_is_saved_as_zero_not_a_500(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    # "0E+999999999" is a valid Decimal equal to 0; PostgreSQL's numeric cannot take the exponent.
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[0])
    response = await autosave(client, world.slug, "E001", 0, score_innovation="0E+999999999", score_impact="1E+1")
    assert response.status_code == 200, response.text
    assert response.json()["scores"] == {"innovation": "0", "impact": "10"}


async def test_a_conflict_declared_in_a_later_round_keeps_the_sheets_of_a_finalised_round(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = scoring_bundle("two-rounds")
    final = copy.deepcopy(doc["award"]["rounds"][0]) | {"slug": "final", "name": "Final"}
    doc["award"]["rounds"].append(final)
    for entry in doc["entries"]:
        entry["rounds"] = ["pre-selection", "final"]
    doc["sheets"] = [
        {
            "juror": "juror1@jury.example",
            "entry": "E001",
            "round": "pre-selection",
            "status": "submitted",
            "scores": {"innovation": 8, "impact": 6},
            "comment": "scored in the first round",
        }
    ]
    async with db.session() as s:
        world = await build_world(s, doc)
        rounds = {r.slug: r for r in (await s.execute(sa.select(Round))).scalars()}
        rounds["pre-selection"].finalised_at = utcnow()
        s.add(Assignment(round_id=rounds["final"].id, entry_id=world.entries["E001"], juror_id=world.jurors[0]))
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[0])
    path = sheet_path(world.slug, "E001", "final")
    response = await client.post(
        path + "/conflict",
        data={"_csrf_token": csrf_of(client), "kind": "other", "reason": "I advised them last year"},
        headers=EN,
        follow_redirects=False,
    )
    async with db.session() as s:
        kept = (await s.execute(sa.select(ScoreSheet.comment).where(ScoreSheet.juror_id == world.jurors[0]))).all()
        conflicts = (await s.execute(sa.select(Conflict.id))).all()
    # the frozen round's sheet stays; the juror is told to ask the organisers instead
    assert kept == [("scored in the first round",)]
    assert conflicts == []
    assert response.status_code == 409
    assert "Ask the organisers" in response.text


async def test_an_organiser_cannot_record_a_conflict_that_would_discard_a_finalised_sheet(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    from award_jury.accounts.models import Person
    from award_jury.accounts.services import grant_role
    from award_jury.enums import Role

    doc = scoring_bundle("frozen-award")
    doc["sheets"] = [
        {
            "juror": "juror1@jury.example",
            "entry": "E001",
            "round": "pre-selection",
            "status": "submitted",
            "scores": {"innovation": 8, "impact": 6},
            "comment": "frozen",
        }
    ]
    async with db.session() as s:
        world = await build_world(s, doc)
        rnd = (await s.execute(sa.select(Round))).scalars().one()
        rnd.finalised_at = utcnow()
        organiser = await s.get(Person, world.jurors[1])
        assert organiser is not None
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
        entry_id = world.entries["E001"]
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[1])
    response = await client.post(
        f"/awards/{world.slug}/conflicts",
        data={
            "_csrf_token": csrf_of(client),
            "juror": str(world.jurors[0]),
            "entry": str(entry_id),
            "kind": "other",
            "reason": "found out later",
        },
        headers=EN,
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "results are final" in response.text
    async with db.session() as s:
        assert (await s.execute(sa.select(ScoreSheet.comment))).scalars().all() == ["frozen"]
        assert (await s.execute(sa.select(Conflict.id))).all() == []
