"""Loading a round's rows from the database into the pure ranking engine
(:mod:`award_jury.ranking.compute`). One query per kind of row, whatever the award's size."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Category, Round
from award_jury.entries.models import Entry, EntryRound, Startup
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.judging.conflicts import has_conflict
from award_jury.judging.models import Score, ScoreSheet
from award_jury.ranking.compute import CategoryResult, CategorySpec, CriterionSpec, EntryRow, SheetRow, rank_round
from award_jury.ranking.models import TieDecision


def criterion_specs(rnd: Round, weights: Mapping[str, Decimal] | None = None) -> list[CriterionSpec]:
    """The round's criteria; ``weights`` overrides some weights (for a "what if" preview)."""
    return [
        CriterionSpec(
            key=c.key,
            weight=(weights or {}).get(c.key, c.weight),
            min=c.min_value,
            max=c.max_value,
            position=c.position,
        )
        for c in rnd.criteria
    ]


async def load_round_rows(
    session: AsyncSession, award: Award, rnd: Round
) -> tuple[list[CategorySpec], list[EntryRow], list[SheetRow], dict[str, list[str]]]:
    categories = [CategorySpec(slug=c.slug, prizes=c.prizes) for c in award.categories]
    entries = [
        EntryRow(ref=ref, category=category, startup=startup)
        for ref, category, startup in await session.execute(
            sa.select(Entry.ref, Category.slug, Startup.name)
            .join(EntryRound, EntryRound.entry_id == Entry.id)
            .join(Category, Category.id == Entry.category_id)
            .join(Startup, Startup.id == Entry.startup_id)
            .where(EntryRound.round_id == rnd.id, Entry.status == EntryStatus.SUBMITTED)
            .order_by(Entry.ref)
        )
    ]
    # Scores are read as plain floats and turned into exact Decimals through a small cache: a
    # round uses few distinct values, and stored values have at most 4 decimals.
    key_of = {c.id: c.key for c in rnd.criteria}
    # A sheet of a juror with a conflict is invalid (SPEC §2): one stored before the juror was
    # known to be on the entry's team does not count.
    valid = ~has_conflict(ScoreSheet.juror_id, ScoreSheet.entry_id)
    exact: dict[float, Decimal] = {}
    scores: dict[int, dict[str, Decimal]] = {}
    for sheet_id, criterion_id, raw in await session.execute(
        sa.select(Score.sheet_id, Score.criterion_id, sa.type_coerce(Score.value, sa.Float()))
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED, valid)
    ):
        value = exact.get(raw)
        if value is None:
            value = exact[raw] = Decimal(f"{raw:.4f}")
        scores.setdefault(sheet_id, {})[key_of[criterion_id]] = value
    sheets = [
        SheetRow(juror=str(juror_id), entry=ref, scores=scores.get(sheet_id, {}))
        for sheet_id, juror_id, ref in await session.execute(
            sa.select(ScoreSheet.id, ScoreSheet.juror_id, Entry.ref)
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED, valid)
            .order_by(ScoreSheet.id)
        )
    ]
    slug_of = {c.id: c.slug for c in award.categories}
    decisions = {
        slug_of[category_id]: list(refs)
        for category_id, refs in await session.execute(
            sa.select(TieDecision.category_id, TieDecision.ordered_refs).where(TieDecision.round_id == rnd.id)
        )
        if category_id in slug_of
    }
    return categories, entries, sheets, decisions


async def rank(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    *,
    method: str | None = None,
    weights: Mapping[str, Decimal] | None = None,
) -> list[CategoryResult]:
    categories, entries, sheets, decisions = await load_round_rows(session, award, rnd)
    return rank_round(
        criterion_specs(rnd, weights),
        categories,
        entries,
        sheets,
        method or rnd.method.value,
        rnd.min_sheets,
        decisions,
    )
