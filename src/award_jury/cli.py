"""The ``award-jury`` command (SPEC §1).

Exit codes: 0 success; 1 a user error, told in one line on stderr (bundle problems follow it,
one per line); 2 a usage error (click's own).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from award_jury.enums import Role
from award_jury.errors import DomainError, ValidationError
from award_jury.settings import Settings, SettingsError

T = TypeVar("T")


def fail(message: str, details: list[str] | None = None) -> NoReturn:
    click.echo(f"award-jury: error: {message}", err=True)
    for line in details or []:
        click.echo(f"  - {line}", err=True)
    sys.exit(1)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))


def run_with_db(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(db)`` on a fresh Database for ``settings`` and dispose of it afterwards."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from award_jury.db import Database

    async def _main() -> T:
        db = Database.from_url(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(_main())
    except ValidationError as exc:
        if len(exc.problems) == 1:
            fail(exc.problems[0])
        fail(str(exc), exc.problems)
    except DomainError as exc:
        fail(str(exc))
    except (OperationalError, OSError) as exc:
        fail(f"cannot use the database {settings.database_url.split('@')[-1]}: {str(exc).splitlines()[0]}")
    except SQLAlchemyError as exc:  # anything else the database refused: one line, no traceback
        fail(f"the database refused the change: {str(exc).splitlines()[0]}")


async def _migrate(db: Any) -> None:
    from award_jury.migrate import upgrade

    await upgrade(db)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """award_jury: run startup awards end to end."""


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations in migrations/."""
    settings = load_settings()
    run_with_db(settings, _migrate)
    click.echo("database is up to date")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What uvicorn needs from the settings. X-Forwarded-For and -Proto are believed only from
    AWARD_JURY_TRUSTED_PROXIES (uvicorn's own default trusts loopback, FORWARDED_ALLOW_IPS
    included, which would let anyone on the host, or any proxy forwarding the client's header
    unchanged, pick the client address the rate limits and the audit log see)."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    if workers > 1:
        # Each worker builds its own app from the same environment (same secret key file).
        uvicorn.run(
            "award_jury.web.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **uvicorn_options(settings),
        )
    else:
        from award_jury.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, **uvicorn_options(settings))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Run the web app (migrates the database first)."""
    settings = load_settings()
    if workers > 1 and settings.is_sqlite:
        click.echo("award-jury: note: several workers on SQLite work, but PostgreSQL scales better", err=True)
    run_with_db(settings, _migrate)
    _serve(settings, host, port, workers)


@cli.command()
@click.option("--once", is_flag=True, help="Do what is due now, then stop (for cron or a test).")
def worker(once: bool) -> None:
    """Run background jobs (webhook deliveries) until stopped with Ctrl-C or SIGTERM. Any number of
    workers may run beside `serve` (which runs the same jobs): a delivery is sent by one of them."""
    import signal

    from award_jury.background import Runner, default_jobs

    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        runner = Runner(default_jobs(settings, database))
        if once:
            done = 0
            while (step := await runner.run_round()) > 0:
                done += step
            return f"done: {done} job step(s)"
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        runner.start()
        click.echo("award-jury worker: running background jobs (Ctrl-C stops)", err=True)
        await stopped.wait()
        await runner.stop()
        return "stopped"

    click.echo(run_with_db(settings, work))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Build a fresh demo database with a seeded award, print the logins and serve it.

    The demo lives in its own SQLite file, <data dir>/demo/award_jury.db, so it never touches
    the database named by AWARD_JURY_DATABASE_URL.
    """
    from award_jury.demo.seed import build_demo

    settings = load_settings()
    demo_dir = settings.data_dir / "demo"
    # the demo keeps everything in its folder, its files too (never in the operator's bucket)
    settings = replace(
        settings,
        database_url=f"sqlite+aiosqlite:///{demo_dir / 'award_jury.db'}",
        data_dir=demo_dir,
        storage_url=None,
    )
    for suffix in ("", "-wal", "-shm"):
        (demo_dir / f"award_jury.db{suffix}").unlink(missing_ok=True)
    logins = run_with_db(settings, lambda database: build_demo(database, settings))
    url = f"http://{host}:{port}"
    click.echo(f"\naward_jury demo: {url}\n")
    click.echo("Demo logins (e-mail / password):")
    for role, email, password in logins:
        click.echo(f"  {role:<10} {email:<34} {password}")
    from award_jury.demo import OPEN_CALL_SLUG

    click.echo(f"\nApply as a new startup (the call is open): {url}/awards/{OPEN_CALL_SLUG}/call")
    click.echo("Sign-in links go to the outbox: " + str(settings.outbox_dir))
    click.echo("\nStop with Ctrl+C.\n")
    _serve(settings, host, port)


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create_user(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an account (e.g. the first organiser)."""
    from award_jury.accounts.services import create_user as create

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        async with database.session() as session:
            person = await create(session, email=email, name=name, role=Role(role), password=password)
            return str(person.email)

    created = run_with_db(settings, work)
    click.echo(f"created {role} {created}")


@cli.command("two-factor-off")
@click.option("--email", required=True)
def two_factor_off(email: str) -> None:
    """Turn off someone's two-factor sign-in (they lost their app and their recovery codes)."""
    from award_jury.accounts.services import find_person
    from award_jury.accounts.twofactor import disable, two_factor_of
    from award_jury.mail import render_mail, send_mail
    from award_jury.urls import absolute_url
    from award_jury.web.app import install_urls
    from award_jury.web.templating import create_environment

    settings = load_settings()

    async def work(database: Any) -> tuple[str, str, str]:
        await _migrate(database)
        async with database.session() as session:
            person = await find_person(session, email)
            if person is None:
                raise DomainError(f"there is no account with the address {email!r}")
            if await two_factor_of(session, person.id) is None:
                raise DomainError(f"{person.email} has no two-factor sign-in turned on")
            await disable(session, person, ip=None, by_operator=True)
            install_urls(settings, database)  # the mail's link comes from the route table
            return person.email, person.locale, person.name

    address, locale, name = run_with_db(settings, work)
    mail = render_mail(
        create_environment(settings.templates_dir),
        "two_factor_changed",
        to=address,
        locale=locale,
        context={
            "base_url": settings.base_url,
            "name": name,
            "change": "off",
            "link": absolute_url(settings.base_url, "account.two_factor"),
        },
    )
    try:
        asyncio.run(send_mail(mail, settings))
    except Exception as exc:  # the change is made; say that the mail is missing, in one line
        click.echo(f"two-factor sign-in turned off for {address}; the e-mail could not be sent ({exc})")
        return
    click.echo(f"two-factor sign-in turned off for {address}; they were sent an e-mail")


@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace an existing award with the same slug.")
def import_(path: Path, replace: bool) -> None:
    """Import an award bundle (.json, or .zip with bundle.json + files/); prints the award's slug."""
    from award_jury.bundle.files import BundleLimits, open_bundle
    from award_jury.bundle.services import import_bundle
    from award_jury.entries.storage import storage_for

    settings = load_settings()

    async def work(database: Any) -> str:
        # Capped and streamed (bundle/files.py): a hostile zip or JSON is refused in one line.
        with open_bundle(path, BundleLimits.from_settings(settings), settings.data_dir / "tmp") as (doc, files):
            await _migrate(database)
            async with database.session() as session:
                award = await import_bundle(session, doc, storage=storage_for(settings), files=files, replace=replace)
                return str(award.slug)

    click.echo(run_with_db(settings, work))


@cli.command("export")
@click.argument("slug")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help=".json, or .zip with the files")
def export(slug: str, out: Path | None) -> None:
    """Write the award bundle (JSON to stdout without --out)."""
    from award_jury.bundle.files import dumps, write_bundle
    from award_jury.bundle.services import export_bundle
    from award_jury.entries.storage import storage_for

    settings = load_settings()

    async def work(database: Any) -> tuple[dict[str, Any], int]:
        await _migrate(database)
        async with database.session() as session:
            doc = await export_bundle(session, slug)
        if out is None:
            return doc, 0
        try:
            return doc, await write_bundle(doc, out, storage_for(settings))
        except OSError as exc:
            raise DomainError(f"cannot write {out}: {exc.strerror or exc}") from None

    doc, files = run_with_db(settings, work)
    if out is None:
        sys.stdout.write(dumps(doc))
    else:
        click.echo(f"wrote {out} ({len(doc['entries'])} entries, {len(doc['sheets'])} sheets, {files} files)")


