"""How far the jury is in a round: per juror and per entry, in a fixed number of queries; and
reminding the jurors who still have open sheets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.entries.models import Entry, EntryRound, Startup
from award_jury.enums import EntryStatus, Role, SheetStatus
from award_jury.judging.conflicts import has_conflict
from award_jury.judging.models import Assignment, ScoreSheet
from award_jury.mail import Mail, Mailer


@dataclass
class JurorProgress:
    person_id: int
    name: str
    email: str
    locale: str
    assigned: int = 0
    submitted: int = 0
    drafts: int = 0

    @property
    def open(self) -> int:
        return max(0, self.assigned - self.submitted)


@dataclass
class EntryProgress:
    entry_id: int
    ref: str
    startup: str
    category_id: int
    assigned: int = 0
    submitted: int = 0


@dataclass
class Progress:
    jurors: list[JurorProgress]
    entries: list[EntryProgress]
    min_sheets: int
    scoring_close: datetime | None
    below_minimum: list[EntryProgress] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return sum(j.assigned for j in self.jurors)

    @property
    def submitted(self) -> int:
        return sum(j.submitted for j in self.jurors)

    def days_left(self, now: datetime) -> int | None:
        if self.scoring_close is None:
            return None
        return max(0, (self.scoring_close - now).days)


async def round_progress(session: AsyncSession, award: Award, rnd: Round) -> Progress:
    jurors = {
        p.id: JurorProgress(p.id, p.name, p.email, p.locale)
        for p in (
            await session.execute(
                sa.select(Person)
                .join(AwardRole, AwardRole.person_id == Person.id)
                .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR)
                .order_by(Person.name)
            )
        ).scalars()
    }
    entries = {
        e_id: EntryProgress(e_id, ref, startup, category_id)
        for e_id, ref, startup, category_id in await session.execute(
            sa.select(Entry.id, Entry.ref, Startup.name, Entry.category_id)
            .join(EntryRound, EntryRound.entry_id == Entry.id)
            .join(Startup, Startup.id == Entry.startup_id)
            .where(EntryRound.round_id == rnd.id, Entry.status == EntryStatus.SUBMITTED)
            .order_by(Entry.ref)
        )
    }
    for juror_id, entry_id in await session.execute(
        sa.select(Assignment.juror_id, Assignment.entry_id).where(
            Assignment.round_id == rnd.id, ~has_conflict(Assignment.juror_id, Assignment.entry_id)
        )
    ):
        if juror_id in jurors:
            jurors[juror_id].assigned += 1
        if entry_id in entries:
            entries[entry_id].assigned += 1
    for juror_id, entry_id, status in await session.execute(
        sa.select(ScoreSheet.juror_id, ScoreSheet.entry_id, ScoreSheet.status).where(
            ScoreSheet.round_id == rnd.id, ~has_conflict(ScoreSheet.juror_id, ScoreSheet.entry_id)
        )
    ):
        juror = jurors.get(juror_id)
        if status == SheetStatus.SUBMITTED:
            if juror:
                juror.submitted += 1
            if entry_id in entries:
                entries[entry_id].submitted += 1
        elif juror:
            juror.drafts += 1
    entry_list = list(entries.values())
    return Progress(
        jurors=list(jurors.values()),
        entries=entry_list,
        min_sheets=rnd.min_sheets,
        scoring_close=rnd.scoring_close,
        below_minimum=[e for e in entry_list if e.submitted < rnd.min_sheets],
    )


def to_remind(progress: Progress) -> list[JurorProgress]:
    """Who a reminder goes to: the jurors with open sheets."""
    return [j for j in progress.jurors if j.open > 0]


async def remind_jurors(session: AsyncSession, mailer: Mailer, award: Award, rnd: Round, actor: Person) -> list[Mail]:
    """Remind every juror with open sheets in ``rnd`` (recorded in the audit log with the
    addresses); the reminders to send after the commit."""
    recipients = to_remind(await round_progress(session, award, rnd))
    record_event(
        session,
        "reminder.sent",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        after={"recipients": [j.email for j in recipients]},
    )
    return [
        mailer.compose(
            "reminder",
            to=j.email,
            locale=j.locale,
            name=j.name,
            award_name=award.name,
            round_name=rnd.name,
            open=j.open,
            deadline=rnd.scoring_close,
            time_zone=award.time_zone,
            link=mailer.url("account.detail"),
        )
        for j in recipients
    ]
