"""Results of a round for organisers: the ranking with its explanations, tie decisions,
finalisation (a frozen snapshot with the SHA-256 of its canonical JSON) and publication."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.consequences import Consequences
from award_jury.db import utcnow
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.ranking import analysis, rules
from award_jury.ranking.compute import CategoryResult, rank_round, results_document, sheet_total, tie_break_order
from award_jury.ranking.models import ResultSnapshot, TieDecision
from award_jury.ranking.queries import criterion_specs, load_round_rows, rank
from award_jury.webhooks import services as webhooks


def canonical_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


@dataclass
class RoundResults:
    results: list[CategoryResult]
    document: dict[str, Any]
    by_method: dict[str, dict[str, tuple[int | None, bool]]]
    changes: set[str]
    spreads: dict[str, analysis.Spread | None]
    calibration: list[tuple[str, analysis.JurorCalibration]]
    decisions: dict[str, TieDecision]
    snapshot: ResultSnapshot | None
    juror_names: dict[str, str] = field(default_factory=dict)

    @property
    def needs_decision(self) -> list[str]:
        return [e.ref for c in self.results for e in c.entries if e.decision_needed]


async def _juror_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    rows = await session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(numeric)))
    return {str(pid): name for pid, name in rows}


async def round_results(session: AsyncSession, award: Award, rnd: Round) -> RoundResults:
    categories, entries, sheets, decided = await load_round_rows(session, award, rnd)
    criteria = criterion_specs(rnd)
    method = rnd.method.value
    results = rank_round(criteria, categories, entries, sheets, method, rnd.min_sheets, decided)
    by_method = analysis.ranks_by_method(criteria, categories, entries, sheets, rnd.min_sheets, decided)
    names = await _juror_names(session, {s.juror for s in sheets})
    calibration = [(names.get(c.juror, c.juror), c) for c in analysis.calibration(criteria, sheets)]
    decisions = {
        d.category_id: d
        for d in (await session.execute(sa.select(TieDecision).where(TieDecision.round_id == rnd.id))).scalars()
    }
    slug_of = {c.id: c.slug for c in award.categories}
    snapshot = (
        await session.execute(sa.select(ResultSnapshot).where(ResultSnapshot.round_id == rnd.id))
    ).scalar_one_or_none()
    return RoundResults(
        results=results,
        document=results_document(award.slug, rnd.slug, method, results),
        by_method=by_method,
        changes=analysis.prize_changes(by_method, method),
        spreads={e.ref: analysis.spread(e.sheet_totals) for c in results for e in c.entries},
        calibration=sorted(calibration, key=lambda item: item[0]),
        decisions={slug_of[k]: v for k, v in decisions.items() if k in slug_of},
        snapshot=snapshot,
        juror_names=names,
    )


async def ranked_document(
    session: AsyncSession, award: Award, rnd: Round
) -> tuple[list[CategoryResult], dict[str, Any]]:
    """The round's ranking by its own method (with the organisers' decisions) and its SPEC §3
    document: what decisions, finalisation and the fingerprint check need, without the analyses."""
    results = await rank(session, award, rnd)
    return results, results_document(award.slug, rnd.slug, rnd.method.value, results)


async def results_for(session: AsyncSession, award: Award, rnd: Round, method: str | None = None) -> dict[str, Any]:
    """The SPEC §3 document of a round by ``method`` (default: the round's own), with the
    organisers' tie decisions: what ``award-jury results --format json`` prints and the API returns."""
    chosen = method or rnd.method.value
    return results_document(award.slug, rnd.slug, chosen, await rank(session, award, rnd, method=chosen))


async def round_stability(
    session: AsyncSession, award: Award, rnd: Round
) -> tuple[list[CategoryResult], dict[str, float]]:
    """The ranking and each entry's share of prize positions under resampling (one load)."""
    categories, entries, sheets, decided = await load_round_rows(session, award, rnd)
    criteria = criterion_specs(rnd)
    results = rank_round(criteria, categories, entries, sheets, rnd.method.value, rnd.min_sheets, decided)
    shares = analysis.stability(criteria, categories, entries, sheets, rnd.method.value, rnd.min_sheets)
    return results, shares


async def entry_explanation(session: AsyncSession, award: Award, rnd: Round, ref: str) -> dict[str, Any]:
    """Everything behind one entry's rank: each sheet's total and values, the criterion means,
    and the order in which criteria break ties."""
    categories, entries, sheets, decided = await load_round_rows(session, award, rnd)
    criteria = criterion_specs(rnd)
    results = rank_round(criteria, categories, entries, sheets, rnd.method.value, rnd.min_sheets, decided)
    found = next(((c, e) for c in results for e in c.entries if e.ref == ref), None)
    if found is None:
        raise NotFoundError(ref)
    category, entry = found
    own = [s for s in sheets if s.entry == ref]
    names = await _juror_names(session, {s.juror for s in own})
    return {
        "category": category,
        "entry": entry,
        "sheets": [(names.get(s.juror, s.juror), sheet_total(s.scores, criteria), s.scores) for s in own],
        "tie_order": tie_break_order(criteria),
        "neighbours": [
            e
            for e in category.entries
            if e.rank is not None and entry.rank is not None and abs(e.rank - entry.rank) <= 1
        ],
    }


async def decide_tie(
    session: AsyncSession, award: Award, rnd: Round, category_slug: str, ordered: list[str], reason: str, actor: Person
) -> TieDecision:
    """The organiser's order for a tied group across the prize line, with a written reason."""
    if rnd.finalised_at is not None:
        raise FormError({"order": _("This round is finalised; its results can no longer change.")})
    results, _document = await ranked_document(session, award, rnd)
    category = next((c for c in results if c.category == category_slug), None)
    group = [e.ref for e in category.entries if e.decision_needed] if category else []
    errors: dict[str, str] = {}
    if not group:
        errors["order"] = _("No decision is needed in this category.")
    elif sorted(ordered) != sorted(group) or len(set(ordered)) != len(ordered):
        errors["order"] = _("Put every tied entry in order, each once.")
    if not reason.strip():
        errors["reason"] = _("Write down why you decided this way.")
    if errors:
        raise FormError(errors)
    category_row = next(c for c in award.categories if c.slug == category_slug)
    existing = (
        await session.execute(
            sa.select(TieDecision).where(TieDecision.round_id == rnd.id, TieDecision.category_id == category_row.id)
        )
    ).scalar_one_or_none()
    before = {"order": existing.ordered_refs, "reason": existing.reason} if existing else None
    decision = existing or TieDecision(round_id=rnd.id, category_id=category_row.id, ordered_refs=[], reason="")
    decision.ordered_refs = list(ordered)
    decision.reason, decision.decided_by_id, decision.decided_at = reason.strip(), actor.id, utcnow()
    session.add(decision)
    await session.flush()
    after = {"category": category_slug, "order": ordered, "reason": reason.strip()}
    record_event(
        session,
        "tie.decided",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        before=before,
        after=after,
    )
    return decision


async def finalise_round(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    actor_id: int | None,
    actor_label: str = "",
    *,
    override_reason: str = "",
    state: str | None = None,
) -> ResultSnapshot:
    """Freeze the round's results, after the rules of :func:`rules.finalise_check`: refused while a tie
    needs a decision (naming the entries) or the call is open; while scoring is open or sheets are
    missing only with ``override_reason``, which is audited. ``state`` binds a confirmation page."""
    results, document = await ranked_document(session, award, rnd)
    check = await rules.finalise_check(session, award, rnd, results)
    reason = check.require(state=state, override_reason=override_reason)
    snapshot = ResultSnapshot(
        round_id=rnd.id, method=rnd.method, sha256=sha256_of(document), payload=document, finalised_by_id=actor_id
    )
    session.add(snapshot)
    rnd.finalised_at = finalised_at = utcnow()
    await session.flush()
    after: dict[str, Any] = {"sha256": snapshot.sha256, "method": rnd.method.value}
    if reason:
        after |= {"override_reason": reason, "overridden": check.warnings}
    record_event(
        session,
        "round.finalised",
        actor_id=actor_id,
        actor_label=actor_label,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after=after,
    )
    await webhooks.emit(
        session,
        award.id,
        "round.finalised",
        {
            "award": award.slug,
            "round": rnd.slug,
            "method": rnd.method.value,
            "sha256": snapshot.sha256,
            "finalised_at": finalised_at,
        },
        now=finalised_at,
    )
    return snapshot


async def publish_consequences(session: AsyncSession, award: Award, rnd: Round) -> Consequences:
    snapshot = (
        await session.execute(sa.select(ResultSnapshot).where(ResultSnapshot.round_id == rnd.id))
    ).scalar_one_or_none()
    recomputed = sha256_of((await ranked_document(session, award, rnd))[1]) if snapshot else None
    return rules.publish_check(award, rnd, snapshot, recomputed)


async def finalise_consequences(session: AsyncSession, award: Award, rnd: Round) -> Consequences:
    results, _document = await ranked_document(session, award, rnd)
    return await rules.finalise_check(session, award, rnd, results)


async def publish_round(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    actor: Person | None,
    actor_label: str = "",
    *,
    override_reason: str = "",
    state: str | None = None,
) -> None:
    """Publish the frozen results of a finalised round (refused before finalisation and when published)."""
    check = await publish_consequences(session, award, rnd)
    reason = check.require(state=state, override_reason=override_reason)
    rnd.published_at = published_at = utcnow()
    after: dict[str, Any] = {"override_reason": reason, "overridden": check.warnings} if reason else {}
    record_event(
        session,
        "round.published",
        actor_id=actor.id if actor else None,
        actor_label=actor_label,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after=after or None,
    )
    await webhooks.emit(
        session,
        award.id,
        "results.published",
        {"award": award.slug, "round": rnd.slug, "published_at": published_at},
        now=published_at,
    )


async def published_winners(session: AsyncSession, award: Award) -> list[tuple[Round, dict[str, Any]]]:
    """For the public results page: each published round's frozen results."""
    rounds = [r for r in award.rounds if r.published_at is not None]
    snapshots = {
        s.round_id: s
        for s in (
            await session.execute(sa.select(ResultSnapshot).where(ResultSnapshot.round_id.in_([r.id for r in rounds])))
        ).scalars()
    }
    return [(r, snapshots[r.id].payload) for r in rounds if r.id in snapshots]
