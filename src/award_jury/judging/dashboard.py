"""A juror's dashboard for one round: their entries grouped by category, each with its state,
in an order of their own (stable for them, different for each juror, so no entry is always
read first). Two queries whatever the number of entries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Category, Round
from award_jury.entries.models import Entry, EntryRound, Startup
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.judging.conflicts import conflicted_entries
from award_jury.judging.models import Assignment, Score, ScoreSheet

NOT_STARTED, DRAFT, SUBMITTED = "not_started", "draft", "submitted"
STATES = (NOT_STARTED, DRAFT, SUBMITTED)


def juror_order_key(juror_id: int, entry_id: int) -> str:
    """The juror's own, stable order of entries (SHA-256 of both ids)."""
    return hashlib.sha256(f"{juror_id}:{entry_id}".encode()).hexdigest()


@dataclass
class DashboardEntry:
    entry_id: int
    ref: str
    title: str
    startup: str
    category_id: int
    state: str
    assigned: bool
    scored: int
    updated_at: datetime | None


@dataclass
class CategoryGroup:
    category: Category
    entries: list[DashboardEntry]


@dataclass
class Dashboard:
    round: Round
    groups: list[CategoryGroup]
    criteria: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def percent_done(self) -> int:
        return round(100 * self.counts.get(SUBMITTED, 0) / self.total) if self.total else 0


def time_left(deadline: datetime | None, now: datetime) -> tuple[str, int] | None:
    """What remains until ``deadline``: ("days" | "hours" | "minutes", n), ("over", 0), or None."""
    if deadline is None:
        return None
    seconds = (deadline - now).total_seconds()
    if seconds <= 0:
        return ("over", 0)
    if seconds >= 2 * 86400:
        return ("days", int(seconds // 86400))
    if seconds >= 2 * 3600:
        return ("hours", int(seconds // 3600))
    return ("minutes", max(1, int(seconds // 60)))


async def juror_dashboard(
    session: AsyncSession, award: Award, rnd: Round, juror_id: int, *, state: str = "", category: str = ""
) -> Dashboard:
    """The juror's entries in ``rnd``: those assigned to them and those they hold a sheet for,
    without conflicts and without entries that are no longer submitted. ``state`` and
    ``category`` (a slug) filter the list; the counts are of the whole list."""
    assigned = sa.select(Assignment.entry_id).where(Assignment.round_id == rnd.id, Assignment.juror_id == juror_id)
    own = sa.select(ScoreSheet.entry_id).where(ScoreSheet.round_id == rnd.id, ScoreSheet.juror_id == juror_id)
    conflicted = conflicted_entries(juror_id)
    rows = (
        await session.execute(
            sa.select(
                Entry.id,
                Entry.ref,
                Entry.title,
                Entry.category_id,
                Startup.name,
                Entry.id.in_(assigned).label("assigned"),
            )
            .join(EntryRound, sa.and_(EntryRound.entry_id == Entry.id, EntryRound.round_id == rnd.id))
            .join(Startup, Startup.id == Entry.startup_id)
            .where(
                Entry.award_id == award.id,
                Entry.status == EntryStatus.SUBMITTED,
                sa.or_(Entry.id.in_(assigned), Entry.id.in_(own)),
                Entry.id.not_in(conflicted),
            )
        )
    ).all()
    sheets = {
        entry_id: (status, scored, updated_at)
        for entry_id, status, updated_at, scored in await session.execute(
            sa.select(ScoreSheet.entry_id, ScoreSheet.status, ScoreSheet.updated_at, sa.func.count(Score.id))
            .outerjoin(Score, Score.sheet_id == ScoreSheet.id)
            .where(ScoreSheet.round_id == rnd.id, ScoreSheet.juror_id == juror_id)
            .group_by(ScoreSheet.id, ScoreSheet.entry_id, ScoreSheet.status, ScoreSheet.updated_at)
        )
    }
    items: list[DashboardEntry] = []
    for entry_id, ref, title, category_id, startup, is_assigned in rows:
        status, scored, updated_at = sheets.get(entry_id, (None, 0, None))
        sheet_state = NOT_STARTED if status is None else SUBMITTED if status == SheetStatus.SUBMITTED else DRAFT
        items.append(
            DashboardEntry(
                entry_id, ref, title, startup, category_id, sheet_state, bool(is_assigned), int(scored), updated_at
            )
        )
    counts = dict.fromkeys(STATES, 0)
    for item in items:
        counts[item.state] += 1
    items.sort(key=lambda item: juror_order_key(juror_id, item.entry_id))
    groups = []
    for cat in award.categories:
        if category and cat.slug != category:
            continue
        chosen = [i for i in items if i.category_id == cat.id and (not state or i.state == state)]
        if chosen:
            groups.append(CategoryGroup(cat, chosen))
    return Dashboard(round=rnd, groups=groups, criteria=len(rnd.criteria), counts=counts)


def scoring_rounds(award: Award) -> list[Round]:
    """The rounds a juror can open (every round with criteria)."""
    return [r for r in award.rounds if r.criteria]


async def open_work(session: AsyncSession, award: Award, juror_id: int) -> dict[int, int]:
    """Round id -> how many assigned entries of the juror have no submitted sheet yet."""
    submitted = sa.select(ScoreSheet.id).where(
        ScoreSheet.round_id == Assignment.round_id,
        ScoreSheet.entry_id == Assignment.entry_id,
        ScoreSheet.juror_id == juror_id,
        ScoreSheet.status == SheetStatus.SUBMITTED,
    )
    rows = await session.execute(
        sa.select(Assignment.round_id, sa.func.count())
        .where(
            Assignment.juror_id == juror_id,
            Assignment.round_id.in_([r.id for r in award.rounds]),
            ~submitted.exists(),
            Assignment.entry_id.not_in(conflicted_entries(juror_id)),
        )
        .group_by(Assignment.round_id)
    )
    return {round_id: int(n) for round_id, n in rows}


def default_round(award: Award, now: datetime, work: dict[int, int] | None = None) -> Round | None:
    """The round a juror most likely wants: the first still open for scoring where they have
    sheets to do, else the first still open, else the last one."""
    rounds = scoring_rounds(award)
    open_rounds = [r for r in rounds if r.scoring_open(now)]
    for rnd in open_rounds:
        if (work or {}).get(rnd.id, 0) > 0:
            return rnd
    if open_rounds:
        return open_rounds[0]
    return rounds[-1] if rounds else None


async def award_to_score(session: AsyncSession, juror_id: int, now: datetime) -> Award | None:
    """Where a juror most likely goes after signing in: the award they hold assignments in, or,
    when there are several, the one award with sheets still to do in a round open for scoring.
    None when that is not one award (the account page lists them all)."""
    rows = (
        await session.execute(
            sa.select(Round)
            .join(Assignment, Assignment.round_id == Round.id)
            .where(Assignment.juror_id == juror_id)
            .distinct()
        )
    ).scalars()
    rounds = list(rows)
    award_ids = {r.award_id for r in rounds}
    if not award_ids:
        return None
    if len(award_ids) > 1:
        open_ids = {r.award_id for r in rounds if r.scoring_open(now)}
        if len(open_ids) != 1:
            return None
        award_ids = open_ids
    return await session.get(Award, award_ids.pop())
