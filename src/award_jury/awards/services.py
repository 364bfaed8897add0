"""Award read services used by the public pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.awards.models import Award, Criterion, Round
from award_jury.errors import NotFoundError


def round_phase(rnd: Round, now: datetime) -> str:
    """Where a round stands: ``upcoming``, ``open`` (call for entries), ``judging``, ``closed``."""
    if rnd.finalised_at is not None:
        return "closed"
    if rnd.submissions_open and now < rnd.submissions_open:
        return "upcoming"
    if rnd.submissions_open and rnd.submissions_close and now <= rnd.submissions_close:
        return "open"
    return "closed" if rnd.scoring_closed(now) else "judging"


@dataclass(frozen=True)
class AwardSummary:
    award: Award
    open_round: Round | None
    current_round: Round | None
    phase: str


def summarise(award: Award, now: datetime) -> AwardSummary:
    phases = [(r, round_phase(r, now)) for r in award.rounds]
    open_round = next((r for r, p in phases if p == "open"), None)
    active = next(((r, p) for r, p in phases if p in ("open", "judging")), None)
    if active is None:
        active = next(((r, p) for r, p in phases if p == "upcoming"), None)
    if active is None and phases:
        active = (phases[-1][0], "closed")
    current, phase = active if active else (None, "closed")
    return AwardSummary(award, open_round, current, phase)


async def list_awards(session: AsyncSession, now: datetime) -> list[AwardSummary]:
    """Every award, those with an open call first (soonest deadline first), then by name."""
    awards = (
        await session.execute(
            sa.select(Award).options(selectinload(Award.categories), selectinload(Award.rounds)).order_by(Award.name)
        )
    ).scalars()
    summaries = [summarise(a, now) for a in awards]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(
        summaries,
        key=lambda s: (s.open_round is None, s.open_round.submissions_close if s.open_round else far),
    )


async def get_award(session: AsyncSession, slug: str) -> Award:
    award = (
        await session.execute(
            sa.select(Award)
            .where(Award.slug == slug)
            .options(
                selectinload(Award.categories),
                selectinload(Award.rounds).selectinload(Round.criteria).selectinload(Criterion.levels),
            )
        )
    ).scalar_one_or_none()
    if award is None:
        raise NotFoundError(slug)
    return award
