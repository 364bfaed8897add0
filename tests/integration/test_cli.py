"""The ``award-jury`` command (SPEC §1), run in-process through click's CliRunner.

Every test gets its own empty database (SQLite or PostgreSQL, after ``--db``) and data dir,
passed through the environment exactly as an operator would. One smoke test runs the installed
console script as a real subprocess (the entry point and ``main()``'s program name).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person, TwoFactor
from award_jury.audit.models import AuditEvent
from award_jury.db import Database
from award_jury.settings import Settings
from tests.support.accounts import outbox
from tests.support.cli import Cli, canonical, write_json
from tests.support.factories import small_bundle
from tests.support.two_factor import turn_on

SCRIPT = Path(sys.executable).with_name("award-jury")
PASSWORD = "correct-horse-battery"


@pytest.fixture
def cli(make_database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    # The operator's own AWARD_JURY_* variables must not leak in: unset them for the run.
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWARD_JURY_")}
    # A migrated database (each command migrates first, a no-op then); test_db_upgrade_twice_… starts empty.
    url = make_database_url("cli", migrated=True)
    env |= {"AWARD_JURY_DATABASE_URL": url, "AWARD_JURY_DATA_DIR": str(tmp_path / "var")}
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return Cli(env)


# ---------------------------------------------------------------- the installed console script


def test_console_script_upgrades_then_reports_a_bad_setting_in_one_line(make_database_url: Any, tmp_path: Path) -> None:
    if not SCRIPT.exists():
        pytest.fail(f"the console script {SCRIPT} is not installed (uv sync)", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARD_JURY_")}
    env |= {
        "AWARD_JURY_DATABASE_URL": make_database_url("script"),
        "AWARD_JURY_DATA_DIR": str(tmp_path / "var"),
        "PYTHONIOENCODING": "utf-8",
    }

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**env, **extra},
            cwd=tmp_path,
            timeout=60,
        )

    upgraded = run("db", "upgrade")
    refused = run("db", "upgrade", AWARD_JURY_BASE_URL="ftp://x")
    usage = run("create-user", "--email", "c@example.org", "--name", "Cem", "--role", "admin")

    assert (upgraded.returncode, upgraded.stdout, upgraded.stderr) == (0, "database is up to date\n", "")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("award-jury: error: AWARD_JURY_BASE_URL")
    assert len(refused.stderr.splitlines()) == 1, refused.stderr
    assert usage.returncode == 2
    assert "Usage: award-jury create-user" in usage.stderr
    assert "Traceback" not in upgraded.stderr + refused.stderr + usage.stderr


# ---------------------------------------------------------------- db upgrade


def test_db_upgrade_twice_succeeds_both_times(cli: Cli, make_database_url: Any) -> None:
    cli.env["AWARD_JURY_DATABASE_URL"] = make_database_url("cliempty")  # empty: the first upgrade migrates
    first = cli("db", "upgrade")
    second = cli("db", "upgrade")
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert first.out == second.out == "database is up to date\n"
    assert first.err == second.err == ""


# ---------------------------------------------------------------- create-user


def test_create_user_existing_email_exits_one_with_one_line(cli: Cli) -> None:
    args = ("create-user", "--email", "a@example.org", "--name", "Ada", "--role", "organiser", "--password-stdin")
    first = cli(*args, stdin=PASSWORD + "\n")
    assert first.code == 0, first.err
    assert first.out == "created organiser a@example.org\n"

    second = cli(*args, stdin=PASSWORD + "\n")
    assert second.code == 1
    assert second.out == ""
    assert len(second.err_lines) == 1, second.err
    assert second.err_lines[0].startswith("award-jury: error:")
    assert "exists already" in second.err_lines[0]
    assert "a@example.org" in second.err_lines[0]


def test_create_user_short_password_exits_one_with_one_line(cli: Cli) -> None:
    result = cli(
        "create-user",
        "--email",
        "b@example.org",
        "--name",
        "Bea",
        "--role",
        "juror",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.code == 1
    assert result.out == ""
    # SPEC §1: "a one-line message on stderr".
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("award-jury: error:")
    assert "password" in result.err_lines[0]


def test_create_user_unknown_role_is_a_usage_error(cli: Cli) -> None:
    result = cli("create-user", "--email", "c@example.org", "--name", "Cem", "--role", "admin", stdin="")
    assert result.code == 2
    assert result.out == ""
    assert "'admin' is not one of" in result.err


# ---------------------------------------------------------------- import / export


def test_import_json_prints_slug_and_export_gives_same_bundle(cli: Cli, tmp_path: Path) -> None:
    bundle = small_bundle(name="Mini-Preis für Städte")
    imported = cli("import", str(write_json(tmp_path / "bundle.json", bundle)))
    assert imported.code == 0, imported.err
    assert imported.out == "mini-award\n"

    exported = cli("export", "mini-award")
    assert exported.code == 0, exported.err
    assert canonical(json.loads(exported.out)) == canonical(bundle)


def test_import_existing_slug_exits_one_until_replace_from_exported_zip(cli: Cli, tmp_path: Path) -> None:
    bundle = small_bundle()
    path = write_json(tmp_path / "bundle.json", bundle)
    assert cli("import", str(path)).code == 0

    again = cli("import", str(path))
    assert again.code == 1
    assert again.out == ""
    assert len(again.err_lines) == 1, again.err
    assert again.err_lines[0].startswith("award-jury: error:")
    assert "'mini-award' exists already" in again.err
    assert "--replace" in again.err

    out = tmp_path / "x.zip"
    exported = cli("export", "mini-award", "--out", str(out))
    assert exported.code == 0, exported.err
    assert exported.out == f"wrote {out} (2 entries, 1 sheets, 0 files)\n"
    with zipfile.ZipFile(out) as zf:
        assert "bundle.json" in zf.namelist()
        assert canonical(json.loads(zf.read("bundle.json"))) == canonical(bundle)

    replaced = cli("import", "--replace", str(out))
    assert replaced.code == 0, replaced.err
    assert replaced.out == "mini-award\n"


def test_import_invalid_bundle_lists_problems_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    bundle = small_bundle(locale="fr")
    bundle["sheets"][0]["scores"]["impact"] = 11
    result = cli("import", str(write_json(tmp_path / "bad.json", bundle)))
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines == [
        "award-jury: error: the bundle has 2 problem(s)",
        '  - award.locale: "fr" is not one of de, en',
        "  - sheets[0].scores.impact: 11 is above the maximum 10",
    ]

    export = cli("export", "mini-award")
    assert export.code == 1
    assert export.out == ""
    assert export.err_lines == ["award-jury: error: there is no award with the slug 'mini-award'"]


def test_import_file_that_is_not_json_exits_one_with_one_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text("this is not JSON\n", encoding="utf-8")
    result = cli("import", str(path))
    assert result.code == 1
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(f"award-jury: error: {path} is not valid JSON")


def test_import_deeply_nested_json_exits_one_with_one_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)  # json.loads alone raises RecursionError
    result = cli("import", str(path))
    assert result.code == 1
    assert result.err_lines == [f"award-jury: error: {path} nests arrays and objects more than 64 levels deep"]


def test_import_zip_over_the_file_cap_exits_one_with_one_line_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    deck = os.urandom(1024 * 1024 + 1)
    sha = hashlib.sha256(deck).hexdigest()
    bundle = small_bundle()
    bundle["entries"][0]["attachments"] = [
        {"name": "deck.pdf", "sha256": sha, "size": len(deck), "media_type": "application/pdf"}
    ]
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bundle.json", json.dumps(bundle))
        zf.writestr(f"files/{sha}", deck)
    result = cli("import", str(path), AWARD_JURY_IMPORT_MAX_FILE_MB="1")
    assert result.code == 1
    assert result.err_lines == [f"award-jury: error: {path}: files/{sha} unpacks to {len(deck)} bytes, more than 1 MB"]
    assert cli("export", "mini-award").code == 1

    accepted = cli("import", str(path), AWARD_JURY_IMPORT_MAX_FILE_MB="2")
    assert accepted.code == 0, accepted.err
    assert not list((tmp_path / "var" / "tmp").iterdir())  # the scratch copy is gone


def test_import_zip_with_a_path_out_of_the_bundle_exits_one(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bundle.json", json.dumps(small_bundle()))
        zf.writestr("../../evil.sh", b"echo owned")
    result = cli("import", str(path))
    assert result.code == 1
    assert result.err_lines == [f"award-jury: error: {path}: the member '../../evil.sh' points outside the bundle (..)"]


def test_import_missing_path_exits_one(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    result = cli("import", str(path))
    assert result.code == 1
    assert result.err_lines == [f"award-jury: error: {path}: no such file"]


def test_export_unknown_slug_exits_one(cli: Cli) -> None:
    result = cli("export", "no-such-award")
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines == ["award-jury: error: there is no award with the slug 'no-such-award'"]


def test_run_scheduled_prints_one_line_and_a_second_run_removes_nothing(cli: Cli, tmp_path: Path) -> None:
    from datetime import timedelta

    from award_jury.audit.models import AuditEvent
    from award_jury.db import Database, utcnow

    assert cli("db", "upgrade").code == 0

    async def plant() -> None:
        db = Database.from_url(str(cli.env["AWARD_JURY_DATABASE_URL"]))
        async with db.session() as s:
            s.add(AuditEvent(action="signin.succeeded", at=utcnow() - timedelta(days=200), ip="192.0.2.7"))
            s.add(AuditEvent(action="signin.failed", object_id="x@example.org", at=utcnow() - timedelta(days=200)))
        await db.dispose()

    asyncio.run(plant())
    outbox = tmp_path / "var" / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "old.eml").write_bytes(b"Subject: x\r\n\r\n")
    os.utime(outbox / "old.eml", (0, 0))

    first = cli("run-scheduled")
    assert first.code == 0, first.err
    assert first.out == (
        "retention: blanked 1 audit IP addresses; deleted 0 expired sessions, 0 rate-limit records, "
        "1 sign-in records, 0 expired links, 0 unfinished two-factor sign-ins, 0 old webhook deliveries, "
        "1 outbox files\n"
    )
    again = cli("run-scheduled")
    assert again.out.startswith("retention: blanked 0 audit IP addresses; deleted 0 expired sessions, 0 rate")
    assert again.out.endswith(
        " 0 sign-in records, 0 expired links, 0 unfinished two-factor sign-ins, 0 old webhook deliveries, "
        "0 outbox files\n"
    )


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("args", [("db", "upgrade"), ("export", "mini-award")])
def test_non_http_base_url_exits_one_for_any_command(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args, AWARD_JURY_BASE_URL="ftp://x")
    assert result.code == 1
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("award-jury: error: AWARD_JURY_BASE_URL")
    assert "ftp://x" in result.err_lines[0]


# --- two-factor-off: the operator's way back in for someone who lost app and recovery codes ---


async def _turn_on(url: str, email: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.session() as s:
            person_id = (await s.execute(sa.select(Person.id).where(Person.email == email))).scalar_one()
        await turn_on(db, Settings(database_url=url, secret_key="cli-test-key-0123456789abcdef"), person_id)
    finally:
        await db.dispose()


async def _state(url: str) -> tuple[int, list[tuple[str | None, str]]]:
    db = Database.from_url(url)
    try:
        async with db.session() as s:
            rows = (await s.execute(sa.select(sa.func.count()).select_from(TwoFactor))).scalar_one()
            events = (
                await s.execute(
                    sa.select(AuditEvent.actor_id, AuditEvent.actor_label).where(
                        AuditEvent.action == "two_factor.disabled"
                    )
                )
            ).all()
        return int(rows), [(str(a) if a is not None else None, label) for a, label in events]
    finally:
        await db.dispose()


def test_two_factor_off_turns_it_off_audits_and_mails(cli: Cli, tmp_path: Path) -> None:
    made = cli(
        "create-user",
        "--email",
        "a@example.org",
        "--name",
        "Ada",
        "--role",
        "organiser",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert made.code == 0, made.err
    url = str(cli.env["AWARD_JURY_DATABASE_URL"])
    asyncio.run(_turn_on(url, "a@example.org"))

    done = cli("two-factor-off", "--email", "A@example.org")
    assert (done.code, done.out) == (0, "two-factor sign-in turned off for a@example.org; they were sent an e-mail\n")
    assert asyncio.run(_state(url)) == (0, [(None, "command line")])
    settings = Settings(data_dir=tmp_path / "var")
    (mail,) = outbox(settings)
    assert mail["To"] == "a@example.org" and str(mail["Subject"]) == "Die Zwei-Faktor-Anmeldung wurde ausgeschaltet"

    again = cli("two-factor-off", "--email", "a@example.org")
    assert again.code == 1
    assert again.err_lines == ["award-jury: error: a@example.org has no two-factor sign-in turned on"]

    # a mail server that is down: the change stands and the output says the mail is missing
    asyncio.run(_turn_on(url, "a@example.org"))
    unmailed = cli("two-factor-off", "--email", "a@example.org", AWARD_JURY_SMTP_URL="smtp://127.0.0.1:9")
    assert unmailed.code == 0
    assert unmailed.out.startswith("two-factor sign-in turned off for a@example.org; the e-mail could not be sent (")
    assert asyncio.run(_state(url))[0] == 0


def test_two_factor_off_for_an_unknown_address_exits_one(cli: Cli) -> None:
    result = cli("two-factor-off", "--email", "nobody@example.org")
    assert result.code == 1
    assert result.err_lines == ["award-jury: error: there is no account with the address 'nobody@example.org'"]
