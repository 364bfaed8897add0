"""Assigning jurors to the entries of a round: loading the facts, previewing the automatic plan
(:mod:`award_jury.judging.assign`), applying it, and releasing a juror who drops out."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.consequences import Consequences
from award_jury.entries.models import Entry, EntryRound
from award_jury.enums import EntryStatus, Role, SheetStatus
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.judging.assign import Plan, plan_assignments
from award_jury.judging.conflicts import recorded_pairs, team_pairs
from award_jury.judging.models import Assignment, JurorCategory, ScoreSheet

MAX_K = 50


@dataclass
class RoundFacts:
    entries: list[tuple[int, int]]
    refs: dict[int, str]
    jurors: dict[int, list[int]]
    names: dict[int, str]
    #: Recorded and team conflicts: (juror_id, entry_id).
    conflicts: set[tuple[int, int]]
    #: The team conflicts among them: the juror is on the entry's team.
    team: set[tuple[int, int]]
    existing: set[tuple[int, int]]


async def load_facts(session: AsyncSession, award: Award, rnd: Round) -> RoundFacts:
    """Submitted entries taking part in the round, the award's jurors with their categories
    (none chosen: every category), conflicts (recorded ones and team members) and the round's
    current assignments."""
    rows = (
        await session.execute(
            sa.select(Entry.id, Entry.category_id, Entry.ref)
            .join(EntryRound, EntryRound.entry_id == Entry.id)
            .where(EntryRound.round_id == rnd.id, Entry.status == EntryStatus.SUBMITTED)
        )
    ).all()
    all_categories = [c.id for c in award.categories]
    juror_rows = (
        await session.execute(
            sa.select(Person.id, Person.name)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR, Person.is_active.is_(True))
        )
    ).all()
    chosen: dict[int, list[int]] = {}
    for person_id, category_id in await session.execute(
        sa.select(JurorCategory.person_id, JurorCategory.category_id).where(
            JurorCategory.category_id.in_(all_categories)
        )
    ):
        chosen.setdefault(person_id, []).append(category_id)
    entry_ids = [r.id for r in rows]
    team = await team_pairs(session, entry_ids)
    conflicts = await recorded_pairs(session, entry_ids) | team
    existing = {
        (j, e)
        for j, e in await session.execute(
            sa.select(Assignment.juror_id, Assignment.entry_id).where(Assignment.round_id == rnd.id)
        )
    }
    return RoundFacts(
        entries=[(r.id, r.category_id) for r in rows],
        refs={r.id: r.ref for r in rows},
        jurors={pid: chosen.get(pid, all_categories) for pid, _name in juror_rows},
        names={pid: name for pid, name in juror_rows},
        conflicts=conflicts,
        team=team,
        existing=existing,
    )


def plan_for(facts: RoundFacts, k: int) -> Plan:
    return plan_assignments(facts.entries, facts.jurors, facts.conflicts, k, existing=facts.existing)


async def apply_plan(session: AsyncSession, award: Award, rnd: Round, k: int, actor: Person) -> Plan:
    """Compute the plan again (it is deterministic, so it equals the preview) and store it."""
    facts = await load_facts(session, award, rnd)
    plan = plan_for(facts, k)
    # Existing assignments that now conflict are removed; every new pair is added.
    stale = facts.existing - plan.pairs
    for juror_id, entry_id in stale:
        await session.execute(
            sa.delete(Assignment).where(
                Assignment.round_id == rnd.id, Assignment.juror_id == juror_id, Assignment.entry_id == entry_id
            )
        )
    session.add_all(Assignment(round_id=rnd.id, juror_id=j, entry_id=e) for j, e in sorted(plan.new_pairs))
    await session.flush()
    record_event(
        session,
        "assignments.applied",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after={"k": k, "added": len(plan.new_pairs), "removed": len(stale), "short_entries": len(plan.shortfalls)},
    )
    return plan


async def release_check(session: AsyncSession, award: Award, rnd: Round, juror_id: int) -> tuple[str, Consequences]:
    """The juror's name and what releasing their open assignments in ``rnd`` would change
    (NotFoundError: not a juror of the award)."""
    name = (
        await session.execute(
            sa.select(Person.name)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(Person.id == juror_id, AwardRole.award_id == award.id, AwardRole.role == Role.JUROR)
        )
    ).scalar_one_or_none()
    if name is None:
        raise NotFoundError("juror")
    submitted = sa.select(ScoreSheet.entry_id).where(
        ScoreSheet.round_id == rnd.id, ScoreSheet.juror_id == juror_id, ScoreSheet.status == SheetStatus.SUBMITTED
    )
    rows = (
        await session.execute(
            sa.select(Entry.ref, Assignment.entry_id.in_(submitted))
            .join(Entry, Entry.id == Assignment.entry_id)
            .where(Assignment.round_id == rnd.id, Assignment.juror_id == juror_id)
            .order_by(Entry.ref)
        )
    ).all()
    released = [ref for ref, done in rows if not done]
    kept = len(rows) - len(released)
    drafts = (
        await session.execute(
            sa.select(sa.func.count()).where(
                ScoreSheet.round_id == rnd.id, ScoreSheet.juror_id == juror_id, ScoreSheet.status == SheetStatus.DRAFT
            )
        )
    ).scalar_one()
    check = Consequences(numbers={"juror": juror_id, "released": released, "kept": kept, "drafts": drafts})
    if released:
        check.facts.append(
            ngettext(
                "%(num)d assignment of %(name)s without a submitted sheet is removed: %(refs)s.",
                "%(num)d assignments of %(name)s without a submitted sheet are removed: %(refs)s.",
                len(released),
            )
            % {"num": len(released), "name": name, "refs": ", ".join(released)}
        )
        check.facts.append(_("A new automatic assignment gives these entries to other jurors."))
    check.facts.append(
        ngettext(
            "%(num)d assignment with a submitted sheet stays.", "%(num)d assignments with a submitted sheet stay.", kept
        )
        % {"num": kept}
    )
    if drafts:
        check.facts.append(
            ngettext(
                "%(num)d draft sheet of %(name)s stays a draft and does not count.",
                "%(num)d draft sheets of %(name)s stay drafts and do not count.",
                drafts,
            )
            % {"num": drafts, "name": name}
        )
    if rnd.finalised_at is not None:
        check.refusals.append(_("This round is finalised; its assignments no longer change."))
    elif not released:
        check.refusals.append(_("%(name)s has no open assignments in this round.") % {"name": name})
    return name, check


async def release_juror(
    session: AsyncSession, award: Award, rnd: Round, juror_id: int, actor: Person, *, state: str | None = None
) -> int:
    """A juror drops out: their assignments without a submitted sheet go, so a new plan can
    give those entries to others, after :func:`release_check` allows it. Returns how many were released."""
    _name, check = await release_check(session, award, rnd, juror_id)
    check.require(state=state, override_reason="")
    done = sa.select(ScoreSheet.entry_id).where(
        ScoreSheet.round_id == rnd.id, ScoreSheet.juror_id == juror_id, ScoreSheet.status == SheetStatus.SUBMITTED
    )
    result = await session.execute(
        sa.delete(Assignment).where(
            Assignment.round_id == rnd.id, Assignment.juror_id == juror_id, Assignment.entry_id.not_in(done)
        )
    )
    released = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record_event(
        session,
        "assignments.released",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after={"juror": juror_id, "released": released},
    )
    return released


async def assign_manually(
    session: AsyncSession, award: Award, rnd: Round, juror_id: int, entry_id: int, actor: Person
) -> None:
    """One juror for one entry, chosen by an organiser; the same rules as the automatic plan."""
    facts = await load_facts(session, award, rnd)
    category = dict(facts.entries).get(entry_id)
    if category is None:
        raise FormError({"entry": _("Choose an entry that takes part in this round.")})
    if juror_id not in facts.jurors:
        raise FormError({"juror": _("Choose a juror of this award.")})
    if category not in facts.jurors[juror_id]:
        raise FormError({"juror": _("This juror does not judge the entry's category.")})
    if (juror_id, entry_id) in facts.team:
        message = _("This juror is on the entry's team (its contact or a co-editor) and cannot judge it.")
        raise FormError({"juror": message})
    if (juror_id, entry_id) in facts.conflicts:
        raise FormError({"juror": _("This juror has a conflict of interest with the entry.")})
    if (juror_id, entry_id) in facts.existing:
        raise FormError({"juror": _("This juror is assigned to the entry already.")})
    session.add(Assignment(round_id=rnd.id, juror_id=juror_id, entry_id=entry_id))
    await session.flush()
    record_event(
        session,
        "assignment.added",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after={"juror": juror_id, "entry": facts.refs[entry_id]},
    )


async def unassign(
    session: AsyncSession, award: Award, rnd: Round, juror_id: int, entry_id: int, actor: Person
) -> bool:
    result = await session.execute(
        sa.delete(Assignment).where(
            Assignment.round_id == rnd.id, Assignment.juror_id == juror_id, Assignment.entry_id == entry_id
        )
    )
    removed = bool(result.rowcount)  # type: ignore[attr-defined]
    if removed:
        record_event(
            session,
            "assignment.removed",
            actor_id=actor.id,
            award_id=award.id,
            object_type="round",
            object_id=rnd.id,
            before={"juror": juror_id, "entry": entry_id},
        )
    return removed


async def entries_in(session: AsyncSession, rnd: Round) -> set[int]:
    """Ids of the entries taking part in ``rnd``."""
    return set((await session.execute(sa.select(EntryRound.entry_id).where(EntryRound.round_id == rnd.id))).scalars())


def next_round(award: Award, rnd: Round) -> Round | None:
    later = [r for r in award.rounds if r.position > rnd.position]
    return min(later, key=lambda r: r.position) if later else None


async def advance_entries(
    session: AsyncSession, award: Award, rnd: Round, target: Round, entry_ids: list[int], actor: Person
) -> int:
    """Entries of ``rnd`` take part in ``target`` too (advancing adds, never removes). Audited."""
    facts = await load_facts(session, award, rnd)
    allowed = {e for e, _c in facts.entries}
    already = await entries_in(session, target)
    chosen = sorted(set(entry_ids) & allowed - already)
    session.add_all(EntryRound(entry_id=e, round_id=target.id) for e in chosen)
    await session.flush()
    record_event(
        session,
        "entries.advanced",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=target.id,
        after={"from_round": rnd.slug, "to_round": target.slug, "entries": [facts.refs[e] for e in chosen]},
    )
    return len(chosen)
