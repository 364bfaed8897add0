"""Review of jury scoring (issue 6): regression tests for what the review found."""

from __future__ import annotations

import httpx
import pytest

from award_jury.db import Database
from award_jury.settings import Settings
from tests.support.accounts import sign_in_as
from tests.support.scoring import ScoringWorld, autosave, build_world, scoring_bundle

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
