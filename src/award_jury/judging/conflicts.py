"""Conflicts of interest: declared by jurors or recorded by organisers, and suspected ones
(a juror's organisation named among a startup's investors and partners).

A conflict removes the pair's assignments and sheets (their content goes into the audit
event, so nothing is lost for the record) and blocks any new sheet for the pair."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.entries.models import Entry, Startup
from award_jury.enums import ConflictKind, Role
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.judging.models import Assignment, Conflict, JurorCategory, ScoreSheet


async def award_entry(session: AsyncSession, award: Award, entry_id: int) -> Entry:
    entry = (
        await session.execute(sa.select(Entry).where(Entry.id == entry_id, Entry.award_id == award.id))
    ).scalar_one_or_none()
    if entry is None:
        raise NotFoundError("entry")
    return entry


async def is_juror(session: AsyncSession, award: Award, person_id: int) -> bool:
    found = await session.execute(
        sa.select(AwardRole.id).where(
            AwardRole.award_id == award.id, AwardRole.person_id == person_id, AwardRole.role == Role.JUROR
        )
    )
    return found.first() is not None


async def declare_conflict(
    session: AsyncSession, award: Award, *, juror_id: int, entry_id: int | None, kind: str, reason: str,
    actor: Person,
) -> Conflict:  # fmt: skip
    errors: dict[str, str] = {}
    if not await is_juror(session, award, juror_id):
        errors["juror"] = _("Choose a juror of this award.")
    entry = None
    if entry_id is None:
        errors["entry"] = _("Choose an entry.")
    else:
        try:
            entry = await award_entry(session, award, entry_id)
        except NotFoundError:
            errors["entry"] = _("Choose an entry.")
    if kind not in [k.value for k in ConflictKind]:
        errors["kind"] = _("Choose the kind of conflict.")
    if not reason.strip():
        errors["reason"] = _("Say in a few words what the conflict is.")
    elif len(reason) > 2000:
        errors["reason"] = _("Use at most %(n)d characters.") % {"n": 2000}
    if entry is not None and "juror" not in errors:
        exists = await session.execute(
            sa.select(Conflict.id).where(Conflict.juror_id == juror_id, Conflict.entry_id == entry.id)
        )
        if exists.first() is not None:
            errors["entry"] = _("This conflict is recorded already.")
        else:
            frozen = await session.execute(
                sa.select(ScoreSheet.id)
                .join(Round, Round.id == ScoreSheet.round_id)
                .where(
                    ScoreSheet.juror_id == juror_id, ScoreSheet.entry_id == entry.id, Round.finalised_at.is_not(None)
                )
            )
            if frozen.first() is not None:  # a conflict discards the pair's sheets; frozen results stay as they are
                errors["entry"] = _(
                    "This juror scored the entry in a round whose results are final; a conflict would discard "
                    "that sheet, so it cannot be recorded."
                )
    if errors:
        raise FormError(errors)
    assert entry is not None
    conflict = Conflict(juror_id=juror_id, entry_id=entry.id, kind=ConflictKind(kind), reason=reason.strip(),
                        declared_by_id=actor.id)  # fmt: skip
    session.add(conflict)
    removed = await session.execute(
        sa.delete(Assignment).where(Assignment.juror_id == juror_id, Assignment.entry_id == entry.id)
    )
    sheets = (
        (
            await session.execute(
                sa.select(ScoreSheet)
                .where(ScoreSheet.juror_id == juror_id, ScoreSheet.entry_id == entry.id)
                .options(selectinload(ScoreSheet.scores))
            )
        )
        .scalars()
        .all()
    )
    discarded = [
        {"round_id": sh.round_id, "status": sh.status.value, "comment": sh.comment,
         "scores": {str(s.criterion_id): str(s.value) for s in sh.scores}}
        for sh in sheets
    ]  # fmt: skip
    for sheet in sheets:
        await session.delete(sheet)
    await session.flush()
    record_event(
        session, "conflict.declared", actor_id=actor.id, award_id=award.id, object_type="conflict",
        object_id=conflict.id, before={"sheets": discarded} if discarded else None,
        after={"juror": juror_id, "entry": entry.ref, "kind": kind, "reason": reason.strip(),
               "assignments_removed": int(removed.rowcount or 0)},  # type: ignore[attr-defined]
    )  # fmt: skip
    return conflict


async def remove_conflict(session: AsyncSession, award: Award, conflict_id: int, actor: Person) -> None:
    conflict = (
        await session.execute(
            sa.select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Conflict.id == conflict_id, Entry.award_id == award.id)
        )
    ).scalar_one_or_none()
    if conflict is None:
        raise NotFoundError("conflict")
    record_event(
        session, "conflict.removed", actor_id=actor.id, award_id=award.id, object_type="conflict",
        object_id=conflict.id, before={"juror": conflict.juror_id, "entry": conflict.entry_id,
                                       "kind": conflict.kind.value, "reason": conflict.reason},
    )  # fmt: skip
    await session.delete(conflict)


@dataclass(frozen=True)
class ConflictRow:
    id: int
    juror: str
    entry_ref: str
    startup: str
    kind: str
    reason: str
    declared_by: str


@dataclass(frozen=True)
class Suspicion:
    juror_id: int
    juror: str
    organisation: str
    entry_id: int
    entry_ref: str
    startup: str


async def conflicts_of(session: AsyncSession, award: Award) -> list[ConflictRow]:
    juror = sa.orm.aliased(Person)
    declarer = sa.orm.aliased(Person)
    rows = await session.execute(
        sa.select(Conflict, juror.name, Entry.ref, Startup.name, declarer.name)
        .join(juror, juror.id == Conflict.juror_id)
        .join(Entry, Entry.id == Conflict.entry_id)
        .join(Startup, Startup.id == Entry.startup_id)
        .outerjoin(declarer, declarer.id == Conflict.declared_by_id)
        .where(Entry.award_id == award.id)
        .order_by(juror.name, Entry.ref)
    )
    return [
        ConflictRow(c.id, juror_name, ref, startup, c.kind.value, c.reason, declared or "")
        for c, juror_name, ref, startup, declared in rows
    ]


def _mentions(investors: str, organisation: str) -> bool:
    org = organisation.strip().lower()
    if len(org) < 3:
        return False
    return any(org in line.lower() or (len(line.strip()) >= 3 and line.strip().lower() in org)
               for line in investors.splitlines() if line.strip())  # fmt: skip


async def suspected_conflicts(session: AsyncSession, award: Award) -> list[Suspicion]:
    """Jurors whose organisation a startup names among its investors and partners, in the
    juror's categories, where no conflict is recorded yet."""
    jurors = (
        (
            await session.execute(
                sa.select(Person)
                .join(AwardRole, AwardRole.person_id == Person.id)
                .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR, Person.organisation != "")
            )
        )
        .scalars()
        .all()
    )
    if not jurors:
        return []
    categories: dict[int, set[int]] = {}
    for person_id, category_id in await session.execute(
        sa.select(JurorCategory.person_id, JurorCategory.category_id).where(
            JurorCategory.person_id.in_([j.id for j in jurors])
        )
    ):
        categories.setdefault(person_id, set()).add(category_id)
    entries = (
        await session.execute(
            sa.select(Entry.id, Entry.ref, Entry.category_id, Startup.name, Startup.investors)
            .join(Startup, Startup.id == Entry.startup_id)
            .where(Entry.award_id == award.id, Startup.investors != "")
        )
    ).all()
    known = {
        (j, e)
        for j, e in await session.execute(
            sa.select(Conflict.juror_id, Conflict.entry_id).join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.award_id == award.id)
        )
    }  # fmt: skip
    found = []
    for juror in jurors:
        cats = categories.get(juror.id)
        for entry_id, ref, category_id, startup, investors in entries:
            eligible = (cats is None or category_id in cats) and (juror.id, entry_id) not in known
            if eligible and _mentions(investors, juror.organisation):
                found.append(Suspicion(juror.id, juror.name, juror.organisation, entry_id, ref, startup))
    return found


async def organisers_of(session: AsyncSession, award: Award) -> list[Person]:
    """The active organisers of ``award`` (told when a juror declares a conflict)."""
    query = (
        sa.select(Person)
        .join(AwardRole, AwardRole.person_id == Person.id)
        .where(AwardRole.award_id == award.id, AwardRole.role == Role.ORGANISER, Person.is_active.is_(True))
    )
    return list((await session.execute(query)).scalars())
