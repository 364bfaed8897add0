"""The dispatcher sends queued events to a real HTTPS receiver on 127.0.0.1: signed so that the
reference library accepts them, retried with backoff while the receiver is down (the clock is
injected), never to an address that now resolves into a private network, never following a
redirect; two dispatchers never send one delivery twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from standardwebhooks.webhooks import Webhook

from award_jury.awards.models import Award
from award_jury.cli import cli
from award_jury.db import Database, utcnow
from award_jury.webhooks import services
from award_jury.webhooks.dispatch import BACKOFF, LEASE, Dispatcher
from award_jury.webhooks.models import DELIVERED, FAILED, PENDING, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.support.webhooks import Clock, Receiver, add_endpoint, deliveries


async def make_award(db: Database, slug: str = "hook-award") -> int:
    async with db.session() as s:
        award = Award(slug=slug, name="Hook Award")
        s.add(award)
        await s.flush()
        return award.id


async def queue_test_events(db: Database, endpoint: WebhookEndpoint, n: int = 1) -> None:
    async with db.session() as s:
        stored = await services.get_endpoint(s, endpoint.award_id, endpoint.id)
        for _ in range(n):
            services.send_test_event(s, stored, "hook-award")


async def attempts(db: Database) -> list[WebhookAttempt]:
    async with db.session() as s:
        return list((await s.execute(sa.select(WebhookAttempt).order_by(WebhookAttempt.id))).scalars())


@pytest.fixture
async def receiver() -> Any:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def test_delivery_is_signed_per_standard_webhooks_and_logged(db: Database, receiver: Receiver) -> None:
    endpoint = await add_endpoint(db, await make_award(db), receiver.url)
    await queue_test_events(db, endpoint)
    dispatcher = Dispatcher(db, allow_private=True, verify=receiver.client_context())
    assert await dispatcher.run_once() == 1
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.path == "/hooks" and got.headers["content-type"] == "application/json"
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "webhook.test" and payload["data"] == {"award": "hook-award", "endpoint_id": endpoint.id}
    [row] = await deliveries(db)
    assert got.headers["webhook-id"] == row.message_id and got.body == row.body
    assert (row.status, row.attempts, row.last_status_code, row.next_attempt_at) == (DELIVERED, 1, 204, None)
    [attempt] = await attempts(db)
    assert (attempt.number, attempt.status_code, attempt.succeeded, attempt.error) == (1, 204, True, "")
    assert await dispatcher.run_once() == 0  # nothing is sent twice


async def test_receiver_that_is_down_gets_the_event_after_the_backoff(db: Database) -> None:
    receiver = Receiver()  # not started: nothing listens on its port yet
    endpoint = await add_endpoint(db, await make_award(db), receiver.url)
    await queue_test_events(db, endpoint)
    clock = Clock(utcnow())
    start = clock.now
    dispatcher = Dispatcher(db, allow_private=True, verify=receiver.client_context(), clock=clock)
    assert await dispatcher.run_once() == 1
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.last_status_code) == (PENDING, 1, None)
    assert row.next_attempt_at == start + BACKOFF[0]
    assert "ConnectError" in row.last_error
    assert await dispatcher.run_once() == 0  # not due yet

    await receiver.start()
    try:
        clock.now = start + BACKOFF[0]
        assert await dispatcher.run_once() == 1
    finally:
        await receiver.stop()
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.last_status_code) == (DELIVERED, 2, 204)
    assert [(a.number, a.succeeded) for a in await attempts(db)] == [(1, False), (2, True)]
    [got] = receiver.received
    assert got.headers["webhook-id"] == row.message_id
    assert got.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    Webhook(endpoint.secret).verify(got.body, got.headers)


async def test_failing_receiver_is_retried_on_the_schedule_then_given_up(db: Database, receiver: Receiver) -> None:
    receiver.status = 500
    endpoint = await add_endpoint(db, await make_award(db), receiver.url)
    await queue_test_events(db, endpoint)
    clock = Clock(utcnow())
    dispatcher = Dispatcher(db, allow_private=True, verify=receiver.client_context(), clock=clock)
    waits = []
    for _ in range(len(BACKOFF) + 1):
        assert await dispatcher.run_once() == 1
        [row] = await deliveries(db)
        if row.next_attempt_at is not None:
            waits.append(row.next_attempt_at - clock.now)
            clock.now = row.next_attempt_at
    assert waits == list(BACKOFF)
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (FAILED, 7, 500, "HTTP 500")
    assert len(receiver.received) == 7 and len({r.headers["webhook-id"] for r in receiver.received}) == 1
    clock.now += timedelta(days=30)
    assert await dispatcher.run_once() == 0


async def test_redirect_is_not_followed(db: Database, receiver: Receiver) -> None:
    receiver.status = 302
    endpoint = await add_endpoint(db, await make_award(db), receiver.url)
    await queue_test_events(db, endpoint)
    await Dispatcher(db, allow_private=True, verify=receiver.client_context()).run_once()
    [row] = await deliveries(db)
    assert (row.status, row.last_status_code, len(receiver.received)) == (PENDING, 302, 1)


async def test_name_that_now_resolves_to_loopback_is_not_sent_to(db: Database, receiver: Receiver) -> None:
    """DNS rebinding: the name was public when the endpoint was saved, and points at 127.0.0.1 now."""
    award_id = await make_award(db)

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    async def rebound(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    url = f"https://hooks.example.org:{receiver.port}/hooks"
    async with db.session() as s:
        endpoint = await services.create_endpoint(
            s, award_id, services.EndpointForm(url=url, events=["round.finalised"]), None, resolver=public
        )
        services.send_test_event(s, endpoint, "hook-award")
    dispatcher = Dispatcher(db, resolver=rebound, verify=receiver.client_context())
    assert await dispatcher.run_once() == 1
    assert receiver.received == []
    [row] = await deliveries(db)
    assert row.status == PENDING and row.last_error == "address refused: private: 127.0.0.1"


async def test_switched_off_endpoint_gets_no_more_events(db: Database, receiver: Receiver) -> None:
    endpoint = await add_endpoint(db, await make_award(db), receiver.url, events=("round.finalised",))
    async with db.session() as s:
        await services.emit(s, endpoint.award_id, "round.finalised", {"award": "hook-award"})
        ep = await services.get_endpoint(s, endpoint.award_id, endpoint.id)
        ep.active = False
    await Dispatcher(db, allow_private=True, verify=receiver.client_context()).run_once()
    [row] = await deliveries(db)
    assert (row.status, row.last_error, receiver.received) == (FAILED, "endpoint switched off", [])


async def test_two_dispatchers_never_send_one_delivery_twice(engine_db: Database, receiver: Receiver) -> None:
    """Two processes' dispatchers (separate engines, real commits) drain one outbox together."""
    url = engine_db.engine.url.render_as_string(hide_password=False)
    one, two = Database.from_url(url), Database.from_url(url)
    award_id = await make_award(engine_db, "race-award")
    try:
        endpoint = await add_endpoint(engine_db, award_id, receiver.url)
        await queue_test_events(engine_db, endpoint, 40)
        first = Dispatcher(one, allow_private=True, verify=receiver.client_context(), batch=7)
        second = Dispatcher(two, allow_private=True, verify=receiver.client_context(), batch=7)
        for _ in range(20):
            done = await asyncio.gather(first.run_once(), second.run_once())
            if done == [0, 0]:
                break
        ids = Counter(r.headers["webhook-id"] for r in receiver.received)
        assert len(ids) == 40 and set(ids.values()) == {1}
        async with engine_db.session() as s:
            rows = list(
                (
                    await s.execute(sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
                ).scalars()
            )
        assert {(d.status, d.attempts) for d in rows} == {(DELIVERED, 1)}
    finally:
        async with engine_db.session() as s:
            await s.execute(sa.delete(Award).where(Award.id == award_id))
        await one.dispose()
        await two.dispose()


async def test_claimed_delivery_is_left_to_its_dispatcher_until_the_lease_ends(db: Database) -> None:
    endpoint = await add_endpoint(db, await make_award(db))
    await queue_test_events(db, endpoint)
    clock = Clock(utcnow())
    dispatcher = Dispatcher(db, allow_private=True, clock=clock)
    assert len(await dispatcher.claim()) == 1  # … and then the process died before sending
    assert await dispatcher.claim() == []
    clock.now += LEASE
    [again] = await dispatcher.claim()
    assert again.number == 1


def test_worker_command_runs_the_due_deliveries(make_database_url: Any, tmp_path: Path) -> None:
    """``award-jury worker --once`` sends what is due (here to a receiver whose certificate the
    system does not trust: the attempt is made and logged as a TLS failure)."""
    url = make_database_url("whworker")
    env = {
        "AWARD_JURY_DATABASE_URL": url,
        "AWARD_JURY_DATA_DIR": str(tmp_path),
        "AWARD_JURY_SECRET_KEY": "k" * 32,
        "AWARD_JURY_WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    receiver = Receiver()

    async def prepare() -> None:
        database = Database.from_url(url)
        try:
            endpoint = await add_endpoint(database, await make_award(database), receiver.url)
            await queue_test_events(database, endpoint)
        finally:
            await database.dispose()

    async def outcome() -> list[WebhookDelivery]:
        database = Database.from_url(url)
        try:
            return await deliveries(database)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    result = runner.invoke(cli, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    [row] = asyncio.run(outcome())
    assert row.attempts == 1 and row.status == PENDING and row.last_error.startswith("ConnectError")
    assert json.loads(row.body)["type"] == "webhook.test"


async def test_after_a_rotation_both_secrets_sign_for_a_day(db: Database, receiver: Receiver) -> None:
    endpoint = await add_endpoint(db, await make_award(db), receiver.url)
    old = endpoint.secret
    rotated_at = utcnow()
    async with db.session() as s:
        new = await services.rotate_secret(
            s, await services.get_endpoint(s, endpoint.award_id, endpoint.id), None, now=rotated_at
        )
    await queue_test_events(db, endpoint)
    clock = Clock(utcnow())
    dispatcher = Dispatcher(db, allow_private=True, verify=receiver.client_context(), clock=clock)
    assert await dispatcher.run_once() == 1
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(got.body, got.headers)
    Webhook(old).verify(got.body, got.headers)  # a receiver that has not switched yet

    clock.now = rotated_at + services.ROTATION_GRACE
    await queue_test_events(db, endpoint)
    assert await dispatcher.run_once() == 1
    got = receiver.received[-1]
    # (the reference library's verify() refuses a timestamp a day ahead of the real clock, so the
    # signature is compared with the reference library's own sign())
    sent_at = datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), UTC)
    assert got.headers["webhook-signature"] == Webhook(new).sign(got.headers["webhook-id"], sent_at, got.body)
    assert Webhook(old).sign(got.headers["webhook-id"], sent_at, got.body) not in got.headers["webhook-signature"]


async def test_connection_goes_to_the_checked_address_with_the_host_name_for_tls(db: Database) -> None:
    """The URL names a host; the dispatcher connects to the address it checked, and sends the
    name as Host and as the TLS server name: the receiver's certificate names only the host (not
    127.0.0.1), so the delivery succeeds only when the certificate is checked against the name."""
    receiver = Receiver(names=("hooks.award.test",))
    await receiver.start()
    award_id = await make_award(db)
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    url = f"https://hooks.award.test:{receiver.port}/hooks?src=award"
    try:
        async with db.session() as s:
            endpoint = await services.create_endpoint(
                s,
                award_id,
                services.EndpointForm(url=url, events=["round.finalised"]),
                None,
                resolver=resolve,
                allow_private=True,
            )
            services.send_test_event(s, endpoint, "hook-award")
        dispatcher = Dispatcher(db, allow_private=True, resolver=resolve, verify=receiver.client_context())
        assert await dispatcher.run_once() == 1
    finally:
        await receiver.stop()
    [got] = receiver.received
    assert (got.path, got.headers["host"]) == ("/hooks?src=award", f"hooks.award.test:{receiver.port}")
    assert lookups == ["hooks.award.test", "hooks.award.test"]  # when saved, and again before sending
    Webhook(endpoint.secret).verify(got.body, got.headers)
    [row] = await deliveries(db)
    assert (row.status, row.last_status_code) == (DELIVERED, 204)
