"""The score sheet service: who may see and change which sheet, validation of score values
(SPEC §2), and versioned saves that are upserts on the named unique constraints.

A sheet is editable only while its juror is assigned to the entry in that round, has no conflict
with it (recorded, or on the entry's team: :func:`award_jury.judging.conflicts.has_conflict`),
the entry is still ``submitted``, the round is not finalised and its scoring deadline (server
clock) has not passed. Every save carries the version it was based on; a save based on
an older version raises :class:`StaleSheetError` with the stored sheet, so nothing is overwritten
silently.

Concurrency: the sheet row is created with ``INSERT … ON CONFLICT DO NOTHING`` on
``uq_score_sheet_juror_id_entry_id_round_id`` and then locked (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the caller's transaction holds the write lock, see ``db.write_transaction``);
scores are ``INSERT … ON CONFLICT DO UPDATE`` on ``uq_score_sheet_id_criterion_id``. Two first
saves of the same sheet arriving at once give one sheet: the later one finds the earlier one's
version and answers 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Criterion, Round
from award_jury.awards.validators import parse_decimal
from award_jury.db import utcnow
from award_jury.entries.models import Attachment, Entry, EntryRound
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.errors import ConflictError, FormError, NotFoundError
from award_jury.formats import value_problem
from award_jury.i18n import gettext as _
from award_jury.i18n import plain_number
from award_jury.judging.conflicts import has_conflict
from award_jury.judging.models import Assignment, Score, ScoreSheet
from award_jury.ranking.compute import CriterionSpec, sheet_total

#: Above this many possible values a criterion gets a number field instead of a radio group.
MAX_CHOICES = 21
MAX_TEXT = 5000

#: Why a sheet cannot be changed (``None``: it can).
UNASSIGNED, ENTRY_NOT_SUBMITTED, FINALISED, CLOSED = "unassigned", "entry", "finalised", "closed"
SAVE, SUBMIT, REOPEN = "save", "submit", "reopen"


class SheetReadOnlyError(ConflictError):
    """The sheet cannot be changed any more (or not by this juror): ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the sheet is read-only ({reason})")


class SheetSubmittedError(ConflictError):
    """A submitted sheet changes only by submitting it again (or reopening it): a mere save, an
    autosave above all, never changes it, so a stray tap on a phone changes no score."""

    def __init__(self) -> None:
        super().__init__("the sheet is submitted: change it by submitting it again")


class StaleSheetError(ConflictError):
    """The save was based on an older version; ``current`` is what is stored now."""

    def __init__(self, current: SheetSnapshot) -> None:
        self.current = current
        super().__init__("the sheet was changed elsewhere")


@dataclass(frozen=True)
class SheetAccess:
    entry: Entry
    assigned: bool
    #: None when the juror may change the sheet, else one of the reasons above.
    read_only: str | None


@dataclass
class SheetSnapshot:
    """A stored sheet as plain values (what the page and the JSON answers show)."""

    version: int
    status: SheetStatus
    scores: dict[str, Decimal]
    comment: str
    private_note: str
    submitted_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def empty(cls) -> SheetSnapshot:
        return cls(0, SheetStatus.DRAFT, {}, "", "", None, None)

    @property
    def exists(self) -> bool:
        return self.version > 0


@dataclass
class SheetInput:
    """What a juror sent: every score as typed ("" = not scored yet), the two texts."""

    scores: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    private_note: str = ""


def score_choices(criterion: Criterion) -> list[Decimal] | None:
    """Every valid value of a criterion (for a radio group), or None when there are too many."""
    count = (criterion.max_value - criterion.min_value) / criterion.step
    if count != count.to_integral_value() or count + 1 > MAX_CHOICES:
        return None
    return [criterion.min_value + i * criterion.step for i in range(int(count) + 1)]


def level_text(criterion: Criterion, value: Decimal) -> str:
    """The rubric's description of the band ``value`` falls in ("" when none)."""
    for level in criterion.levels:
        if level.min_value <= value <= level.max_value:
            return level.text
    return ""


def specs(rnd: Round) -> list[CriterionSpec]:
    return [CriterionSpec(c.key, c.weight, c.min_value, c.max_value, c.position) for c in rnd.criteria]


def total_of(rnd: Round, scores: dict[str, Decimal]) -> float | None:
    """The sheet total (0–100, SPEC §3) once every criterion has a score, else None."""
    if not rnd.criteria or any(c.key not in scores for c in rnd.criteria):
        return None
    return sheet_total(scores, specs(rnd))


