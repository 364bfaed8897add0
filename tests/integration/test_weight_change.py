"""Changing a weight after scores were submitted: first a preview of the ranks that would
move, then the change with the moves in the audit log."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import sqlalchemy as sa

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Criterion, Round
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.demo import load_demo_bundle
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.csrf import csrf_token

ROUND = "/awards/smart-country-startup-award-2026/rounds/vorauswahl"


async def organiser(client: httpx.AsyncClient, db: Database, settings: Settings) -> str:
    async with db.session() as s:
        award = await import_bundle(s, load_demo_bundle())
        person = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, person, Role.ORGANISER, award.id)
        token = await start_session(s, person, session_policy(settings), utcnow())
    client.cookies.set(settings.session_cookie_name, token)
    return csrf_token(await client.get(ROUND))


def team_form(weight: str) -> dict[str, str]:
    return {
        "name": "Team",
        "description": "",
        "weight": weight,
        "min_value": "0",
        "max_value": "10",
        "step": "1",
        "levels": "",
    }


async def team_weight(db: Database) -> Decimal:
    """The team weight of the pre-selection (the final has a criterion "team" too)."""
    async with db.session() as s:
        query = (
            sa.select(Criterion.weight)
            .join(Round, Round.id == Criterion.round_id)
            .where(Criterion.key == "team", Round.slug == "vorauswahl")
        )
        return (await s.execute(query)).scalar_one()


async def test_weight_change_on_a_scored_round_asks_first_then_audits_the_moves(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings)
    ask = await client.post(f"{ROUND}/criteria/team", data={**team_form("300"), "_csrf_token": token})
    assert ask.status_code == 200
    assert "Change a weight?" in ask.text
    assert "from 10 to 300" in ask.text
    assert await team_weight(db) == 10  # nothing changed yet
    moves = len(re.findall(r"<tr><td>(?:Smart City|GovTech)</td>", ask.text))
    assert moves > 0  # with the team criterion 30 times heavier, the order changes

    done = await client.post(
        f"{ROUND}/criteria/team",
        data={**team_form("300"), "confirm": "1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert await team_weight(db) == 300
    async with db.session() as s:
        event = (
            (
                await s.execute(
                    sa.select(AuditEvent).where(AuditEvent.action == "criterion.saved").order_by(AuditEvent.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert event is not None
    assert (event.before["weight"], event.after["weight"]) == ("10", "300")
    assert len(event.after.get("rank_moves", [])) == moves


async def test_scale_change_on_a_scored_round_is_still_refused(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings)
    response = await client.post(
        f"{ROUND}/criteria/team", data={**team_form("10"), "max_value": "20", "_csrf_token": token}
    )
    assert response.status_code == 400
    assert "its scales are fixed" in response.text
