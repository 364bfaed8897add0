"""Issued certificates. The code is printed on the PDF and resolves at ``/verify/{code}``."""

from __future__ import annotations

from datetime import datetime

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
    rank: Mapped[int | None] = mapped_column(default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str] = mapped_column(sa.Text, default="")

    entry: Mapped[Entry] = relationship()
    round: Mapped[Round] = relationship()
