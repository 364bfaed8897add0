"""Live pitch-day mode: the running order of a round, the entry now on stage with its timer
(pitch, then questions), and who has submitted a sheet for it.

The state lives in the round's row (``live_entry_id``, ``live_phase``, ``live_started_at``
and the two durations), so every worker and every database sees the same stage; pages follow
it by polling the database about once a second behind a server-sent event stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category, Round, scoring_closed
from award_jury.consequences import Consequences
from award_jury.db import utcnow
from award_jury.entries.models import Entry, EntryRound, Startup
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.judging.conflicts import conflicted_entries
from award_jury.judging.models import Assignment, ScoreSheet

PITCH, QA = "pitch", "qa"
ACTIONS = ("start", "next", "previous", "goto", "qa", "restart", "stop", "timing")
MAX_MINUTES = 120


@dataclass(frozen=True)
class Slot:
    """One entry of the running order."""

    entry_id: int
    ref: str
    title: str
    startup: str
    category: str


@dataclass(frozen=True)
class Stage:
    """The round's live state as the database holds it (cheap to read every second)."""

    entry_id: int | None
    phase: str | None
    started_at: datetime | None
    pitch_seconds: int
    qa_seconds: int
    closed: bool

    def remaining(self, now: datetime) -> int | None:
        """Seconds left in the current phase (negative once overrun), None when no timer runs."""
        if self.entry_id is None or self.started_at is None or self.phase is None:
            return None
        length = self.pitch_seconds if self.phase == PITCH else self.qa_seconds
        return length - int((now - self.started_at).total_seconds())


async def running_order(session: AsyncSession, award: Award, rnd: Round, *, include: int | None = None) -> list[Slot]:
    """The round's submitted entries, by category (in the award's order), then by reference
    (and the entry ``include`` whatever its status)."""
    shown = Entry.status == EntryStatus.SUBMITTED
    if include is not None:
        shown = sa.or_(shown, Entry.id == include)
    rows = await session.execute(
        sa.select(Entry.id, Entry.ref, Entry.title, Startup.name, Category.name)
        .join(EntryRound, sa.and_(EntryRound.entry_id == Entry.id, EntryRound.round_id == rnd.id))
        .join(Startup, Startup.id == Entry.startup_id)
        .join(Category, Category.id == Entry.category_id)
        .where(Entry.award_id == award.id, shown)
        .order_by(Category.position, Category.id, Entry.ref)
    )
    return [Slot(*row) for row in rows]


async def read_stage(session: AsyncSession, round_id: int) -> Stage | None:
    row = (
        await session.execute(
            sa.select(
                Round.live_entry_id,
                Round.live_phase,
                Round.live_started_at,
                Round.live_pitch_seconds,
                Round.live_qa_seconds,
                Round.finalised_at,
                Round.scoring_close,
            ).where(Round.id == round_id)
        )
    ).one_or_none()
    if row is None:
        return None
    closed = scoring_closed(row.finalised_at, row.scoring_close, utcnow())
    return Stage(
        row.live_entry_id, row.live_phase, row.live_started_at, row.live_pitch_seconds, row.live_qa_seconds, closed
    )


def _position(order: list[Slot], entry_id: int | None) -> int | None:
    return next((i for i, slot in enumerate(order) if slot.entry_id == entry_id), None)


async def end_check(session: AsyncSession, award: Award, rnd: Round) -> Consequences:
    """What ending the live session of ``rnd`` would change (the ``stop`` of :func:`control`)."""
    order = await running_order(session, award, rnd)
    here = _position(order, rnd.live_entry_id)
    check = Consequences(numbers={"entry": rnd.live_entry_id, "phase": rnd.live_phase, "total": len(order)})
    if rnd.live_entry_id is None:
        check.refusals.append(_("No entry is on stage: there is no session to end."))
        return check
    if here is not None:
        slot = order[here]
        check.facts.append(
            _("%(entry)s is on stage now, entry %(position)d of %(total)d; the stage is cleared for every juror.")
            % {"entry": f"{slot.ref} – {slot.startup}", "position": here + 1, "total": len(order)}
        )
        after = len(order) - here - 1
        check.facts.append(
            ngettext(
                "%(num)d entry of the running order comes after it.",
                "%(num)d entries of the running order come after it.",
                after,
            )
            % {"num": after}
        )
    check.facts.append(_("Score sheets stay as they are. You can start again from any entry."))
    return check


