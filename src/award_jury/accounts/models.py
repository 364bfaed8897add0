"""People and their roles. A role is held per award; ``award_id`` NULL means platform-wide
(an organiser who may create awards, as made by ``award-jury create-user``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.db import Base, TimestampMixin, enum_column, utcnow
from award_jury.enums import Role, TokenPurpose


class Person(TimestampMixin, Base):
    __tablename__ = "person"
    __table_args__ = (sa.UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    name: Mapped[str] = mapped_column(sa.String(200))
    locale: Mapped[str] = mapped_column(sa.String(8), default="de")
    #: The organisation a juror works for (checked against startups' investors and partners).
    organisation: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
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


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")

    person: Mapped[Person] = relationship()


class LoginToken(Base):
    """A single-use token sent by e-mail: a sign-in link, a password reset, or an invitation."""

    __tablename__ = "login_token"
    __table_args__ = (sa.Index("ix_login_token_person_id_purpose", "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Set when a newer token of the same purpose replaced this one.
    superseded_at: Mapped[datetime | None] = mapped_column(default=None)

    person: Mapped[Person] = relationship()


class Invitation(Base):
    """An organiser's invitation to take a role in an award."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    #: Category slugs a juror will judge (empty: all, or none for other roles).
    categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_count: Mapped[int] = mapped_column(default=1)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    def status(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "pending"


class RateLimitHit(Base):
    """One counted attempt in a rate-limit bucket (shared by every worker through the database)."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (sa.Index("ix_rate_limit_hit_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(400))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- two-factor sign-in (accounts/twofactor.py) ---


class TwoFactor(Base):
    """Two-factor sign-in that is on. No row: off (a set-up in progress stores nothing)."""

    __tablename__ = "two_factor"

    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    #: The TOTP secret, sealed with the app's secret key (accounts/sealing.py), never in plain text.
    secret_sealed: Mapped[str] = mapped_column(sa.String(200))
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The newest time step whose code was accepted: that code and older ones never work again.
    last_used_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class RecoveryCode(Base):
    """A one-time recovery code, stored as the SHA-256 of the person's id and the code."""

    __tablename__ = "recovery_code"
    __table_args__ = (sa.UniqueConstraint("person_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class PendingSignIn(Base):
    """A sign-in that passed its first step (password, e-mail link) and waits for the code. The
    browser holds a random token in a cookie; only its SHA-256 is stored. It names no session:
    the session starts (with a new id) only when the code is right."""

    __tablename__ = "pending_signin"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    #: How the first step was passed ("password", "link"), for the audit trail.
    method: Mapped[str] = mapped_column(sa.String(20))
    #: Where to go after signing in (checked again with safe_next when used).
    target: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(sa.String(64), default=None)


class ApiToken(Base):
    """A personal API token (SPEC §5). The token itself is shown once; only its SHA-256 is stored,
    with its first characters (``prefix``) so a person can tell their tokens apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Written at most once a minute (see accounts/tokens.py), not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    person: Mapped[Person] = relationship()
