"""Conflicts of interest: declared by jurors or recorded by organisers, team conflicts (a person
on an entry's team), and suspected ones (a juror's organisation named among a startup's
investors and partners).

A recorded conflict removes the pair's assignments and sheets (their content goes into the audit
event, so nothing is lost for the record) and blocks any new sheet for the pair.

Being on an entry's team (its contact or a co-editor: an :class:`EntryMember` row) is a conflict
with it, whatever the order of events (applied, then joined the jury, or the other way round, or
data from before this rule). It is not stored as a row but follows from the membership, so it
can neither be forgotten nor removed while the person is on the team: :func:`on_team` is the one
place the rule is written, and :func:`has_conflict`, :func:`conflicted_entries` and
:func:`conflict_pairs` (recorded and team conflicts together) are what the planner, manual
assignment, the sheet service, the juror's pages and the ranking ask."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.entries.models import Entry, EntryMember, Startup
from award_jury.enums import ConflictKind, EntryStatus, MemberRole, Role
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import plain_number
from award_jury.judging.models import Assignment, Conflict, JurorCategory, ScoreSheet
from award_jury.mail import Mail, Mailer

#: The kind shown for a team conflict (not a :class:`ConflictKind`: nobody records it).
TEAM = "team"


def on_team(person_id: Any, entry_id: Any) -> sa.ColumnElement[bool]:
    """THE rule: the person is on the entry's team (its contact or a co-editor), so they have a
    conflict of interest with it. ``person_id`` and ``entry_id``: values or columns."""
    return sa.exists().where(EntryMember.entry_id == entry_id, EntryMember.person_id == person_id)


def has_conflict(juror_id: Any, entry_id: Any) -> sa.ColumnElement[bool]:
    """A recorded conflict or a team conflict of the pair (values or columns)."""
    recorded = sa.exists().where(Conflict.juror_id == juror_id, Conflict.entry_id == entry_id)
    return sa.or_(recorded, on_team(juror_id, entry_id))


def conflicted_entries(juror_id: Any) -> sa.CompoundSelect[Any]:
    """The ids of the entries the juror has a conflict with (recorded or team)."""
    return sa.union(
        sa.select(Conflict.entry_id).where(Conflict.juror_id == juror_id),
        sa.select(EntryMember.entry_id).where(EntryMember.person_id == juror_id),
    )


async def is_on_team(session: AsyncSession, person_id: int, entry_id: int) -> bool:
    return bool((await session.execute(sa.select(on_team(person_id, entry_id)))).scalar())


async def team_pairs(session: AsyncSession, entry_ids: Collection[int]) -> set[tuple[int, int]]:
    """(person_id, entry_id) of everybody on the team of one of ``entry_ids``."""
    if not entry_ids:
        return set()
    rows = await session.execute(
        sa.select(EntryMember.person_id, EntryMember.entry_id).where(EntryMember.entry_id.in_(list(entry_ids)))
    )
    return {(p, e) for p, e in rows}


async def recorded_pairs(session: AsyncSession, entry_ids: Collection[int]) -> set[tuple[int, int]]:
    """(juror_id, entry_id) of the recorded conflicts with one of ``entry_ids``."""
    if not entry_ids:
        return set()
    rows = await session.execute(
        sa.select(Conflict.juror_id, Conflict.entry_id).where(Conflict.entry_id.in_(list(entry_ids)))
    )
    return {(j, e) for j, e in rows}


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
    session: AsyncSession,
    award: Award,
    *,
    juror_id: int,
    entry_id: int | None,
    kind: str,
    reason: str,
    actor: Person,
) -> Conflict:
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
        elif await is_on_team(session, juror_id, entry.id):
            errors["entry"] = _("This juror is on the entry's team: that conflict is recorded automatically.")
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
    conflict = Conflict(
        juror_id=juror_id, entry_id=entry.id, kind=ConflictKind(kind), reason=reason.strip(), declared_by_id=actor.id
    )
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
        {
            "round_id": sh.round_id,
            "status": sh.status.value,
            "comment": sh.comment,
            "scores": {str(s.criterion_id): plain_number(s.value) for s in sh.scores},
        }
        for sh in sheets
    ]
    for sheet in sheets:
        await session.delete(sheet)
    await session.flush()
    record_event(
        session,
        "conflict.declared",
        actor_id=actor.id,
        award_id=award.id,
        object_type="conflict",
        object_id=conflict.id,
        before={"sheets": discarded} if discarded else None,
        after={
            "juror": juror_id,
            "entry": entry.ref,
            "kind": kind,
            "reason": reason.strip(),
            "assignments_removed": int(removed.rowcount or 0),  # type: ignore[attr-defined]
        },
    )
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
        session,
        "conflict.removed",
        actor_id=actor.id,
        award_id=award.id,
        object_type="conflict",
        object_id=conflict.id,
        before={
            "juror": conflict.juror_id,
            "entry": conflict.entry_id,
            "kind": conflict.kind.value,
            "reason": conflict.reason,
        },
    )
    await session.delete(conflict)


@dataclass(frozen=True)
class ConflictRow:
    #: ``None`` for a team conflict (it follows from the team and cannot be removed).
    id: int | None
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
    recorded = [
        ConflictRow(c.id, juror_name, ref, startup, c.kind.value, c.reason, declared or "")
        for c, juror_name, ref, startup, declared in rows
    ]
    return sorted([*recorded, *await team_conflicts_of(session, award)], key=lambda r: (r.juror, r.entry_ref))


async def team_conflicts_of(session: AsyncSession, award: Award) -> list[ConflictRow]:
    """The award's jurors who are on the team of one of its entries; ``reason`` is the member
    role (``contact`` or ``editor``)."""
    rows = await session.execute(
        sa.select(Person.name, Entry.ref, Startup.name, EntryMember.role)
        .join(EntryMember, EntryMember.person_id == Person.id)
        .join(Entry, Entry.id == EntryMember.entry_id)
        .join(Startup, Startup.id == Entry.startup_id)
        .join(AwardRole, sa.and_(AwardRole.person_id == Person.id, AwardRole.award_id == Entry.award_id))
        .where(Entry.award_id == award.id, AwardRole.role == Role.JUROR)
    )
    return [
        ConflictRow(None, name, ref, startup, TEAM, MemberRole(role).value, "") for name, ref, startup, role in rows
    ]


def _mentions(investors: str, organisation: str) -> bool:
    org = organisation.strip().lower()
    if len(org) < 3:
        return False
    return any(
        org in line.lower() or (len(line.strip()) >= 3 and line.strip().lower() in org)
        for line in investors.splitlines()
        if line.strip()
    )


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
    known = await recorded_pairs(session, [e.id for e in entries]) | await team_pairs(session, [e.id for e in entries])
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


async def entry_choices(session: AsyncSession, award: Award, juror_id: int | None = None) -> list[tuple[str, str]]:
    """(id, "E001 – Startup GmbH") for the award's entries (a juror: only those of their categories)."""
    query = (
        sa.select(Entry.id, Entry.ref, Startup.name)
        .join(Startup, Startup.id == Entry.startup_id)
        .where(Entry.award_id == award.id, Entry.status != EntryStatus.DRAFT)
        .order_by(Entry.ref)
    )
    if juror_id is not None:
        chosen = sa.select(JurorCategory.category_id).where(JurorCategory.person_id == juror_id)
        if (await session.execute(chosen.limit(1))).first() is not None:
            query = query.where(Entry.category_id.in_(chosen))
    return [(str(i), f"{ref} – {name}") for i, ref, name in await session.execute(query)]


