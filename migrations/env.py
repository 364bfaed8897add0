"""Alembic environment.

Runs on a connection handed over by award_jury.migrate (``config.attributes["connection"]``),
or, from the plain ``alembic`` command, on the URL in AWARD_JURY_DATABASE_URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from award_jury.models import metadata
from award_jury.settings import Settings

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url() -> None:
    from award_jury.db import create_engine, ensure_sqlite_dir

    url = Settings.from_env().database_url
    ensure_sqlite_dir(url)
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(run_migrations_on)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=Settings.from_env().database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
    else:
        asyncio.run(_run_from_url())
