"""Rate limits kept in the database, so every worker and host counts the same attempts.

An attempt is counted and checked in one step (:func:`take`): the transaction first takes the
buckets' lock (PostgreSQL: advisory transaction locks; SQLite: the write lock), then counts, then
records the attempt. Simultaneous attempts therefore queue and each sees the ones before it; the
caller commits before the slow part (checking a password), so the lock is held only briefly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import RateLimitHit
from award_jury.db import write_transaction
from award_jury.errors import RateLimitedError


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta

    def bucket(self, key: str) -> str:
        return f"{self.name}:{key.lower()}"[:400]


WINDOW = timedelta(minutes=15)
#: Wrong passwords for one address: the sixth within 15 minutes is refused.
SIGNIN_FAILURES_PER_EMAIL = Limit("signin-fail-email", 5, WINDOW)
SIGNIN_FAILURES_PER_IP = Limit("signin-fail-ip", 30, WINDOW)
#: Requests for sign-in links and password resets.
LINK_REQUESTS_PER_EMAIL = Limit("link-email", 5, WINDOW)
LINK_REQUESTS_PER_IP = Limit("link-ip", 30, WINDOW)


async def count(session: AsyncSession, limit: Limit, key: str, now: datetime) -> int:
    return int(
        (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(RateLimitHit)
                .where(RateLimitHit.bucket == limit.bucket(key), RateLimitHit.at > now - limit.window)
            )
        ).scalar_one()
    )


async def exceeded(session: AsyncSession, limit: Limit, key: str, now: datetime) -> bool:
    return await count(session, limit, key, now) >= limit.limit


async def hit(session: AsyncSession, limit: Limit, key: str, now: datetime) -> int:
    """Count one attempt; returns its row id (see :func:`forget`)."""
    bucket = limit.bucket(key)
    await session.execute(
        sa.delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.at <= now - limit.window)
    )
    row = RateLimitHit(bucket=bucket, at=now)
    session.add(row)
    await session.flush()
    return row.id


async def lock(session: AsyncSession, limits: list[tuple[Limit, str]]) -> None:
    """Hold the buckets until the transaction ends, so that counting and recording is one step.

    PostgreSQL: an advisory transaction lock per bucket, taken in a fixed order (two requests never
    wait for each other in a circle). SQLite: the database's write lock (``write_transaction``),
    unless the transaction is under way already (the caller took it)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        for bucket in sorted({limit.bucket(key) for limit, key in limits}):
            await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(bucket, 0))))
    elif not session.in_transaction():
        await write_transaction(session)


async def take(session: AsyncSession, limits: list[tuple[Limit, str]], now: datetime) -> list[int]:
    """Check every limit and count this attempt in all of them, atomically (see the module's
    docstring). Raises RateLimitedError (counting nothing) when a limit is reached; else returns
    the ids of the counted hits."""
    await lock(session, limits)
    for limit, key in limits:
        if await exceeded(session, limit, key, now):
            wait = await retry_after(session, limit, key, now)
            raise RateLimitedError(int(wait.total_seconds()))
    return [await hit(session, limit, key, now) for limit, key in limits]


async def forget(session: AsyncSession, hit_ids: list[int]) -> None:
    """Uncount attempts that turned out fine (a right password)."""
    if hit_ids:
        await session.execute(sa.delete(RateLimitHit).where(RateLimitHit.id.in_(hit_ids)))


async def clear(session: AsyncSession, limit: Limit, key: str) -> None:
    await session.execute(sa.delete(RateLimitHit).where(RateLimitHit.bucket == limit.bucket(key)))


async def retry_after(session: AsyncSession, limit: Limit, key: str, now: datetime) -> timedelta:
    """How long until the oldest counted attempt leaves the window."""
    oldest = (
        await session.execute(
            sa.select(sa.func.min(RateLimitHit.at)).where(
                RateLimitHit.bucket == limit.bucket(key), RateLimitHit.at > now - limit.window
            )
        )
    ).scalar_one_or_none()
    if oldest is None:
        return timedelta(0)
    if oldest.tzinfo is None:  # SQLite aggregates lose the type's UTC conversion
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return max(timedelta(0), oldest + limit.window - now)
