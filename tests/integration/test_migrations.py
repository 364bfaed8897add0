"""Models and migrations agree: after ``upgrade head`` autogenerate finds nothing to do."""

from __future__ import annotations

import sqlalchemy as sa

from award_jury.db import Database
from award_jury.migrate import pending_model_changes, upgrade


async def test_models_and_migrations_agree_after_upgrade(engine_db: Database) -> None:
    assert await pending_model_changes(engine_db) == []


async def test_upgrade_twice_is_a_no_op(engine_db: Database) -> None:
    await upgrade(engine_db)
    async with engine_db.engine.connect() as conn:
        versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert len(versions) == 1


async def test_named_unique_constraints_exist(engine_db: Database) -> None:
    def names(sync_conn: sa.Connection) -> set[str]:
        inspector = sa.inspect(sync_conn)
        return {uc["name"] for table in inspector.get_table_names() for uc in inspector.get_unique_constraints(table)}

    async with engine_db.engine.connect() as conn:
        found = await conn.run_sync(names)
    assert {
        "uq_award_slug",
        "uq_entry_award_id_ref",
        "uq_score_sheet_juror_id_entry_id_round_id",
        "uq_score_sheet_id_criterion_id",
        "uq_certificate_code",
    } <= found


async def test_sqlite_runs_in_wal_with_foreign_keys(engine_db: Database, backend: str) -> None:
    if backend != "sqlite":
        assert engine_db.engine.dialect.name == "postgresql"
        return
    async with engine_db.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
        timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
    assert (mode, fks, timeout) == ("wal", 1, 10000)
