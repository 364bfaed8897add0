"""Sign-in limits under real concurrency: many requests at once, through the whole app,
on a database of its own (a file on SQLite, a fresh database on PostgreSQL; not the rolled-back
test transaction, whose one connection cannot serve requests side by side)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from award_jury.accounts import passwords
from award_jury.accounts.models import RateLimitHit, WebSession
from award_jury.db import Database
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.accounts import (
    EN,
    PASSWORD,
    link_token,
    make_organiser,
    outbox,
)
from tests.support.csrf import csrf_token, without_csrf

ORGANISER = "olga@example.org"
WRONG = "not the password at all"


@dataclass
class World:
    db: Database
    settings: Settings
    app: Any


@pytest.fixture
async def world(make_database_url: Any, tmp_path: Path) -> AsyncIterator[World]:
    url = make_database_url("limits", migrated=True)
    db = Database.from_url(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "var",
        secret_key="limits-secret-0123456789abcdef",
        base_url="http://testserver.local",
    )
    yield World(db, settings, create_app(settings, database=db))
    await db.dispose()


async def browser(world: World, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client with the CSRF cookie; ``ip`` is the client address the app sees."""
    transport = httpx.ASGITransport(app=world.app, client=(ip, 50000))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
    page = await client.get("/signin", headers=EN)
    client.headers["x-form-token"] = csrf_token(page.text)
    return client


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    data = {"email": email, "password": password, "_csrf_token": client.headers["x-form-token"]}
    return await client.post("/signin", data=data, headers=EN, follow_redirects=False)


async def test_twenty_wrong_passwords_at_once_are_not_all_checked(world: World) -> None:
    """The limit is counted and checked in one step: of 20 simultaneous wrong passwords only
    five are checked, the rest are refused, and then the right password is refused too."""
    await make_organiser(world.db)
    clients = [await browser(world) for _ in range(20)]
    try:
        answers = await asyncio.gather(*(attempt(c, ORGANISER, WRONG) for c in clients))
        right = await attempt(clients[0], ORGANISER, PASSWORD)
    finally:
        for c in clients:
            await c.aclose()
    assert Counter(a.status_code for a in answers) == {400: 5, 429: 15}
    assert right.status_code == 429
    async with world.db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(WebSession))).scalar_one() == 0


class GatedHasher:
    """The real hasher behind a gate: each verification waits for the test to open the gate
    (at most a few seconds, in case it runs on the event loop and so blocks the test too) and
    records how many run at once and how many have finished."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.running = self.most = self.started = self.finished = 0

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.started += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.gate.wait(timeout=2)
            return self.inner.verify(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1
                self.finished += 1

    def hash(self, password: str) -> str:
        return self.inner.hash(password)


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout=60)  # (a guard against hanging, not a time limit under test)


async def test_the_event_loop_answers_while_passwords_are_verified(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 runs in a bounded pool of threads: with verifications under way (held at a gate),
    /healthz is answered before any of them finishes, and no more than the bound run at once."""
    hasher = GatedHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    await make_organiser(world.db)
    bound = passwords.HASH_WORKERS
    clients = [await browser(world, ip=f"192.0.2.{n + 1}") for n in range(bound + 3)]
    try:
        sign_ins = [
            asyncio.create_task(attempt(c, ORGANISER if n == 0 else f"guess{n}@example.org", WRONG))
            for n, c in enumerate(clients)
        ]
        await until(lambda: hasher.started >= bound)
        health = await clients[0].get("/healthz")
        finished_before_health = hasher.finished
        hasher.gate.set()
        answers = await asyncio.gather(*sign_ins)
    finally:
        hasher.gate.set()
        for c in clients:
            await c.aclose()
    assert health.status_code == 200
    assert finished_before_health == 0
    assert [a.status_code for a in answers] == [400] * len(clients)
    assert hasher.finished == len(clients)
    assert hasher.most <= bound


# --- nobody can lock a named person out (item 3) ---------------------------------------------