async def _award_and_round(session: Any, slug: str, round_slug: str | None) -> tuple[Any, Any]:
    """The award and its round (``--round``, by default the last one), or a one-line DomainError."""
    from award_jury.awards.services import get_award
    from award_jury.errors import NotFoundError

    try:
        award = await get_award(session, slug)
    except NotFoundError:
        raise DomainError(f"there is no award with the slug {slug!r}") from None
    if not award.rounds:
        raise DomainError(f"the award {slug!r} has no rounds")
    rnd = award.rounds[-1] if round_slug is None else next((r for r in award.rounds if r.slug == round_slug), None)
    if rnd is None:
        raise DomainError(f"the award {slug!r} has no round {round_slug!r}")
    return award, rnd


@cli.command()
@click.argument("slug")
@click.option("--round", "round_slug", help="The round (default: the award's last round).")
@click.option("--category", help="Only this category (ranked together with the others).")
@click.option(
    "--method", type=click.Choice(["mean", "median", "trimmed", "zscore"]), help="Default: the round's method."
)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file instead of stdout.")
def results(
    slug: str, round_slug: str | None, category: str | None, method: str | None, fmt: str, out: Path | None
) -> None:
    """The ranking of a round (SPEC §3) as JSON, CSV or XLSX."""
    from award_jury.ranking import exports
    from award_jury.ranking.services import results_for

    if fmt == "xlsx" and out is None:
        fail("--format xlsx needs --out PATH")
    settings = load_settings()

    async def work(database: Any) -> dict[str, Any]:
        await _migrate(database)
        async with database.session() as session:
            award, rnd = await _award_and_round(session, slug, round_slug)
            if category is not None and category not in {c.slug for c in award.categories}:
                raise DomainError(f"the award {slug!r} has no category {category!r}")
            doc = await results_for(session, award, rnd, method)
            if category is not None:
                doc["categories"] = [c for c in doc["categories"] if c["category"] == category]
            return doc

    doc = run_with_db(settings, work)
    if fmt == "xlsx":
        assert out is not None
        exports.write_xlsx(doc, out)
        return
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n" if fmt == "json" else exports.to_csv(doc)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


