"""Database plumbing: metadata with a naming convention, column types, engine and sessions.

Importing :mod:`award_jury.models` registers every table on :data:`metadata` (Alembic reads it).
"""

from __future__ import annotations

import asyncio
import enum
import warnings
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite has no decimal type: Numeric(12, 4) values come back through float and are
# quantised to 4 places, which is exact for every score and weight we accept
# (bundle and form validation allow at most 4 decimal places).
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+\w+ does \*not\* support Decimal objects natively")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Weights and scores: exact decimals, never floats (DESIGN "Data").
Decimal4 = sa.Numeric(12, 4)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), Decimal: Decimal4}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def enum_column(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A string column holding an enum's *values*, guarded by a named CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout and foreign keys on; real BEGIN so SAVEPOINTs work."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A unit of work that reads before it writes asks for the write lock up front
        # (``write_transaction``): upgrading a read transaction in WAL mode fails at once with
        # "database is locked" when another writer committed in between, whatever the timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


#: Execution option: begin the transaction holding SQLite's write lock (ignored elsewhere).
IMMEDIATE = "award_jury_immediate"


_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


#: ``session.info`` key: the session's transaction is a write transaction (see below).
_WRITING = "award_jury_writing"


def in_write_transaction(session: AsyncSession) -> bool:
    return bool(session.info.get(_WRITING))


async def write_transaction(session: AsyncSession) -> None:
    """Begin the session's transaction as a write transaction (it will write after reading).

    Every unsafe request's session starts this way (``web.deps.provide_db_session``), and so does
    the touch of a web session (``web.auth.load_viewer``); handlers do not call it themselves. A
    second call in the same transaction does nothing.

    On SQLite the writers of this process queue on an asyncio lock (no timeout, no connection
    held while waiting) and the transaction starts with ``BEGIN IMMEDIATE``, so a burst of writes
    never meets "database is locked" (a read transaction that later writes fails at once when
    another writer committed in between, whatever the busy timeout); writers of other processes
    wait behind the busy timeout. The lock is released when the transaction ends (commit or
    rollback); a later transaction of the same session is an ordinary one.
    On PostgreSQL it changes nothing (row locks do that job)."""
    if in_write_transaction(session):
        return
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        locks = _write_locks.setdefault(asyncio.get_running_loop(), {})
        lock = locks.setdefault(id(bind.engine if isinstance(bind, sa.Connection) else bind), asyncio.Lock())
        await lock.acquire()
        released = False

        def release(_session: Any, transaction: Any) -> None:
            nonlocal released
            if transaction.parent is None and not released:
                released = True
                session.info.pop(_WRITING, None)
                lock.release()  # (the listener stays: the session is one request's, and removing
                # it while SQLAlchemy iterates its listeners is an error)

        event.listen(session.sync_session, "after_transaction_end", release)
        try:
            await session.connection(execution_options={IMMEDIATE: True})
        except BaseException:
            if not released:
                released = True
                lock.release()
                event.remove(session.sync_session, "after_transaction_end", release)
            raise
        if not released:
            session.info[_WRITING] = True
        return
    await session.connection(execution_options={IMMEDIATE: True})


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    pool_timeout: float | None = None,
) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 10}
    elif pool_size is not None:
        kwargs["pool_size"] = pool_size
    if max_overflow is not None:
        kwargs["max_overflow"] = max_overflow
    if pool_timeout is not None:
        kwargs["pool_timeout"] = pool_timeout
    if url.startswith("postgresql"):
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite URL (``var/`` by default)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


@dataclass
class Database:
    """An engine and the session factory that every request and command uses."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        ensure_sqlite_dir(url)
        engine = create_engine(url, **kwargs)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Sessions joined to an outer transaction (tests roll it back afterwards)."""
        maker = async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
        return cls(connection.engine, maker)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit when the block ends normally, roll back on an error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        async with self.sessionmaker() as session:
            return bool((await session.execute(sa.text("SELECT 1"))).scalar_one() == 1)

    async def dispose(self) -> None:
        await self.engine.dispose()
