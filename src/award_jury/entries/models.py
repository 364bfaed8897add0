"""Startups, their entries, the rounds an entry takes part in, and attachments."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.awards.models import Award, Category, Round
from award_jury.db import Base, TimestampMixin, enum_column, utcnow
from award_jury.enums import EntryStatus, MemberRole


class Startup(TimestampMixin, Base):
    __tablename__ = "startup"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    legal_form: Mapped[str | None] = mapped_column(sa.String(80), default=None)
    city: Mapped[str | None] = mapped_column(sa.String(120), default=None)
    founded: Mapped[int | None] = mapped_column(default=None)
    employees: Mapped[int | None] = mapped_column(default=None)
    website: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    #: Investors and partners, one per line (used for conflict checks).
    investors: Mapped[str] = mapped_column(sa.Text, default="")

    @property
    def full_name(self) -> str:
        """The name with its legal form, as one writes it: the form once, even when the name
        already ends with it ("Behördenfunk GmbH" and "GmbH" make "Behördenfunk GmbH")."""
        return company_name(self.name, self.legal_form)


def company_name(name: str, legal_form: str | None) -> str:
    """``name`` followed by ``legal_form`` unless the name already carries it at its end."""
    name, form = (name or "").strip(), (legal_form or "").strip()
    if not form or not name:
        return name
    if name.casefold().endswith(form.casefold()) and (len(name) == len(form) or not name[-len(form) - 1].isalnum()):
        return name
    return f"{name} {form}"


class Entry(TimestampMixin, Base):
    __tablename__ = "entry"
    __table_args__ = (sa.UniqueConstraint("award_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    startup_id: Mapped[int] = mapped_column(sa.ForeignKey("startup.id", ondelete="RESTRICT"), index=True)
    ref: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "entry_status"), default=EntryStatus.DRAFT)
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    pitch: Mapped[str] = mapped_column(sa.Text, default="")
    problem: Mapped[str] = mapped_column(sa.Text, default="")
    solution: Mapped[str] = mapped_column(sa.Text, default="")
    benefit: Mapped[str] = mapped_column(sa.Text, default="")
    stage: Mapped[str] = mapped_column(sa.String(80), default="")
    video_url: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(320), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Why an organiser disqualified the entry (shown to the startup).
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the startup consented to the privacy notice.
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    #: When an organiser checked the entry and accepted it as eligible.
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    #: What a draft's form holds that is not valid yet, as typed (field name -> text), so a slip
    #: in one field never blocks saving the others; the checked columns hold only valid values.
    #: Submitting needs every value valid and empties it (NULL: nothing kept aside).
    draft_values: Mapped[dict[str, str] | None] = mapped_column(sa.JSON, default=None)
    #: Optimistic lock for concurrent edits (a stale form answers 409).
    version: Mapped[int] = mapped_column(default=1)

    award: Mapped[Award] = relationship()
    category: Mapped[Category] = relationship()
    startup: Mapped[Startup] = relationship()
    rounds: Mapped[list[EntryRound]] = relationship(back_populates="entry", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="entry", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    members: Mapped[list[EntryMember]] = relationship(back_populates="entry", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class EntryRound(Base):
    """An entry takes part in a round (advancing to a later round adds a row)."""

    __tablename__ = "entry_round"
    __table_args__ = (sa.UniqueConstraint("entry_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="rounds")
    round: Mapped[Round] = relationship()


class EntryMember(Base):
    """A person who may see and edit an entry on the startup's side."""

    __tablename__ = "entry_member"
    __table_args__ = (sa.UniqueConstraint("entry_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"), default=MemberRole.EDITOR)

    entry: Mapped[Entry] = relationship(back_populates="members")


class Attachment(Base):
    """A file of an entry. ``storage_key`` is NULL when only the metadata is known
    (a ``.json`` bundle carries no files)."""

    __tablename__ = "attachment"
    __table_args__ = (sa.UniqueConstraint("entry_id", "name"), sa.CheckConstraint("size >= 0", name="size"))

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    media_type: Mapped[str] = mapped_column(sa.String(100))
    storage_key: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="attachments")
