"""Server-side sessions: a random token in the cookie, its SHA-256 in the database.

A new session (and token) at every sign-in, so a session id planted before sign-in is
worthless; sessions end at sign-out, when the account is disabled, after the idle timeout
and at the absolute lifetime."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person, WebSession
from award_jury.audit.services import record_event

#: last_seen_at is written at most this often (a page view is not a database write).
TOUCH_INTERVAL = timedelta(seconds=60)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


async def start_session(
    session: AsyncSession,
    person: Person,
    policy: SessionPolicy,
    now: datetime,
    *,
    ip: str | None = None,
    user_agent: str = "",
    method: str = "password",
) -> str:
    """Create a new session for ``person``; returns the token for the cookie."""
    token = new_token()
    session.add(
        WebSession(
            token_hash=hash_token(token),
            person_id=person.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
            ip=ip,
            user_agent=user_agent[:300],
        )
    )
    person.last_login_at = now
    record_event(
        session,
        "signin.succeeded",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        after={"method": method},
        ip=ip,
    )
    await session.flush()
    return token


def idle_deadline(web_session: WebSession, policy: SessionPolicy) -> datetime:
    return min(web_session.last_seen_at + policy.idle, web_session.expires_at)


async def load_session(
    session: AsyncSession, token: str | None, policy: SessionPolicy, now: datetime
) -> tuple[WebSession, Person] | None:
    """The live session for a cookie token (touched), or None; an expired one is deleted."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            sa.select(WebSession, Person)
            .join(Person, Person.id == WebSession.person_id)
            .where(WebSession.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    web_session, person = row
    if not person.is_active or now >= idle_deadline(web_session, policy):
        await session.delete(web_session)
        return None
    if now - web_session.last_seen_at >= min(TOUCH_INTERVAL, policy.idle / 10):
        web_session.last_seen_at = now
    return web_session, person


async def extend_session(session: AsyncSession, web_session: WebSession, now: datetime) -> None:
    web_session.last_seen_at = now
    await session.flush()


async def end_session(session: AsyncSession, token: str, *, ip: str | None = None) -> None:
    found = (
        await session.execute(sa.select(WebSession).where(WebSession.token_hash == hash_token(token)))
    ).scalar_one_or_none()
    if found is not None:
        record_event(
            session, "signout", actor_id=found.person_id, object_type="person", object_id=found.person_id, ip=ip
        )
        await session.delete(found)


async def end_all_sessions(session: AsyncSession, person_id: int) -> int:
    result = await session.execute(sa.delete(WebSession).where(WebSession.person_id == person_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def sign_out_everywhere(session: AsyncSession, person_id: int, *, ip: str | None = None) -> int:
    """End every session of the person (this one too), recorded in the audit log; how many ended."""
    ended = await end_all_sessions(session, person_id)
    record_event(
        session,
        "signout.everywhere",
        actor_id=person_id,
        object_type="person",
        object_id=person_id,
        after={"sessions": ended},
        ip=ip,
    )
    return ended


async def session_is_alive(session: AsyncSession, session_id: int, policy: SessionPolicy, now: datetime) -> bool:
    """The web session is still there, its person active, and it is not past its deadlines (one
    small query; sign-out and "sign out everywhere" delete the row). For long-lived streams."""
    row = (
        await session.execute(
            sa.select(WebSession.last_seen_at, WebSession.expires_at, Person.is_active)
            .join(Person, Person.id == WebSession.person_id)
            .where(WebSession.id == session_id)
        )
    ).first()
    if row is None or not row.is_active:
        return False
    deadline = min(row.last_seen_at + policy.idle, row.expires_at)
    return bool(now < deadline)
