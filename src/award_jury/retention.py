"""Retention rules: personal data that has served its purpose is removed on a schedule.

Run by ``award-jury run-scheduled`` (for cron) and about once an hour inside ``serve``
(``web/scheduler.py``). Every rule is idempotent, so a second run at the same time (another
worker, a cron job) removes nothing more; on PostgreSQL the runs also queue on an advisory lock,
on SQLite on the write lock. The rules (settings ``AWARD_JURY_RETENTION_*``):

- the IP addresses of audit events older than ``audit_ip_days`` (90) are blanked;
- sessions past their idle timeout or their absolute lifetime are deleted;
- rate-limit records older than a day (every limit's window is shorter) are deleted;
- failed and refused sign-in records (audit events naming an address anyone typed) older
  than ``signin_days`` (30) are deleted;
- sign-in and reset links that expired more than ``token_days`` (7) ago are deleted (used and
  replaced ones expire 30 minutes after they were sent; until then their page can still say
  "used" or "replaced" instead of "not valid");
- two-factor sign-ins that waited for their code past their 5 minutes are deleted (they hold
  the address the first step came from);
- webhook deliveries that were received or given up more than ``webhook_days`` (30) ago are
  deleted with their attempts (pending ones stay, whatever their age);
- outbox ``.eml`` files older than ``outbox_days`` (30) are deleted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import LoginToken, PendingSignIn, RateLimitHit, WebSession
from award_jury.audit.models import AuditEvent
from award_jury.db import Database, utcnow, write_transaction
from award_jury.settings import Settings
from award_jury.webhooks.models import DELIVERED, FAILED, WebhookAttempt, WebhookDelivery

#: The sign-in records the sign-in rule removes (they name addresses anyone typed).
SIGNIN_RECORDS = ("signin.failed", "signin.refused")
#: Rate-limit records are kept this long: longer than any limit's window (accounts/ratelimit.py).
RATE_LIMIT_RECORDS = timedelta(days=1)
_LOCK_KEY = 0x61776A7265746E  # "awjretn": the advisory lock the runs queue on (PostgreSQL)


@dataclass(frozen=True)
class RetentionPolicy:
    audit_ip: timedelta = timedelta(days=90)
    signin_records: timedelta = timedelta(days=30)
    tokens: timedelta = timedelta(days=7)
    outbox: timedelta = timedelta(days=30)
    webhook_deliveries: timedelta = timedelta(days=30)
    session_idle: timedelta = timedelta(hours=8)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            audit_ip=timedelta(days=settings.retention_audit_ip_days),
            signin_records=timedelta(days=settings.retention_signin_days),
            tokens=timedelta(days=settings.retention_token_days),
            outbox=timedelta(days=settings.retention_outbox_days),
            webhook_deliveries=timedelta(days=settings.retention_webhook_days),
            session_idle=timedelta(seconds=settings.session_idle_seconds),
        )


@dataclass
class Removed:
    audit_ips: int = 0
    sessions: int = 0
    rate_limit_records: int = 0
    signin_records: int = 0
    links: int = 0
    pending_signins: int = 0
    webhook_deliveries: int = 0
    outbox_files: int = 0

    def __iadd__(self, other: Removed) -> Removed:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def summary(self) -> str:
        """One line for the operator (``run-scheduled`` prints it, ``serve`` logs it)."""
        return (
            f"retention: blanked {self.audit_ips} audit IP addresses; deleted {self.sessions} expired sessions, "
            f"{self.rate_limit_records} rate-limit records, {self.signin_records} sign-in records, "
            f"{self.links} expired links, {self.pending_signins} unfinished two-factor sign-ins, "
            f"{self.webhook_deliveries} old webhook deliveries, {self.outbox_files} outbox files"
        )


def _count(result: sa.Result[object]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def apply_retention(session: AsyncSession, policy: RetentionPolicy, now: datetime) -> Removed:
    """The database rules, in the session's (write) transaction; the caller commits."""
    removed = Removed()
    removed.audit_ips = _count(
        await session.execute(
            sa.update(AuditEvent)
            .where(AuditEvent.at < now - policy.audit_ip, AuditEvent.ip.is_not(None))
            .values(ip=None)
        )
    )
    removed.sessions = _count(
        await session.execute(
            sa.delete(WebSession).where(
                sa.or_(WebSession.expires_at <= now, WebSession.last_seen_at <= now - policy.session_idle)
            )
        )
    )
    removed.rate_limit_records = _count(
        await session.execute(sa.delete(RateLimitHit).where(RateLimitHit.at < now - RATE_LIMIT_RECORDS))
    )
    removed.signin_records = _count(
        await session.execute(
            sa.delete(AuditEvent).where(
                AuditEvent.action.in_(SIGNIN_RECORDS), AuditEvent.at < now - policy.signin_records
            )
        )
    )
    removed.links = _count(
        await session.execute(sa.delete(LoginToken).where(LoginToken.expires_at < now - policy.tokens))
    )
    removed.pending_signins = _count(
        await session.execute(sa.delete(PendingSignIn).where(PendingSignIn.expires_at < now))
    )
    old_deliveries = sa.select(WebhookDelivery.id).where(
        WebhookDelivery.status.in_((DELIVERED, FAILED)),
        WebhookDelivery.created_at < now - policy.webhook_deliveries,
    )
    await session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old_deliveries)))
    removed.webhook_deliveries = _count(
        await session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(old_deliveries)))
    )
    return removed


def clean_outbox(outbox: Path, older_than: timedelta, now: datetime) -> int:
    """Delete ``.eml`` files last written before ``now - older_than`` (blocking: run it in a thread)."""
    if not outbox.is_dir():
        return 0
    cutoff = now.timestamp() - older_than.total_seconds()
    removed = 0
    for path in outbox.glob("*.eml"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another run took it first
            continue
    return removed


async def _queue(session: AsyncSession) -> None:
    """Runs at the same time queue here (PostgreSQL; SQLite's write transaction does it there)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))


async def run_scheduled(db: Database, settings: Settings, now: datetime | None = None) -> Removed:
    """Every retention rule once: the database ones in one transaction, then the outbox (in a
    thread, so the event loop of ``serve`` keeps answering)."""
    now = now or utcnow()
    policy = RetentionPolicy.from_settings(settings)
    async with db.session() as session:
        await write_transaction(session)
        await _queue(session)
        removed = await apply_retention(session, policy, now)
    removed.outbox_files = await asyncio.to_thread(clean_outbox, settings.outbox_dir, policy.outbox, now)
    return removed
