"""Stored outcomes of ranking: organisers' tie decisions and frozen (finalised) results.

Scores are the truth and ranks are computed on read; only decisions and the snapshot
taken at finalisation are stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from award_jury.db import Base, enum_column, utcnow
from award_jury.enums import Method


class TieDecision(Base):
    """The organiser's order for a tied group that reaches past the prize line."""

    __tablename__ = "tie_decision"
    __table_args__ = (sa.UniqueConstraint("round_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="CASCADE"), index=True)
    #: Entry refs, best first.
    ordered_refs: Mapped[list[str]] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResultSnapshot(Base):
    """The frozen results of a finalised round, with the SHA-256 of their canonical JSON."""

    __tablename__ = "result_snapshot"
    __table_args__ = (sa.UniqueConstraint("round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"))
    method: Mapped[Method] = mapped_column(enum_column(Method, "method"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    finalised_at: Mapped[datetime] = mapped_column(default=utcnow)
