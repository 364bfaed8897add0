"""Request dependencies: one database session per request, committed when the handler succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.db import Database


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    db: Database = state.db
    async with db.session() as session:
        yield session
