"""Rate limits kept in the database, so every worker and host counts the same attempts.

An attempt is counted and checked in one step (:func:`take`): the transaction first takes the
buckets' lock (PostgreSQL: advisory transaction locks; SQLite: the write lock), then counts, then
records the attempt. Simultaneous attempts therefore queue and each sees the ones before it; the
caller commits before the slow part (checking a password), so the lock is held only briefly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import RateLimitHit
from award_jury.db import write_transaction
from award_jury.errors import RateLimitedError


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` attempts per ``window``; with ``spacing``, further attempts are not
    refused for the whole window but only until ``spacing`` has passed since the newest one."""

    name: str
    limit: int
    window: timedelta
    spacing: timedelta | None = None

    def bucket(self, key: str) -> str:
        return f"{self.name}:{key.lower()}"[:400]


def pair(email: str, ip: str) -> str:
    """The key of an (address, IP) bucket."""
    return f"{email} {ip}"


# The rules (README, "Sign-in limits"). Nobody can lock a named person out: the hard limits are
# per (address, client IP) and per client IP; for the address alone there is only a delay.
WINDOW = timedelta(minutes=15)
#: Wrong passwords for one address from one IP: the sixth within 15 minutes is refused.
SIGNIN_FAILURES_PER_PAIR = Limit("signin-fail-pair", 5, WINDOW)
#: Wrong passwords from one IP, whatever the addresses.
SIGNIN_FAILURES_PER_IP = Limit("signin-fail-ip", 30, WINDOW)
#: Wrong passwords for one address from anywhere: from the tenth on, one try a minute.
SIGNIN_FAILURES_PER_EMAIL = Limit("signin-fail-email", 10, WINDOW, spacing=timedelta(minutes=1))
#: Requests for sign-in, reset and apply links, refused (429) per (address, IP) and per IP.
LINK_REQUESTS_PER_PAIR = Limit("link-pair", 5, WINDOW)
LINK_REQUESTS_PER_IP = Limit("link-ip", 30, WINDOW)
#: Mails with such links to one address: five in 15 minutes, then one every 5 minutes. Requests
#: beyond that are answered as usual but send nothing (the newest link mailed stays valid), so
#: the owner of the mailbox always has a working link at most 5 minutes away.
LINK_MAILS_PER_EMAIL = Limit("link-email", 5, WINDOW, spacing=timedelta(minutes=5))
#: Wrong codes of two-factor sign-in (the code step, and the forms that ask for a code), the same
#: policy as passwords: hard limits per (address, IP) and per IP, a delay for the address alone.
TWO_FACTOR_FAILURES_PER_PAIR = Limit("2fa-fail-pair", 5, WINDOW)
TWO_FACTOR_FAILURES_PER_IP = Limit("2fa-fail-ip", 30, WINDOW)
TWO_FACTOR_FAILURES_PER_EMAIL = Limit("2fa-fail-email", 10, WINDOW, spacing=timedelta(minutes=1))


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
    return await wait_needed(session, limit, key, now) > timedelta(0)


async def wait_needed(session: AsyncSession, limit: Limit, key: str, now: datetime) -> timedelta:
    """Zero when one more attempt may go ahead now, else how long until it may."""
    if await count(session, limit, key, now) < limit.limit:
        return timedelta(0)
    if limit.spacing is None:
        return max(timedelta(seconds=1), await retry_after(session, limit, key, now))
    newest = _aware(
        (
            await session.execute(
                sa.select(sa.func.max(RateLimitHit.at)).where(
                    RateLimitHit.bucket == limit.bucket(key), RateLimitHit.at > now - limit.window
                )
            )
        ).scalar_one()
    )
    return max(timedelta(0), newest + limit.spacing - now)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite aggregates lose the UTC


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
        wait = await wait_needed(session, limit, key, now)
        if wait > timedelta(0):
            raise RateLimitedError(math.ceil(wait.total_seconds()))
    return [await hit(session, limit, key, now) for limit, key in limits]


async def forget(session: AsyncSession, hit_ids: list[int]) -> None:
    """Uncount attempts that turned out fine (a right password)."""
    if hit_ids:
        await session.execute(sa.delete(RateLimitHit).where(RateLimitHit.id.in_(hit_ids)))


async def forget_address(session: AsyncSession, email: str) -> None:
    """Delete every counter that names the address (anonymising a person)."""
    address = email.lower()
    conditions = [
        RateLimitHit.bucket == limit.bucket(address)
        for limit in (SIGNIN_FAILURES_PER_EMAIL, LINK_MAILS_PER_EMAIL, TWO_FACTOR_FAILURES_PER_EMAIL)
    ]
    conditions += [
        RateLimitHit.bucket.startswith(limit.bucket(pair(address, "")), autoescape=True)
        for limit in (SIGNIN_FAILURES_PER_PAIR, LINK_REQUESTS_PER_PAIR, TWO_FACTOR_FAILURES_PER_PAIR)
    ]
    await session.execute(sa.delete(RateLimitHit).where(sa.or_(*conditions)))


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
    return max(timedelta(0), _aware(oldest) + limit.window - now)
