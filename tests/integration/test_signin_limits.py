"""Sign-in limits under real concurrency (issue 19): many requests at once, through the whole app,
on a database of its own (a file on SQLite, a fresh database on PostgreSQL; not the rolled-back
test transaction, whose one connection cannot serve requests side by side)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from award_jury.accounts import passwords
from award_jury.accounts.models import WebSession
from award_jury.db import Database
from award_jury.migrate import upgrade
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.accounts import EN, PASSWORD, csrf_token, make_organiser, use_cheap_argon2

ORGANISER = "olga@example.org"
WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_argon2(monkeypatch)


@dataclass
class World:
    db: Database
    settings: Settings
    app: Any


@pytest.fixture
async def world(make_database_url: Any, tmp_path: Path) -> AsyncIterator[World]:
    url = make_database_url("limits")
    db = Database.from_url(url)
    await upgrade(db)
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
