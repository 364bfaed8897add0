"""The app under test, built once, and an HTTP client that calls it in the test's event loop.

Building a Litestar app (routes, template environment, dependency graph) costs 0.2 s on an idle
machine and over a second on a busy one; most tests need the same one. :func:`shared_app` builds
one per shape of settings (what ``create_app`` bakes in) and points it, for each test, at that
test's database and settings: the app reads both from ``app.state`` on every request.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from litestar.stores.registry import StoreRegistry

from award_jury.db import Database
from award_jury.judging.live_controllers import StreamRegistry
from award_jury.settings import Settings
from award_jury.web.app import create_app

#: What a test's app gets afresh: its database, its settings, its own registry of live streams
#: (and Litestar's stores, where cached responses such as the logo are kept).
#: ``jinja_env`` depends only on the templates folder (part of the shape). Anything else that
#: ``create_app`` puts into ``app.state`` must be added here and refreshed per test; until then
#: :func:`shared_app` warns and builds an app for every test (so no test sees another test's state).
PER_TEST_STATE = frozenset({"db", "settings", "live_streams"})
SHARED_STATE = frozenset({"jinja_env", "mail_env"})

_APPS: dict[tuple[Any, ...], Litestar] = {}


def app_shape(settings: Settings) -> tuple[Any, ...]:
    """The settings ``create_app`` reads once, when it builds the app (not on each request)."""
    return (
        settings.templates_dir,
        settings.static_dir,
        settings.secret_key,
        settings.secure_cookies,
        settings.allowed_hosts,
        settings.max_upload_bytes,
    )


def shared_app(settings: Settings, db: Database) -> Litestar:
    """The run's app for settings of this shape, now serving ``db`` and ``settings``."""
    key = app_shape(settings)
    app = _APPS.get(key)
    if app is None:
        app = create_app(settings, database=db)
        unknown = set(app.state.dict()) - PER_TEST_STATE - SHARED_STATE
        if unknown:  # correct but slow: an app per test, until this module refreshes what is new
            warnings.warn(
                f"create_app keeps {sorted(unknown)} in app.state: {__name__} builds an app for every test "
                "until it refreshes them per test (PER_TEST_STATE)",
                stacklevel=2,
            )
            return app
        _APPS[key] = app
    app.state.db = db
    app.state.settings = settings
    app.state.live_streams = StreamRegistry()
    app.stores = StoreRegistry()  # Litestar's stores: the response cache (``cache=`` routes) among them
    return app


@asynccontextmanager
async def app_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in this event loop.

    (Litestar's AsyncTestClient runs the app in a portal thread with its own loop; an asyncpg
    connection shared with the test cannot be used from there.) The app's lifespan is not run:
    with a ``database`` handed in it has nothing to start or stop, and anyio's task group cannot
    span pytest's separate setup and teardown tasks."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c
