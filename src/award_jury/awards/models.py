"""Awards, their categories, rounds and the weighted criteria of each round."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.db import Base, TimestampMixin, enum_column
from award_jury.enums import Method


class Award(TimestampMixin, Base):
    __tablename__ = "award"
    __table_args__ = (sa.UniqueConstraint("slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(200))
    locale: Mapped[str] = mapped_column(sa.String(8), default="de")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Berlin")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    primary_color: Mapped[str | None] = mapped_column(sa.String(7), default=None)
    logo_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    #: When an organiser removed the startups' personal data (scores and ranks stay).
    anonymised_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Organisers of this award reach its organiser pages only with two-factor sign-in on
    #: (enforced by policy.py; not part of the bundle).
    organisers_need_two_factor: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    categories: Mapped[list[Category]] = relationship(
        back_populates="award", order_by="Category.position", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="award", order_by="Round.position", cascade="all, delete-orphan"
    )


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (sa.UniqueConstraint("award_id", "slug"), sa.CheckConstraint("prizes >= 0", name="prizes"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    prizes: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)

    award: Mapped[Award] = relationship(back_populates="categories")


class Round(Base):
    __tablename__ = "round"
    __table_args__ = (sa.UniqueConstraint("award_id", "slug"), sa.CheckConstraint("min_sheets >= 0", name="min_sheets"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    submissions_open: Mapped[datetime | None] = mapped_column(default=None)
    submissions_close: Mapped[datetime | None] = mapped_column(default=None)
    scoring_close: Mapped[datetime | None] = mapped_column(default=None)
    method: Mapped[Method] = mapped_column(enum_column(Method, "method"), default=Method.MEAN)
    min_sheets: Mapped[int] = mapped_column(default=1)
    results_visible_to_jurors: Mapped[bool] = mapped_column(default=False)
    finalised_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Live pitch mode: the entry now on stage, and when its pitch started.
    live_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry.id", ondelete="SET NULL"), default=None)
    live_started_at: Mapped[datetime | None] = mapped_column(default=None)
    #: ``pitch`` or ``qa`` while an entry is on stage (``live_started_at`` is when that phase began).
    live_phase: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    #: How long a pitch and its questions last on pitch day (the organiser's timer).
    live_pitch_seconds: Mapped[int] = mapped_column(default=300, server_default="300")
    live_qa_seconds: Mapped[int] = mapped_column(default=300, server_default="300")

    award: Mapped[Award] = relationship(back_populates="rounds")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    def scoring_closed(self, now: datetime) -> bool:
        """The one rule for "scoring is closed": see :func:`scoring_closed`."""
        return scoring_closed(self.finalised_at, self.scoring_close, now)

    def scoring_open(self, now: datetime) -> bool:
        """Jurors may still change their sheets (the negation of :meth:`scoring_closed`)."""
        return not self.scoring_closed(now)


def scoring_closed(finalised_at: datetime | None, scoring_close: datetime | None, now: datetime) -> bool:
    """Scoring is closed once the round is finalised, or once ``now`` is past its deadline (the
    deadline itself still counts as open; no deadline means open until finalised).

    A function of the columns as well as :meth:`Round.scoring_closed`, for queries that read the
    columns without loading the round (``judging/live.read_stage``)."""
    return finalised_at is not None or (scoring_close is not None and now > scoring_close)


class Criterion(Base):
    __tablename__ = "criterion"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "key"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("min_value < max_value", name="range"),
        sa.CheckConstraint("step > 0", name="step_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[Decimal]
    min_value: Mapped[Decimal]
    max_value: Mapped[Decimal]
    step: Mapped[Decimal]
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[Round] = relationship(back_populates="criteria")
    levels: Mapped[list[RubricLevel]] = relationship(
        back_populates="criterion", order_by="RubricLevel.min_value", cascade="all, delete-orphan"
    )


class RubricLevel(Base):
    """What a band of score values of a criterion means ("9–10: changes the market")."""

    __tablename__ = "rubric_level"
    __table_args__ = (sa.UniqueConstraint("criterion_id", "min_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    min_value: Mapped[Decimal]
    max_value: Mapped[Decimal]
    text: Mapped[str] = mapped_column(sa.Text)

    criterion: Mapped[Criterion] = relationship(back_populates="levels")
