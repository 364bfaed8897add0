"""Rate limits kept in the database, so every worker and host counts the same attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import RateLimitHit


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


async def hit(session: AsyncSession, limit: Limit, key: str, now: datetime) -> None:
    bucket = limit.bucket(key)
    await session.execute(
        sa.delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.at <= now - limit.window)
    )
    session.add(RateLimitHit(bucket=bucket, at=now))
    await session.flush()


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