_OVERRIDE_HELP = "Go ahead despite the warnings (scoring still open, missing sheets); the reason is audited."


@cli.command()
@click.argument("slug")
@click.option("--round", "round_slug", help="The round (default: the award's last round).")
@click.option("--override-reason", default="", help=_OVERRIDE_HELP)
def finalise(slug: str, round_slug: str | None, override_reason: str) -> None:
    """Freeze a round's results; refused, naming the entries, while a tie needs a decision, and while the
    round's call is open; while scoring is open or sheets are missing only with --override-reason."""
    from award_jury.ranking.services import finalise_round

    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        async with database.session() as session:
            award, rnd = await _award_and_round(session, slug, round_slug)
            with _english(), _override_hint():
                snapshot = await finalise_round(
                    session, award, rnd, None, actor_label="cli", override_reason=override_reason
                )
            return f"finalised {award.slug} / {rnd.slug} (sha256 {snapshot.sha256})"

    click.echo(run_with_db(settings, work))


@cli.command()
@click.argument("slug")
@click.option("--round", "round_slug", help="The round (default: the award's last round).")
@click.option("--override-reason", default="", help=_OVERRIDE_HELP)
def publish(slug: str, round_slug: str | None, override_reason: str) -> None:
    """Publish a finalised round's results (status pages, winners page); refused before finalisation."""
    from award_jury.ranking.services import publish_round

    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        async with database.session() as session:
            award, rnd = await _award_and_round(session, slug, round_slug)
            with _english(), _override_hint():
                await publish_round(session, award, rnd, None, actor_label="cli", override_reason=override_reason)
            return f"published {award.slug} / {rnd.slug}"

    click.echo(run_with_db(settings, work))


@contextmanager
def _override_hint() -> Iterator[None]:
    """A refusal that an override reason would lift says how to give one."""
    from award_jury.consequences import ConfirmationError

    try:
        yield
    except ConfirmationError as exc:
        if exc.kind == "override":
            raise ConfirmationError(exc.kind, f"{exc}; to go ahead anyway, give --override-reason TEXT") from None
        raise


@contextmanager
def _english() -> Iterator[None]:
    """Messages of the domain rules in English on the command line (its other messages are English)."""
    from award_jury.i18n import current_locale

    token = current_locale.set("en")
    try:
        yield
    finally:
        current_locale.reset(token)


@cli.command()
@click.argument("slug")
@click.option("--round", "round_slug", help="The round (default: the award's last round).")
@click.option(
    "--kind", type=click.Choice(["winner", "finalist", "participant", "all"]), default="all", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="The PDF: one certificate a page.")
