"""Who judges what: juror categories, assignments, conflicts, score sheets and scores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.accounts.models import Person
from award_jury.awards.models import Category, Criterion, Round
from award_jury.db import Base, TimestampMixin, enum_column, utcnow
from award_jury.entries.models import Entry
from award_jury.enums import ConflictKind, SheetStatus


class JurorCategory(Base):
    __tablename__ = "juror_category"
    __table_args__ = (sa.UniqueConstraint("person_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="CASCADE"), index=True)

    person: Mapped[Person] = relationship()
    category: Mapped[Category] = relationship()


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (sa.UniqueConstraint("round_id", "entry_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    juror_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conflict(Base):
    __tablename__ = "conflict"
    __table_args__ = (sa.UniqueConstraint("juror_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    juror_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(enum_column(ConflictKind, "conflict_kind"), default=ConflictKind.OTHER)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    declared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    juror: Mapped[Person] = relationship(foreign_keys=[juror_id])
    entry: Mapped[Entry] = relationship()


class ScoreSheet(TimestampMixin, Base):
    __tablename__ = "score_sheet"
    __table_args__ = (sa.UniqueConstraint("juror_id", "entry_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    juror_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    status: Mapped[SheetStatus] = mapped_column(enum_column(SheetStatus, "sheet_status"), default=SheetStatus.DRAFT)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    private_note: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Every save carries the version it was based on; a stale save answers 409.
    version: Mapped[int] = mapped_column(default=1)

    juror: Mapped[Person] = relationship()
    entry: Mapped[Entry] = relationship()
    round: Mapped[Round] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="sheet", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class Score(Base):
    __tablename__ = "score"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("score_sheet.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal]

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()