def check_score(criterion: Criterion, text: str) -> tuple[Decimal | None, str | None]:
    """A typed score checked against SPEC §2: min <= s <= max and (s - min) / step whole."""
    value, problem = parse_decimal(text)  # (at most MAX_DECIMALS places: its message says so)
    if problem or value is None:
        return None, problem or _("Enter a number, like 7.5.")
    lo, hi, step = criterion.min_value, criterion.max_value, criterion.step
    if value_problem(value, lo, hi, step) is not None:
        return None, _("Choose a value from %(lo)s to %(hi)s in steps of %(step)s.") % {
            "lo": plain_number(lo),
            "hi": plain_number(hi),
            "step": plain_number(step),
        }
    return value, None


def validate(rnd: Round, given: SheetInput, *, complete: bool) -> tuple[dict[int, Decimal | None], dict[str, str]]:
    """Parsed scores by criterion id (None: not scored) and the problems by field name
    (``score-<key>``, ``comment``, ``private_note``). ``complete``: every criterion needs a score."""
    parsed: dict[int, Decimal | None] = {}
    errors: dict[str, str] = {}
    for c in rnd.criteria:
        text = given.scores.get(c.key, "").strip()
        if not text:
            parsed[c.id] = None
            if complete:
                errors[f"score-{c.key}"] = _("Score this criterion to submit the sheet.")
            continue
        value, problem = check_score(c, text)
        if problem:
            errors[f"score-{c.key}"] = problem
        parsed[c.id] = value
    for name, text in (("comment", given.comment), ("private_note", given.private_note)):
        if len(text) > MAX_TEXT:
            errors[name] = _("Use at most %(n)d characters.") % {"n": MAX_TEXT}
    return parsed, errors


