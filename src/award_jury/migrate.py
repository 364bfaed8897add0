"""Applying and checking the Alembic migrations in the top-level ``migrations/`` folder."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from award_jury.db import Database
from award_jury.models import metadata
from award_jury.settings import MIGRATIONS_DIR


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to ``revision`` (all migrations by default)."""

    def _run(sync_conn: Connection) -> None:
        command.upgrade(alembic_config(sync_conn), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def _diff(sync_conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata))


async def pending_model_changes(db: Database) -> list[Any]:
    """What autogenerate would still write: empty when models and migrations agree."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_diff)
