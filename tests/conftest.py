"""Test harness.

``--db sqlite`` (default) or ``--db postgresql`` picks the backend; the PostgreSQL server is
started here on 127.0.0.1 and stopped at the end. Every test that uses ``db`` runs inside one
outer transaction that is rolled back afterwards (sessions join it through SAVEPOINTs), so
tests are isolated and the schema is migrated only once per run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.db import Database
from award_jury.migrate import upgrade
from award_jury.settings import Settings
from tests.support.accounts import use_cheap_argon2
from tests.support.apps import app_client, shared_app
from tests.support.look import LOOK
from tests.support.pg import PostgresServer, PostgresUnavailable
from tests.support.s3 import S3Server, S3Unavailable

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("AWARD_JURY_TEST_DB", "sqlite"),
        help="database backend for the suite",
    )


#: With AWARD_JURY_SPLIT_BROWSER=1 (scripts/test.sh sets it for `make test`), these browser journeys
#: run in one pass only, with the look checks on there: what a browser does on them is the same on
#: either database, and every request they make is covered on both databases by tests/integration.
#: The journeys not listed (the whole journey, the juror's scoring journey) run in both passes.
BROWSER_PASS = {
    "test_apply_journey": "postgresql",
    "test_certificates": "postgresql",
    "test_accounts_journey": "postgresql",
    "test_api_tokens_journey": "postgresql",
    "test_setup_journey": "sqlite",
    "test_sheet_autosave": "sqlite",
    "test_sheet_errors": "sqlite",
    "test_start_page": "sqlite",
    "test_two_factor_journey": "sqlite",
}


def _browser_pass(item: pytest.Item) -> str | None:
    """The one pass a browser test runs in when the journeys are split, else None."""
    path = Path(str(item.fspath))
    if os.environ.get("AWARD_JURY_SPLIT_BROWSER") != "1" or path.parent.name != "e2e":
        return None
    return BROWSER_PASS.get(path.stem)


def pytest_configure(config: pytest.Config) -> None:
    # CSS does not depend on the database: the look checks run in one pass only. AWARD_JURY_TEST_LOOK=1
    # or 0 says whether this pass runs them (scripts/test.sh picks the pass); unset, the SQLite pass does.
    look = os.environ.get("AWARD_JURY_TEST_LOOK", "")
    LOOK.enabled = look == "1" or (look != "0" and config.getoption("--db") == "sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    db = config.getoption("--db")
    elsewhere = [item for item in items if _browser_pass(item) not in (None, db)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if _browser_pass(item) in (None, db)]


@pytest.fixture(autouse=True)
def _look_where_the_journey_runs(request: pytest.FixtureRequest) -> Iterator[None]:
    """A journey that runs in this pass only is also looked at here."""
    if _browser_pass(request.node) is None:
        yield
        return
    enabled, LOOK.enabled = LOOK.enabled, True
    try:
        yield
    finally:
        LOOK.enabled = enabled


def pytest_report_header(config: pytest.Config) -> str:
    return f"award_jury database backend: {config.getoption('--db')} (CI={IN_CI})"


def missing_component(what: str) -> None:
    """A component the suite needs is missing: a failure in CI, a loud skip on a laptop."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: missing components fail the run)", pytrace=False)
    pytest.skip(f"{what} (with CI=true this fails the run)")


@pytest.fixture(scope="session", autouse=True)
def cheap_argon2() -> Iterator[None]:
    """Cheap argon2id parameters for the whole run (see ``use_cheap_argon2``)."""
    with pytest.MonkeyPatch.context() as patch:
        use_cheap_argon2(patch)
        yield


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def pg_server(backend: str) -> Iterator[PostgresServer | None]:
    if backend != "postgresql":
        yield None
        return
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"--db postgresql was asked for, but: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 server (moto's server mode) on 127.0.0.1, started once per session on first use.
    Missing moto: a failure with CI=true, a loud skip elsewhere."""
    server = S3Server()
    try:
        server.start()
    except S3Unavailable as exc:
        missing_component(str(exc))
    yield server
    server.stop()


_db_counter = itertools.count(1)


def _in_a_thread(work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` to its end in an event loop of its own (callers may be inside the test's loop)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # handed to the caller
            failures.append(exc)

    thread = threading.Thread(target=run, name="template-database")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


@pytest.fixture(scope="session")
def make_database_url(backend: str, pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A factory of fresh databases of the chosen backend (for the CLI, the browser tests and the
    tests that need connections of their own): empty, or ``migrated=True`` at the head revision.

    A migrated one is a copy of a template migrated once per run (a file copy on SQLite,
    ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), not the migrations run again for every test."""
    template: list[str] = []

    def psql(sql: str) -> None:
        assert pg_server is not None
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(pg_server.port), "-U", "postgres", "-q", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )

    def empty(name: str) -> str:
        if pg_server is None:
            return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / f'{name}.db'}"
        psql(f"CREATE DATABASE {name}")
        return pg_server.url(name)

    def template_url() -> str:
        if not template:
            url = empty("migrated_template")

            async def migrate() -> None:
                db = Database.from_url(url)
                try:
                    await upgrade(db)
                finally:
                    await db.dispose()

            _in_a_thread(migrate)
            template.append(url)
        return template[0]

    def make(prefix: str = "t", *, migrated: bool = False) -> str:
        name = f"{prefix}{next(_db_counter)}"
        if not migrated:
            return empty(name)
        source = template_url()
        if pg_server is None:
            target = tmp_path_factory.mktemp("db") / f"{name}.db"
            shutil.copyfile(make_url(source).database or "", target)
            return f"sqlite+aiosqlite:///{target}"
        psql(f"CREATE DATABASE {name} TEMPLATE migrated_template")
        return pg_server.url(name)

    return make


@pytest.fixture(scope="session")
async def engine_db(make_database_url: Any) -> AsyncIterator[Database]:
    """The suite's database, migrated once with Alembic (so the migrations are exercised too)."""
    db = Database.from_url(make_database_url("suite"))
    await upgrade(db)
    yield db
    await db.dispose()


@pytest.fixture
async def db(engine_db: Database) -> AsyncIterator[Database]:
    """A Database whose sessions all join one outer transaction, rolled back after the test."""
    async with engine_db.engine.connect() as conn:
        outer = await conn.begin()
        yield Database.bound_to(conn)
        if outer.is_active:
            await outer.rollback()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, engine_db: Database) -> Settings:
    return Settings(
        database_url=engine_db.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        base_url="http://testserver.local",
    )


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the run's app (see ``tests.support.apps``), pointed at this test's database."""
    async with app_client(shared_app(settings, db)) as c:
        yield c


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(engine_db: Database) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    sa.event.listen(engine_db.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(engine_db.engine.sync_engine, "before_cursor_execute", counter)