async def find_entry(session: AsyncSession, award: Award, rnd: Round, ref: str) -> Entry:
    """An entry of the award that takes part in the round (404 otherwise)."""
    entry = (
        await session.execute(
            sa.select(Entry)
            .join(EntryRound, EntryRound.entry_id == Entry.id)
            .where(Entry.award_id == award.id, Entry.ref == ref, EntryRound.round_id == rnd.id)
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFoundError("entry")
    return entry


def read_only_reason(rnd: Round, entry: Entry, assigned: bool, now: datetime) -> str | None:
    if not assigned:
        return UNASSIGNED
    if entry.status != EntryStatus.SUBMITTED:
        return ENTRY_NOT_SUBMITTED
    if rnd.finalised_at is not None:
        return FINALISED
    if rnd.scoring_closed(now):
        return CLOSED
    return None


async def sheet_access(session: AsyncSession, award: Award, rnd: Round, juror_id: int, ref: str) -> SheetAccess:
    """May this juror see the entry's sheet (404 unless assigned or holding a sheet of their own;
    404 with a conflict), and may they change it?"""
    entry = await find_entry(session, award, rnd, ref)
    facts = (
        await session.execute(
            sa.select(
                sa.exists().where(
                    Assignment.round_id == rnd.id, Assignment.entry_id == entry.id, Assignment.juror_id == juror_id
                ),
                has_conflict(juror_id, entry.id),
                sa.exists().where(
                    ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id == entry.id, ScoreSheet.juror_id == juror_id
                ),
            )
        )
    ).one()
    assigned, conflict, has_sheet = bool(facts[0]), bool(facts[1]), bool(facts[2])
    if conflict or not (assigned or has_sheet):
        raise NotFoundError("entry")
    return SheetAccess(entry, assigned, read_only_reason(rnd, entry, assigned, utcnow()))


async def entry_attachments(session: AsyncSession, access: SheetAccess) -> list[Attachment]:
    """The files of the entry a juror may see (``access`` from :func:`sheet_access`), oldest first."""
    query = sa.select(Attachment).where(Attachment.entry_id == access.entry.id).order_by(Attachment.id)
    return list((await session.execute(query)).scalars())


async def entry_attachment(session: AsyncSession, access: SheetAccess, attachment_id: int) -> Attachment:
    """One stored file of that entry; NotFoundError for any other id (or one without a file)."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.entry_id != access.entry.id or attachment.storage_key is None:
        raise NotFoundError("attachment")
    return attachment


async def holds_closed_sheet(session: AsyncSession, award: Award, juror_id: int, entry_id: int) -> bool:
    """Has the juror a sheet for the entry in a round that is finalised or past its deadline?"""
    rounds = {r.id: r for r in award.rounds}
    found = await session.execute(
        sa.select(ScoreSheet.round_id).where(ScoreSheet.juror_id == juror_id, ScoreSheet.entry_id == entry_id)
    )
    now = utcnow()
    return any((rnd := rounds.get(round_id)) is not None and rnd.scoring_closed(now) for round_id in found.scalars())


async def load_sheet(session: AsyncSession, rnd: Round, juror_id: int, entry_id: int) -> SheetSnapshot:
    """The stored sheet (or an empty one with version 0)."""
    row = (
        await session.execute(
            sa.select(
                ScoreSheet.id,
                ScoreSheet.version,
                ScoreSheet.status,
                ScoreSheet.comment,
                ScoreSheet.private_note,
                ScoreSheet.submitted_at,
                ScoreSheet.updated_at,
            ).where(ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id == entry_id, ScoreSheet.juror_id == juror_id)
        )
    ).one_or_none()
    if row is None:
        return SheetSnapshot.empty()
    return SheetSnapshot(
        version=row.version,
        status=row.status,
        scores=await _scores_of(session, rnd, row.id),
        comment=row.comment,
        private_note=row.private_note,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
    )


async def _scores_of(session: AsyncSession, rnd: Round, sheet_id: int) -> dict[str, Decimal]:
    key_of = {c.id: c.key for c in rnd.criteria}
    rows = await session.execute(sa.select(Score.criterion_id, Score.value).where(Score.sheet_id == sheet_id))
    return {key_of[cid]: value.normalize() for cid, value in rows if cid in key_of}


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _audit_values(rnd: Round, snapshot: SheetSnapshot) -> dict[str, Any]:
    return {
        "status": snapshot.status.value,
        "scores": {k: plain_number(v) for k, v in sorted(snapshot.scores.items())},
        "comment": snapshot.comment,
    }


async def save_sheet(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    access: SheetAccess,
    juror_id: int,
    *,
    version: int,
    given: SheetInput,
    action: str = SAVE,
) -> SheetSnapshot:
    """Save a juror's sheet: ``save`` saves a draft, ``submit`` needs every criterion (on a
    submitted sheet it submits the changed scores), ``reopen`` makes it a draft again.

    Raises SheetReadOnlyError, FormError (nothing saved), StaleSheetError (``version`` is not
    the stored one; nothing saved) or SheetSubmittedError (``save`` of a submitted sheet;
    nothing saved)."""
    if access.read_only is not None:
        raise SheetReadOnlyError(access.read_only)
    entry = access.entry
    parsed, errors = validate(rnd, given, complete=action == SUBMIT)
    if errors:
        raise FormError(errors)

    inserted = await session.execute(
        _insert(session, ScoreSheet)
        .values(
            juror_id=juror_id,
            entry_id=entry.id,
            round_id=rnd.id,
            status=SheetStatus.DRAFT,
            comment="",
            private_note="",
            version=1,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["juror_id", "entry_id", "round_id"])
        .returning(ScoreSheet.id)
    )
    created = inserted.first() is not None
    sheet = (
        await session.execute(
            sa.select(ScoreSheet)
            .where(ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id == entry.id, ScoreSheet.juror_id == juror_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    expected = 0 if created else sheet.version
    if version != expected:
        current = SheetSnapshot.empty() if created else await load_sheet(session, rnd, juror_id, entry.id)
        if created:  # nobody else has it: the client believed in a sheet that is gone
            await session.execute(sa.delete(ScoreSheet).where(ScoreSheet.id == sheet.id))
        raise StaleSheetError(current)
    before = await load_sheet(session, rnd, juror_id, entry.id)
    was_submitted = sheet.status == SheetStatus.SUBMITTED and not created
    if action == REOPEN and not was_submitted:
        action = SAVE
    if action == SAVE and was_submitted:
        raise SheetSubmittedError()

    now = utcnow()
    sheet.comment = given.comment
    sheet.private_note = given.private_note
    sheet.updated_at = now  # always dirty, so the version moves on with every save
    if action == SUBMIT:
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at = now
    elif action == REOPEN:
        sheet.status = SheetStatus.DRAFT
        sheet.submitted_at = None
    filled = [(cid, value) for cid, value in parsed.items() if value is not None]
    if filled:
        stmt = _insert(session, Score).values(
            [{"sheet_id": sheet.id, "criterion_id": cid, "value": value} for cid, value in filled]
        )
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["sheet_id", "criterion_id"], set_={"value": stmt.excluded.value})
        )
    cleared = [cid for cid, value in parsed.items() if value is None]
    if cleared:
        await session.execute(sa.delete(Score).where(Score.sheet_id == sheet.id, Score.criterion_id.in_(cleared)))
    await session.flush()
    after = await load_sheet(session, rnd, juror_id, entry.id)
    event = {SUBMIT: "sheet.changed" if was_submitted else "sheet.submitted", REOPEN: "sheet.reopened"}.get(action)
    if event is not None:
        record_event(
            session,
            event,
            actor_id=juror_id,
            award_id=award.id,
            object_type="score_sheet",
            object_id=sheet.id,
            before=_audit_values(rnd, before) if was_submitted else None,
            after={"entry": entry.ref, "round": rnd.slug, **_audit_values(rnd, after)},
        )
    return after
