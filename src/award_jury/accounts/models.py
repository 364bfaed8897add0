"""People and their roles. A role is held per award; ``award_id`` NULL means platform-wide
(an organiser who may create awards, as made by ``award-jury create-user``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.db import Base, TimestampMixin, enum_column, utcnow
from award_jury.enums import Role


class Person(TimestampMixin, Base):
    __tablename__ = "person"
    __table_args__ = (sa.UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    name: Mapped[str] = mapped_column(sa.String(200))
    locale: Mapped[str] = mapped_column(sa.String(8), default="de")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    roles: Mapped[list[AwardRole]] = relationship(back_populates="person", cascade="all, delete-orphan")


class AwardRole(Base):
    __tablename__ = "award_role"
    __table_args__ = (sa.UniqueConstraint("person_id", "award_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    award_id: Mapped[int | None] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles")