async def control(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    actor: Person,
    action: str,
    *,
    entry_id: int | None = None,
    pitch_minutes: str = "",
    qa_minutes: str = "",
    state: str | None = None,
) -> None:
    """The organiser moves the stage: ``start`` (first entry, or ``entry_id``), ``next``,
    ``previous``, ``goto``, ``qa`` (questions start), ``restart`` (timer of the phase), ``stop``,
    ``timing`` (durations in minutes). Unknown actions and entries change nothing. ``stop`` follows
    :func:`end_check` (``state``: the confirmation page's)."""
    if action not in ACTIONS:
        return
    if action == "stop":
        (await end_check(session, award, rnd)).require(state=state, override_reason="")
    order = await running_order(session, award, rnd)
    now = utcnow()
    here = _position(order, rnd.live_entry_id)
    gone: int | None = None  # the entry on stage left the competition: where it stood in the order
    if here is None and rnd.live_entry_id is not None:
        gone = _position(await running_order(session, award, rnd, include=rnd.live_entry_id), rnd.live_entry_id)
    target: int | None = None
    if action == "timing":
        errors = {}
        values = {}
        for name, text in (("pitch_minutes", pitch_minutes), ("qa_minutes", qa_minutes)):
            if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_MINUTES:
                errors[name] = _("Enter a number from %(lo)d to %(hi)d.") % {"lo": 1, "hi": MAX_MINUTES}
            else:
                values[name] = int(text) * 60
        if errors:
            raise FormError(errors)
        rnd.live_pitch_seconds, rnd.live_qa_seconds = values["pitch_minutes"], values["qa_minutes"]
    elif action in ("start", "goto"):
        target = _position(order, entry_id) if entry_id is not None else (0 if order else None)
    elif action == "next" and order:
        target = min(gone, len(order) - 1) if gone is not None else 0 if here is None else min(here + 1, len(order) - 1)
    elif action == "previous" and order:
        target = max(gone - 1, 0) if gone is not None else 0 if here is None else max(here - 1, 0)
    elif action == "qa" and rnd.live_entry_id is not None:
        rnd.live_phase, rnd.live_started_at = QA, now
    elif action == "restart" and rnd.live_entry_id is not None:
        rnd.live_started_at = now
    elif action == "stop":
        rnd.live_entry_id, rnd.live_phase, rnd.live_started_at = None, None, None
    if target is not None:
        rnd.live_entry_id, rnd.live_phase, rnd.live_started_at = order[target].entry_id, PITCH, now
    await session.flush()
    record_event(
        session,
        f"live.{action}",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after={
            "entry": order[target].ref if target is not None else None,
            "phase": rnd.live_phase,
            "pitch_seconds": rnd.live_pitch_seconds,
            "qa_seconds": rnd.live_qa_seconds,
        },
    )


@dataclass(frozen=True)
class JurorStatus:
    juror_id: int
    name: str
    state: str  # not_started, draft, submitted


async def submissions_for(session: AsyncSession, rnd: Round | int, entry_id: int) -> list[JurorStatus]:
    """The jurors assigned to the entry in the round and how far each is with their sheet."""
    round_id = rnd if isinstance(rnd, int) else rnd.id
    rows = await session.execute(
        sa.select(Person.id, Person.name, ScoreSheet.status)
        .join(Assignment, Assignment.juror_id == Person.id)
        .outerjoin(
            ScoreSheet,
            sa.and_(ScoreSheet.juror_id == Person.id, ScoreSheet.entry_id == entry_id, ScoreSheet.round_id == round_id),
        )
        .where(Assignment.round_id == round_id, Assignment.entry_id == entry_id)
        .order_by(Person.name)
    )
    return [
        JurorStatus(
            pid, name, "not_started" if status is None else "submitted" if status == SheetStatus.SUBMITTED else "draft"
        )
        for pid, name, status in rows
    ]


async def juror_entries(session: AsyncSession, rnd: Round, juror_id: int) -> set[int]:
    """The entries of the round this juror scores (assigned, no conflict)."""
    rows = await session.execute(
        sa.select(Assignment.entry_id).where(
            Assignment.round_id == rnd.id,
            Assignment.juror_id == juror_id,
            Assignment.entry_id.not_in(conflicted_entries(juror_id)),
        )
    )
    return set(rows.scalars())


def stage_json(stage: Stage, order: list[Slot], now: datetime) -> dict[str, Any]:
    """The stage as the pages' scripts read it (times in seconds, no dates to parse)."""
    index = _position(order, stage.entry_id)
    slot = order[index] if index is not None else None
    return {
        "entry": slot.ref if slot else None,
        "title": slot.title if slot else None,
        "startup": slot.startup if slot else None,
        "category": slot.category if slot else None,
        "position": (index + 1) if index is not None else None,
        "total": len(order),
        "phase": stage.phase if slot else None,
        "remaining": stage.remaining(now) if slot else None,
        "pitch_seconds": stage.pitch_seconds,
        "qa_seconds": stage.qa_seconds,
        "closed": stage.closed,
    }
