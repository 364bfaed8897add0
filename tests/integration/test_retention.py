"""Retention rules (issue 19): what has served its purpose is removed on a schedule, by
``award-jury run-scheduled`` and about once an hour inside ``serve``. The clock is passed in
(``now``), files get their age through their modification time: no test waits for time to pass."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from award_jury.accounts.models import LoginToken, PendingSignIn, Person, RateLimitHit, WebSession
from award_jury.audit.models import AuditEvent
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.enums import TokenPurpose
from award_jury.migrate import upgrade
from award_jury.retention import Removed, run_scheduled
from award_jury.settings import Settings
from award_jury.web.scheduler import scheduled
from award_jury.webhooks.models import DELIVERED, FAILED, PENDING, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.support.browser import LiveServer
from tests.support.factories import small_bundle

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


async def person(db: Database, email: str = "pia@example.org") -> int:
    async with db.session() as s:
        p = Person(email=email, name="Pia")
        s.add(p)
        await s.flush()
        return p.id


async def add(db: Database, *rows: Any) -> None:
    async with db.session() as s:
        s.add_all(rows)


async def rows(db: Database, query: Any) -> list[Any]:
    async with db.session() as s:
        return list((await s.execute(query)).all())


def session_row(person_id: int, name: str, *, last_seen: datetime, expires: datetime) -> WebSession:
    return WebSession(
        token_hash=name.ljust(64, "_"),
        person_id=person_id,
        created_at=last_seen,
        last_seen_at=last_seen,
        expires_at=expires,
        user_agent=name,
    )


def token_row(person_id: int, name: str, *, expires: datetime, used: bool = False) -> LoginToken:
    return LoginToken(
        token_hash=name.ljust(64, "_"),
        person_id=person_id,
        purpose=TokenPurpose.SIGNIN,
        created_at=expires - timedelta(minutes=30),
        expires_at=expires,
        used_at=expires - timedelta(minutes=20) if used else None,
    )


def outbox_file(settings: Settings, name: str, age: timedelta, now: datetime = NOW) -> Path:
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    path = settings.outbox_dir / name
    path.write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    stamp = (now - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


# ---------------------------------------------------------------- each rule


async def test_audit_ip_addresses_are_blanked_after_90_days(db: Database, settings: Settings) -> None:
    await add(
        db,
        AuditEvent(action="signin.succeeded", at=NOW - 91 * DAY, ip="192.0.2.1"),
        AuditEvent(action="signin.succeeded", at=NOW - 89 * DAY, ip="192.0.2.2"),
        AuditEvent(action="entry.submitted", at=NOW - 400 * DAY, ip=None),
    )
    removed = await run_scheduled(db, settings, NOW)
    assert removed.audit_ips == 1
    ips = await rows(db, sa.select(AuditEvent.action, AuditEvent.ip).order_by(AuditEvent.at))
    assert ips == [("entry.submitted", None), ("signin.succeeded", None), ("signin.succeeded", "192.0.2.2")]
    assert (await run_scheduled(db, settings, NOW)).audit_ips == 0  # idempotent

    shorter = replace(settings, retention_audit_ip_days=30)
    assert (await run_scheduled(db, shorter, NOW)).audit_ips == 1


async def test_expired_and_idle_sessions_are_deleted(db: Database, settings: Settings) -> None:
    pid = await person(db)
    await add(
        db,
        session_row(pid, "expired", last_seen=NOW - timedelta(minutes=5), expires=NOW - timedelta(seconds=1)),
        session_row(pid, "idle", last_seen=NOW - timedelta(hours=9), expires=NOW + 6 * DAY),
        session_row(pid, "alive", last_seen=NOW - timedelta(hours=7), expires=NOW + 6 * DAY),
    )
    assert (await run_scheduled(db, settings, NOW)).sessions == 2
    assert await rows(db, sa.select(WebSession.user_agent)) == [("alive",)]


async def test_rate_limit_records_older_than_a_day_are_deleted(db: Database, settings: Settings) -> None:
    await add(
        db,
        RateLimitHit(bucket="signin-fail-ip:192.0.2.1", at=NOW - 2 * DAY),
        RateLimitHit(bucket="signin-fail-ip:192.0.2.1", at=NOW - timedelta(minutes=10)),
    )
    assert (await run_scheduled(db, settings, NOW)).rate_limit_records == 1
    assert await rows(db, sa.select(RateLimitHit.at)) == [(NOW - timedelta(minutes=10),)]


async def test_failed_sign_in_records_go_after_30_days_and_successful_ones_stay(
    db: Database, settings: Settings
) -> None:
    await add(
        db,
        AuditEvent(action="signin.failed", object_type="email", object_id="typed@example.org", at=NOW - 31 * DAY),
        AuditEvent(action="signin.refused", object_type="email", object_id="typed@example.org", at=NOW - 40 * DAY),
        AuditEvent(action="signin.failed", object_type="email", object_id="recent@example.org", at=NOW - 29 * DAY),
        AuditEvent(action="signin.succeeded", object_type="person", object_id="1", at=NOW - 100 * DAY),
    )
    assert (await run_scheduled(db, settings, NOW)).signin_records == 2
    left = await rows(db, sa.select(AuditEvent.action, AuditEvent.object_id).order_by(AuditEvent.id))
    assert left == [("signin.failed", "recent@example.org"), ("signin.succeeded", "1")]


async def test_links_are_deleted_a_week_after_they_expired(db: Database, settings: Settings) -> None:
    pid = await person(db)
    await add(
        db,
        token_row(pid, "old-used", expires=NOW - 8 * DAY, used=True),
        token_row(pid, "old-unused", expires=NOW - 8 * DAY),
        token_row(pid, "recent-used", expires=NOW - 6 * DAY, used=True),
        token_row(pid, "valid", expires=NOW + timedelta(minutes=20)),
    )
    assert (await run_scheduled(db, settings, NOW)).links == 2
    left = sorted(h.rstrip("_") for (h,) in await rows(db, sa.select(LoginToken.token_hash)))
    assert left == ["recent-used", "valid"]


async def test_outbox_files_older_than_30_days_are_deleted(db: Database, settings: Settings) -> None:
    old = outbox_file(settings, "old.eml", 31 * DAY)
    recent = outbox_file(settings, "recent.eml", 29 * DAY)
    other = outbox_file(settings, "notes.txt", 400 * DAY)
    assert (await run_scheduled(db, settings, NOW)).outbox_files == 1
    assert (old.exists(), recent.exists(), other.exists()) == (False, True, True)
    assert (await run_scheduled(db, replace(settings, retention_outbox_days=1), NOW)).outbox_files == 1
    assert not recent.exists()


async def test_unfinished_two_factor_sign_ins_are_deleted_once_expired(db: Database, settings: Settings) -> None:
    pid = await person(db)
    waiting = dict(person_id=pid, method="password", target="", ip="192.0.2.7")
    await add(
        db,
        PendingSignIn(
            token_hash="expired".ljust(64, "_"), created_at=NOW - 6 * MINUTE, expires_at=NOW - MINUTE, **waiting
        ),
        PendingSignIn(
            token_hash="waiting".ljust(64, "_"), created_at=NOW - MINUTE, expires_at=NOW + 4 * MINUTE, **waiting
        ),
    )
    assert (await run_scheduled(db, settings, NOW)).pending_signins == 1
    assert [h.rstrip("_") for (h,) in await rows(db, sa.select(PendingSignIn.token_hash))] == ["waiting"]


async def test_finished_webhook_deliveries_go_after_30_days_with_their_attempts(
    db: Database, settings: Settings
) -> None:
    async with db.session() as s:
        award_id = (await import_bundle(s, small_bundle())).id
        endpoint = WebhookEndpoint(award_id=award_id, url="https://hooks.example.org/in", secret="whsec_x", events=[])
        s.add(endpoint)
        await s.flush()
        for name, status, age in (
            ("old-delivered", DELIVERED, 31 * DAY),
            ("old-failed", FAILED, 40 * DAY),
            ("old-pending", PENDING, 31 * DAY),
            ("recent-delivered", DELIVERED, 29 * DAY),
        ):
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id,
                event_type="entry.submitted",
                message_id=name,
                body="{}",
                status=status,
                created_at=NOW - age,
            )
            s.add(delivery)
            await s.flush()
            s.add(WebhookAttempt(delivery_id=delivery.id, number=1, started_at=NOW - age, duration_ms=5))
    assert (await run_scheduled(db, settings, NOW)).webhook_deliveries == 2
    left = await rows(db, sa.select(WebhookDelivery.message_id).order_by(WebhookDelivery.message_id))
    assert left == [("old-pending",), ("recent-delivered",)]
    assert len(await rows(db, sa.select(WebhookAttempt.id))) == 2


async def test_nothing_to_remove_is_a_run_too(db: Database, settings: Settings) -> None:
    removed = await run_scheduled(db, settings, NOW)
    assert removed == Removed()
    assert removed.summary() == (
        "retention: blanked 0 audit IP addresses; deleted 0 expired sessions, 0 rate-limit records, "
        "0 sign-in records, 0 expired links, 0 unfinished two-factor sign-ins, 0 old webhook deliveries, "
        "0 outbox files"
    )


# ---------------------------------------------------------------- two at once, and inside serve


async def fresh_database(make_database_url: Any, tmp_path: Path, name: str) -> tuple[Settings, Database]:
    url = make_database_url(name)
    db = Database.from_url(url)
    await upgrade(db)
    settings = Settings(database_url=url, data_dir=tmp_path / "var", secret_key="retention-secret-0123456789")
    return settings, db


async def test_two_runs_at_once_remove_everything_once(make_database_url: Any, tmp_path: Path) -> None:
    settings, db = await fresh_database(make_database_url, tmp_path, "retention")
    other = Database.from_url(settings.database_url)
    try:
        pid = await person(db)
        await add(
            db,
            *(AuditEvent(action="signin.failed", object_id=f"{i}@x.example", at=NOW - 40 * DAY) for i in range(20)),
            *(AuditEvent(action="entry.edited", ip="192.0.2.9", at=NOW - 100 * DAY) for _ in range(20)),
            *(session_row(pid, f"s{i}", last_seen=NOW - 2 * DAY, expires=NOW - DAY) for i in range(20)),
            *(token_row(pid, f"t{i}", expires=NOW - 9 * DAY) for i in range(20)),
        )
        for i in range(20):
            outbox_file(settings, f"{i}.eml", 40 * DAY)
        first, second = await asyncio.gather(run_scheduled(db, settings, NOW), run_scheduled(other, settings, NOW))
        total = Removed()
        total += first
        total += second
        assert total == Removed(audit_ips=20, sessions=20, signin_records=20, links=20, outbox_files=20)
        assert (await run_scheduled(db, settings, NOW)).total == 0
    finally:
        await other.dispose()
        await db.dispose()


async def test_the_scheduler_task_runs_the_rules_with_its_clock_and_stops(
    make_database_url: Any, tmp_path: Path
) -> None:
    settings, db = await fresh_database(make_database_url, tmp_path, "scheduler")
    settings = replace(settings, scheduler_interval_seconds=0.01)
    try:
        pid = await person(db)
        await add(db, session_row(pid, "expired", last_seen=NOW - 2 * DAY, expires=NOW - DAY))
        runs: list[Removed] = []
        ran_twice = asyncio.Event()

        def on_run(removed: Removed) -> None:
            runs.append(removed)
            if len(runs) >= 2:
                ran_twice.set()

        async with scheduled(db, settings, clock=lambda: NOW, on_run=on_run) as task:
            await asyncio.wait_for(ran_twice.wait(), timeout=30)
        assert task.done()
        assert [r.sessions for r in runs[:2]] == [1, 0]
    finally:
        await db.dispose()


async def test_serve_runs_the_scheduler_and_keeps_answering(make_database_url: Any, tmp_path: Path) -> None:
    settings, db = await fresh_database(make_database_url, tmp_path, "served")
    settings = replace(settings, scheduler_interval_seconds=0.05, base_url="http://127.0.0.1:8000")
    try:
        pid = await person(db)
        stale = datetime.now(UTC) - 3 * DAY
        await add(db, session_row(pid, "expired", last_seen=stale, expires=stale + DAY))
        server = await asyncio.to_thread(LiveServer.start, settings)
        try:
            async with httpx.AsyncClient(base_url=server.url, headers={"host": "127.0.0.1:8000"}) as client:
                deadline = time.monotonic() + 30
                while await rows(db, sa.select(WebSession.id)):
                    assert time.monotonic() < deadline, "the scheduler never removed the expired session"
                    assert (await client.get("/healthz")).status_code == 200
                    await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(server.stop)
        assert not server.thread.is_alive()  # the lifespan ended the task with the app
    finally:
        await db.dispose()
