"""Audit events: who did what, when, to which object, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from award_jury.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_award_id_at", "award_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    #: For commands run by an operator on the command line ("cli") or the system itself.
    actor_label: Mapped[str] = mapped_column(sa.String(200), default="")
    award_id: Mapped[int | None] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), default=None)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64), default="")
    object_id: Mapped[str] = mapped_column(sa.String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    ip: Mapped[str | None] = mapped_column(sa.String(64), default=None)
