"""Issued certificates, the organiser's certificate settings, and batch generation jobs.

A certificate's code is printed on the PDF and resolves at ``/verify/{code}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.awards.models import Round
from award_jury.db import Base, enum_column, utcnow
from award_jury.entries.models import Entry
from award_jury.enums import CertificateKind


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (sa.UniqueConstraint("code"), sa.UniqueConstraint("entry_id", "round_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CertificateKind] = mapped_column(enum_column(CertificateKind, "certificate_kind"))
    #: The place of a winner (its rank after the organisers' tie decisions); None otherwise.
    rank: Mapped[int | None] = mapped_column(default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str] = mapped_column(sa.Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)

    entry: Mapped[Entry] = relationship()
    round: Mapped[Round] = relationship()


class CertificateSettings(Base):
    """How an award's certificates look: orientation, place line, signatories, a text per kind."""

    __tablename__ = "certificate_settings"
    __table_args__ = (sa.UniqueConstraint("award_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"))
    orientation: Mapped[str] = mapped_column(sa.String(16), default="landscape")
    #: The place in the date line ("Berlin" → "Berlin, 3. Dezember 2026").
    place_name: Mapped[str] = mapped_column(sa.String(120), default="")
    #: Up to three ``{"name", "role", "signature"}``; ``signature`` is a storage key or "".
    signatories: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    #: Kind -> the organiser's text (a sandboxed Jinja template, e.g. "… {{ category }} …").
    texts: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CertificateJob(Base):
    """A batch of certificates being written into one PDF: progress for the page, and the
    parts already rendered, so a rerun after a crash completes the job instead of starting over."""

    __tablename__ = "certificate_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    #: ``winner``, ``finalist``, ``participant`` or ``all``.
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: ``running``, ``done`` or ``failed``.
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: SHA-256 of everything printed: a job whose inputs changed is not resumed.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), default="")
    #: The finished PDF, relative to the data dir.
    file_name: Mapped[str] = mapped_column(sa.String(300), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The last sign of life of whoever runs the job (a stale running job can be resumed).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, self.done * 100 // self.total)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total, "percent": self.percent}