@click.option("--split", type=click.Path(path_type=Path, file_okay=False), help="One PDF per certificate, here.")
def certificates(slug: str, round_slug: str | None, kind: str, out: Path | None, split: Path | None) -> None:
    """Issue the certificates of a finalised round (SPEC §4) and write them as PDF/A."""
    from award_jury.certificates.jobs import shutdown_pool

    if (out is None) == (split is None):  # a usage error: exit code 2 (SPEC §1)
        raise click.UsageError("give --out PATH for one PDF, or --split DIR for one PDF per certificate")
    settings = load_settings()
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="certificates", file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        message = run_with_db(
            settings, lambda database: _certificates(database, settings, slug, round_slug, kind, out, split, progress)
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        shutdown_pool()
    click.echo(message)


async def _certificates(
    database: Any,
    settings: Settings,
    slug: str,
    round_slug: str | None,
    kind: str,
    out: Path | None,
    split: Path | None,
    progress: Callable[[int, int], None],
) -> str:
    from award_jury.certificates import jobs
    from award_jury.web.app import install_urls

    await _migrate(database)
    install_urls(settings, database)  # the certificates' verification links come from the route table
    async with database.session() as session:
        award, rnd = await _award_and_round(session, slug, round_slug)
        await _writable(split if split is not None else out.parent if out is not None else Path("."))
        if split is not None:
            return await jobs.write_split(session, settings, award, rnd, kind, split, progress)
        job, needs_run = await jobs.start_job(session, settings, award, rnd, kind, None, actor_label="cli")
        if not needs_run and job.status == "running":
            raise DomainError(f"these certificates are being written right now (job {job.id}); try again later")
        job_id, total = job.id, job.total
    assert out is not None
    if needs_run:
        file_name = await jobs.run_job(database, settings, job_id, progress)
    else:
        progress(total, total)
        file_name = job.file_name
    try:
        await jobs.copy_output(settings, file_name, out)
    except OSError as exc:
        raise DomainError(f"cannot write {out}: {exc.strerror or exc}") from None
    return f"wrote {out} ({total} certificates)"


async def _writable(folder: Path) -> None:
    """The folder for the output exists (made if need be), or a one-line error naming it (not the database)."""
    try:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    except OSError as exc:
        raise DomainError(f"cannot write to {folder}: {exc.strerror or exc}") from None


async def _pg_state(db: Any) -> tuple[str | None, bool]:
    """The Alembic revision and whether an award or a person exists (PostgreSQL backups)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    async with db.session() as session:
        try:
            revision = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            has_data = bool(
                (
                    await session.execute(text("SELECT EXISTS (SELECT 1 FROM person) OR EXISTS (SELECT 1 FROM award)"))
                ).scalar()
            )
        except DBAPIError:
            return None, False  # an empty database: no tables yet
    return revision, has_data


@cli.command("run-scheduled")
def run_scheduled_command() -> None:
    """Apply the retention rules once (for cron; idempotent, safe while serve or another run
    does the same) and print one line saying what was removed."""
    from award_jury.retention import run_scheduled

    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        return (await run_scheduled(database, settings)).summary()

    click.echo(run_with_db(settings, work))


@cli.group("api-token")
def api_token() -> None:
    """Personal API tokens (SPEC §5)."""


@api_token.command("create")
@click.option("--email", required=True, help="The person the token acts as (an existing account).")
@click.option("--label", default="", help="What the token is for (shown on the account page).")
@click.option("--expires-days", type=click.IntRange(1, 3650), help="Days until it expires (default: never).")
def api_token_create(email: str, label: str, expires_days: int | None) -> None:
    """Create a personal API token and print it once (only its hash is stored)."""
    from award_jury.accounts.tokens import MAX_LABEL, TokenRequest, create_token_for_email
    from award_jury.db import utcnow

    if len(label.strip()) > MAX_LABEL:
        fail(f"the label must be at most {MAX_LABEL} characters long")
    settings = load_settings()

    async def work(database: Any) -> str:
        await _migrate(database)
        async with database.session() as session:
            with _english():
                _row, token = await create_token_for_email(
                    session, email, TokenRequest(label.strip(), expires_days), utcnow()
                )
            return token

    click.echo(run_with_db(settings, work))


@cli.command("backup")
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
def backup_command(dest: Path) -> None:
    """A consistent backup of the database and the files, in a new folder under DEST.

    With AWARD_JURY_STORAGE_URL=s3://… every object of the bucket's prefix is copied into the
    backup too (a note on stderr says how many), so the folder is complete on its own."""
    from award_jury.backup import MANIFEST, BackupError, backup

    settings = load_settings()
    revision = None if settings.is_sqlite else run_with_db(settings, _pg_state)[0]
    try:
        folder = backup(settings, dest, revision_of_pg=revision)
    except BackupError as exc:
        fail(str(exc))
    written = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if written.get("storage"):
        objects = sum(1 for name in written["files"] if name.startswith("files/uploads/"))
        click.echo(f"copied {objects} stored files from {written['storage']} into the backup", err=True)
    click.echo(str(folder))


@cli.command("restore")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that holds data already.")
def restore_command(folder: Path, force: bool) -> None:
    """Restore a backup made by `award-jury backup` (stop the app first), then migrate."""
    from award_jury.backup import BackupError, restore

    settings = load_settings()
    has_data = False if settings.is_sqlite else run_with_db(settings, _pg_state)[1]
    try:
        manifest = restore(settings, folder, force=force, has_data=has_data)
    except BackupError as exc:
        fail(str(exc))
    run_with_db(settings, _migrate)
    click.echo(f"restored the backup of {manifest.created_at} ({len(manifest.files)} files)")
    if settings.storage_url:
        click.echo(f"the stored files went into {settings.storage_url}", err=True)


def main() -> None:
    cli(prog_name="award-jury")