@pytest.fixture
def shared(settings: Settings, db: Database) -> World:
    """The app on the suite's rolled-back database (for tests without simultaneous requests)."""
    return World(db, settings, create_app(settings, database=db))


async def request_link(client: httpx.AsyncClient, email: str, path: str = "/signin/link") -> httpx.Response:
    data = {"email": email, "_csrf_token": client.headers["x-form-token"]}
    return await client.post(path, data=data, headers=EN, follow_redirects=False)


async def age_hits(db: Database, prefix: str, by: timedelta) -> None:
    """Move the counted attempts of the buckets starting with ``prefix`` back in time."""
    async with db.session() as s:
        for row in (await s.execute(sa.select(RateLimitHit).where(RateLimitHit.bucket.startswith(prefix)))).scalars():
            row.at -= by


async def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(shared: World) -> None:
    await make_organiser(shared.db)
    attacker, owner = await browser(shared, "203.0.113.9"), await browser(shared, "198.51.100.20")
    async with aclosing(attacker), aclosing(owner):
        for _ in range(5):
            assert (await attempt(attacker, ORGANISER, WRONG)).status_code == 400
        assert (await attempt(attacker, ORGANISER, PASSWORD)).status_code == 429  # that address from that IP
        for path in ["/signin/link"] * 3 + ["/password/forgot"] * 2:
            assert (await request_link(attacker, ORGANISER, path)).status_code == 200
        assert (await request_link(attacker, ORGANISER)).status_code == 429  # the same, for links

        # The owner, elsewhere: the right password, a link and a reset all work.

        assert (await attempt(owner, ORGANISER, PASSWORD)).status_code == 303
        assert (await request_link(owner, ORGANISER)).status_code == 200
        assert (await request_link(owner, ORGANISER, "/password/forgot")).status_code == 200


async def test_wrong_passwords_from_many_addresses_slow_the_address_down(shared: World) -> None:
    """From the tenth failure in 15 minutes, whatever the IPs, the address may be tried once a
    minute: a delay, not a lock."""
    await make_organiser(shared.db)
    for n in range(10):
        async with aclosing(await browser(shared, f"203.0.113.{n + 1}")) as attacker:
            assert (await attempt(attacker, ORGANISER, WRONG)).status_code == 400, n
    async with aclosing(await browser(shared, "198.51.100.20")) as owner:
        slowed = await attempt(owner, ORGANISER, PASSWORD)
        assert slowed.status_code == 429
        assert "Please wait 1 minute and try again." in slowed.text
        await age_hits(shared.db, "signin-fail-email:", timedelta(seconds=61))
        assert (await attempt(owner, ORGANISER, PASSWORD)).status_code == 303


async def test_link_requests_from_anywhere_reach_the_owner_at_a_bounded_rate(shared: World) -> None:
    """Requests from many IPs cannot stop the owner getting a sign-in link: five mails go out
    in 15 minutes, then one every 5 minutes, and every answer looks the same."""
    await make_organiser(shared.db)
    answers = []
    for n in range(8):
        async with aclosing(await browser(shared, f"203.0.113.{n + 1}")) as attacker:
            answers.append(await request_link(attacker, ORGANISER))
    assert [a.status_code for a in answers] == [200] * 8
    assert len({without_csrf(a.text) for a in answers}) == 1
    mails = outbox(shared.settings)
    assert len(mails) == 5
    async with aclosing(await browser(shared, "198.51.100.20")) as owner:
        assert (await request_link(owner, ORGANISER)).status_code == 200
        assert len(outbox(shared.settings)) == 5  # no new mail: the newest link still works
        newest = link_token(mails[-1], "/signin/link")
        used = await owner.post(
            f"/signin/link/{newest}", data={"_csrf_token": owner.headers["x-form-token"]}, follow_redirects=False
        )
        assert used.status_code == 303
        await age_hits(shared.db, "link-email:", timedelta(minutes=5))
        assert (await request_link(owner, ORGANISER)).status_code == 200
        assert len(outbox(shared.settings)) == 6
