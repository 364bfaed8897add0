"""Sending the outbox: claim due deliveries, sign, POST, record the attempt, retry with backoff.

A dispatcher claims due rows in a short write transaction (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``; SQLite: under its write lock) and moves each one a lease ahead, so another dispatcher
(another worker process, ``award-jury worker``) does not take it while it is being sent. The
POST happens outside any transaction; its outcome is written in a second one. A process that
dies mid-send leaves the row to be sent again when the lease ends: receivers see the same
``webhook-id`` and can drop the repeat."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import sqlalchemy as sa

from award_jury.db import Database, utcnow, write_transaction
from award_jury.webhooks import addresses, signing
from award_jury.webhooks.models import (
    DELIVERED,
    FAILED,
    PENDING,
    TEST_EVENT,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger("award_jury.webhooks")

#: The waits after the 1st, 2nd, … failed attempt; after the last one the delivery has failed.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
#: How long a claimed delivery is left to its dispatcher before another may take it.
LEASE = timedelta(minutes=2)
#: Seconds for a whole attempt (connect, send, answer headers).
TIMEOUT = 10.0


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    number: int  # this attempt's number, 1 for the first
    message_id: str
    body: str
    url: str
    secret: str
    active: bool
    #: The secret before a rotation, while it still signs.
    previous_secret: str | None = None


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None
    duration_ms: int
    error: str
    started_at: datetime
    #: No further attempt (the endpoint is switched off).
    final: bool = False


def next_attempt(number: int, now: datetime) -> datetime | None:
    """When to try again after failed attempt ``number`` (None: give up)."""
    return now + BACKOFF[number - 1] if number <= len(BACKOFF) else None


class Dispatcher:
    """Sends due deliveries. ``clock``, ``resolver`` and ``verify`` (an SSL context) are for tests."""

    name = "webhooks"

    def __init__(
        self,
        db: Database,
        *,
        allow_private: bool = False,
        clock: Callable[[], datetime] = utcnow,
        resolver: addresses.Resolver = addresses.system_resolver,
        verify: ssl.SSLContext | bool = True,
        timeout: float = TIMEOUT,
        batch: int = 20,
    ) -> None:
        self.db = db
        self.allow_private = allow_private
        self.clock = clock
        self.resolver = resolver
        self.verify = verify
        self.timeout = timeout
        self.batch = batch

    async def run_once(self) -> int:
        """Send what is due now; returns how many deliveries were attempted."""
        claimed = await self.claim()
        if not claimed:
            return 0
        async with httpx.AsyncClient(
            verify=self.verify, follow_redirects=False, timeout=self.timeout, trust_env=False
        ) as client:
            outcomes = await asyncio.gather(*(self.send(client, c) for c in claimed))
        await self.record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def claim(self) -> list[Claimed]:
        now = self.clock()
        due = WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now
        # A plain read first: most rounds find nothing, and then take no write lock (SQLite has one
        # for the whole database, and the loop asks every second in every process).
        async with self.db.session() as session:
            if (await session.execute(sa.select(WebhookDelivery.id).where(*due).limit(1))).first() is None:
                return []
        async with self.db.session() as session:
            await write_transaction(session)
            query = (
                sa.select(WebhookDelivery.id)
                .where(*due)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(self.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if not ids:
                return []
            await session.execute(
                sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(next_attempt_at=now + LEASE)
            )
            rows = await session.execute(
                sa.select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id.in_(ids))
                .order_by(WebhookDelivery.id)
            )
            return [
                Claimed(
                    d.id,
                    d.attempts + 1,
                    d.message_id,
                    d.body,
                    e.url,
                    e.secret,
                    e.active or d.event_type == TEST_EVENT,
                    e.previous_secret if e.previous_secret_until and e.previous_secret_until > now else None,
                )
                for d, e in rows.all()
            ]

    async def send(self, client: httpx.AsyncClient, c: Claimed) -> Outcome:
        started = time.monotonic()
        at = self.clock()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        if not c.active:
            return Outcome(False, None, 0, "endpoint switched off", at, final=True)
        try:
            target = await addresses.check(c.url, resolver=self.resolver, allow_private=self.allow_private)
        except addresses.UrlRefused as exc:
            return Outcome(False, None, took(), f"address refused: {exc}"[:300], at)
        headers = signing.headers(c.secret, c.message_id, int(at.timestamp()), c.body, also=c.previous_secret)
        try:
            status = await asyncio.wait_for(self._post(client, target, headers, c.body), self.timeout + 1)
        except (httpx.HTTPError, OSError, ssl.SSLError, TimeoutError) as exc:
            return Outcome(False, None, took(), (type(exc).__name__ + ": " + str(exc))[:300], at)
        ok = 200 <= status < 300
        return Outcome(ok, status, took(), "" if ok else f"HTTP {status}", at)

    async def _post(
        self, client: httpx.AsyncClient, target: addresses.Target, headers: dict[str, str], body: str
    ) -> int:
        """POST to the address that was checked (not to a new lookup), with the URL's host name
        for Host and for TLS (SNI and the certificate check). The answer's body is not read."""
        parts = urlsplit(target.url)
        address = target.addresses[0]
        host = f"[{address}]" if ":" in address else address
        netloc = f"{host}:{target.port}"
        pinned = urlunsplit(("https", netloc, parts.path or "/", parts.query, ""))
        host_header = target.host if target.port == 443 else f"{target.host}:{target.port}"
        if ":" in target.host and not target.host.startswith("["):
            host_header = f"[{target.host}]" if target.port == 443 else f"[{target.host}]:{target.port}"
        request = client.build_request(
            "POST",
            pinned,
            content=body.encode("utf-8"),
            headers={**headers, "host": host_header},
            extensions={"sni_hostname": target.host},
        )
        response = await client.send(request, stream=True)
        await response.aclose()
        return response.status_code

    async def record(self, results: list[tuple[Claimed, Outcome]]) -> None:
        now = self.clock()
        async with self.db.session() as session:
            await write_transaction(session)
            # an endpoint deleted meanwhile took its deliveries along: nothing to record for those
            present = set(
                (
                    await session.execute(
                        sa.select(WebhookDelivery.id).where(
                            WebhookDelivery.id.in_([c.delivery_id for c, _o in results])
                        )
                    )
                ).scalars()
            )
            for c, outcome in results:
                if c.delivery_id not in present:
                    continue
                if outcome.succeeded:
                    status, due = DELIVERED, None
                else:
                    due = None if outcome.final else next_attempt(c.number, now)
                    status = PENDING if due is not None else FAILED
                session.add(
                    WebhookAttempt(
                        delivery_id=c.delivery_id,
                        number=c.number,
                        started_at=outcome.started_at,
                        duration_ms=outcome.duration_ms,
                        status_code=outcome.status_code,
                        succeeded=outcome.succeeded,
                        error=outcome.error,
                    )
                )
                await session.execute(
                    sa.update(WebhookDelivery)
                    .where(WebhookDelivery.id == c.delivery_id)
                    .values(
                        attempts=c.number,
                        status=status,
                        next_attempt_at=due,
                        last_attempt_at=now,
                        last_status_code=outcome.status_code,
                        last_duration_ms=outcome.duration_ms,
                        last_error=outcome.error,
                    )
                )
                if not outcome.succeeded:
                    log.info("webhook delivery %s attempt %s failed: %s", c.delivery_id, c.number, outcome.error)
