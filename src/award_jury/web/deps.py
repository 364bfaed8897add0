"""Request dependencies: one database session per request, committed when the handler succeeds;
the settings, the file storage and the mailer. A handler (or template) reaches each of them only
through its dependency name (``settings``, ``storage``, ``mailer``), never through ``app.state``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.db import Database, write_transaction
from award_jury.entries.storage import Storage, storage_for
from award_jury.mail import Mailer
from award_jury.settings import Settings
from award_jury.web.bodies import LOCK_AFTER_CHECKS, SAFE_METHODS


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """The request's unit of work. An unsafe request (POST and friends: the ones that write) begins
    it as a write transaction, so no handler has to remember to, and reads followed by writes
    (sign-in, links, rate limits, saves) never meet SQLite's "database is locked". The body was
    read before (``web.bodies``), so the lock is never held while a client is still sending. A handler
    marked ``LOCK_AFTER_CHECKS`` checks its upload first and then begins the write transaction itself."""
    db: Database = state.db
    async with db.session() as session:
        if request.method not in SAFE_METHODS and not request.route_handler.opt.get(LOCK_AFTER_CHECKS):
            await write_transaction(session)
        yield session


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_storage(settings: Settings) -> Storage:
    """Where stored files live: a local folder or an S3 bucket, as the settings say (storage_for
    is the one factory; it keeps one S3 client per configuration and process)."""
    return storage_for(settings)


def provide_mailer(state: State) -> Mailer:
    """The app's settings with the mail templates (compiled once, kept in ``state.mail_env``)."""
    return Mailer(state.settings, state.mail_env)
