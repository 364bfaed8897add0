"""Live streams are a bounded resource: a few per web session and per person (429 with
Retry-After beyond), no database connection held for a stream's life, and a stream ends soon
after its web session does (sign-out), not minutes later.

httpx's ASGI transport hands back a streamed response only when it has ended, so each stream runs
as a task; the app's own count of open streams tells when they are all open. Concurrent streams
need a database of their own (the usual test database joins every session to one connection)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import end_all_sessions
from award_jury.db import Database
from award_jury.enums import Role
from award_jury.judging.live_controllers import StreamRegistry
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.accounts import page_token, post_form, sign_in_as
from tests.support.apps import app_client
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle

STATE = "/awards/live-award/rounds/pre-selection/live/state"
SSE = {"accept": "text/event-stream"}
#: Only a guard against a hanging test; nothing asserts how long anything takes.
GUARD = 60


async def make_world(db: Database) -> tuple[ScoringWorld, int]:
    async with db.session() as s:
        world = await build_world(s, scoring_bundle("live-award", entries=3, jurors=2))
        organiser = await get_or_create_person(s, "chair@example.org", "Chair", "en")
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
        return world, organiser.id


def live_settings(settings: Settings, **caps: Any) -> Settings:
    return dataclasses.replace(settings, live_poll_seconds=0.02, live_stream_seconds=GUARD * 10, **caps)


def registry(app: Litestar) -> StreamRegistry:
    streams: StreamRegistry = app.state.live_streams
    return streams


async def until(condition: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


def open_stream(client: httpx.AsyncClient) -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(client.get(STATE, headers=SSE))


async def finish(tasks: list[asyncio.Task[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.wait_for(asyncio.gather(*tasks), GUARD))


@pytest.fixture
async def fresh_db(make_database_url: Any) -> AsyncIterator[tuple[str, Database]]:
    """A new, migrated database whose data is committed, on a pool of one connection (SQLite:
    its usual pool without overflow)."""
    url = make_database_url("live", migrated=True)
    db = Database.from_url(url, pool_size=1, max_overflow=0, pool_timeout=GUARD / 2)
    try:
        yield url, db
    finally:
        await db.dispose()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[Litestar], Any]]:
    opened: list[Any] = []

    async def make(app: Litestar) -> httpx.AsyncClient:
        manager = app_client(app)
        opened.append(manager)
        return await manager.__aenter__()

    yield make
    for manager in reversed(opened):
        await manager.__aexit__(None, None, None)


async def test_streams_are_capped_per_session_and_per_person_and_end_at_sign_out(
    fresh_db: tuple[str, Database], settings: Settings, clients: Any
) -> None:
    url, db = fresh_db
    world, _organiser = await make_world(db)
    juror = world.jurors[0]
    settings = live_settings(
        dataclasses.replace(settings, database_url=url), live_streams_per_session=2, live_streams_per_person=3
    )
    app = create_app(settings, database=db)
    phone, laptop = await clients(app), await clients(app)
    await sign_in_as(phone, db, settings, juror)
    await sign_in_as(laptop, db, settings, juror)

    streams = [open_stream(phone), open_stream(phone)]
    await until(lambda: registry(app).for_person(juror) == 2)
    refused = await asyncio.wait_for(phone.get(STATE, headers=SSE), GUARD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert (await phone.get(STATE)).json()["entry"] is None  # the JSON answer (polling) is not capped

    streams.append(open_stream(laptop))
    await until(lambda: registry(app).for_person(juror) == 3)
    refused = await asyncio.wait_for(
        laptop.get(STATE, headers=SSE), GUARD
    )  # the laptop's session has one, the person three
    assert refused.status_code == 429

    # Signing out on the phone ends the phone's streams within a tick or two; the laptop's goes on.
    await post_form(phone, "/signout", token=await page_token(phone, "/"))
    phone_streams = await finish(streams[:2])
    assert all(r.status_code == 200 and "event: stage" in r.text for r in phone_streams)
    # ... with a last event that tells the page so (live.js then stops and offers to sign in again)
    signed_out = (
        'event: signed_out\r\ndata: {"signin": "/signin?next=%2Fawards%2Flive-award%2Frounds%2Fpre-selection%2Flive"}'
    )
    assert all(r.text.rstrip().endswith(signed_out) for r in phone_streams), phone_streams[0].text[-300:]
    assert registry(app).for_person(juror) == 1 and not streams[2].done()

    # The slots are free again; signing out everywhere ends the rest.
    streams.append(open_stream(laptop))
    await until(lambda: registry(app).for_person(juror) == 2)
    async with db.session() as s:
        await end_all_sessions(s, juror)
    await finish(streams[2:])
    assert registry(app).for_person(juror) == 0


async def test_more_streams_than_database_connections_leave_the_app_answering(
    fresh_db: tuple[str, Database], settings: Settings, clients: Any
) -> None:
    url, small = fresh_db
    world, organiser = await make_world(small)
    settings = live_settings(
        dataclasses.replace(settings, database_url=url), live_streams_per_session=20, live_streams_per_person=20
    )
    app = create_app(settings, database=small)
    juror, chair = await clients(app), await clients(app)
    await sign_in_as(juror, small, settings, world.jurors[0])
    await sign_in_as(chair, small, settings, organiser)
    streams = [open_stream(juror) for _ in range(6)]
    await until(lambda: registry(app).for_person(world.jurors[0]) == 6)
    # Six streams on a pool of one connection (SQLite: five): every other request still gets its turn.
    assert (await chair.get("/healthz")).status_code == 200
    page = await chair.get("/awards/live-award/rounds/pre-selection/live/control", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert (await juror.get(STATE)).status_code == 200
    async with small.session() as s:
        await end_all_sessions(s, world.jurors[0])
    assert all(r.status_code == 200 for r in await finish(streams))