async def juror_choices(session: AsyncSession, award: Award) -> list[tuple[str, str]]:
    """(id, name) of the award's jurors."""
    rows = await session.execute(
        sa.select(Person.id, Person.name)
        .join(AwardRole, AwardRole.person_id == Person.id)
        .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR)
        .order_by(Person.name)
    )
    return [(str(i), name) for i, name in rows]


async def own_conflicts(session: AsyncSession, award: Award, juror_id: int | None) -> list[Any]:
    """(Conflict, entry ref, startup name) of the conflicts recorded for the juror in ``award``."""
    return list(
        (
            await session.execute(
                sa.select(Conflict, Entry.ref, Startup.name)
                .join(Entry, Entry.id == Conflict.entry_id)
                .join(Startup, Startup.id == Entry.startup_id)
                .where(Entry.award_id == award.id, Conflict.juror_id == juror_id)
                .order_by(Entry.ref)
            )
        ).all()
    )


async def conflict_mails(
    session: AsyncSession, mailer: Mailer, award: Award, juror: Person, conflict: Conflict
) -> list[Mail]:
    """Who is told of a conflict a juror declared: the award's active organisers, each in their
    language (send after the commit)."""
    entry = await session.get(Entry, conflict.entry_id)
    assert entry is not None
    return [
        mailer.compose(
            "conflict_declared",
            to=o.email,
            locale=o.locale,
            name=o.name,
            juror=juror.name,
            award_name=award.name,
            entry=entry.ref,
            kind=conflict.kind.value,
            reason=conflict.reason,
            link=mailer.url("conflicts.list", slug=award.slug),
        )
        for o in await organisers_of(session, award)
    ]


async def declare_own_conflict(
    session: AsyncSession, mailer: Mailer, award: Award, juror: Person, *, entry: str, kind: str, reason: str
) -> list[Mail]:
    """A juror declares a conflict with one of the entries offered to them (``entry``: its id as
    the form sent it; FormError otherwise); the organisers' mails to send after the commit."""
    allowed = {value for value, _label in await entry_choices(session, award, juror.id)}
    if entry not in allowed:
        raise FormError({"entry": _("Choose an entry.")})
    conflict = await declare_conflict(
        session, award, juror_id=juror.id, entry_id=int(entry), kind=kind, reason=reason, actor=juror
    )
    return await conflict_mails(session, mailer, award, juror, conflict)
