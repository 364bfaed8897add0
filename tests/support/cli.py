"""The ``award-jury`` command in-process (click's CliRunner), as the CLI tests run it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from click.testing import Result as ClickResult

from award_jury.cli import cli as award_jury_cli


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment an operator would set: the database, the data folder, and ``extra``."""
    return {"AWARD_JURY_DATABASE_URL": database_url, "AWARD_JURY_DATA_DIR": str(data_dir), **extra}


def run_cli(env: dict[str, str], *args: str) -> ClickResult:
    """``award-jury *args`` with ``env``; an unexpected exception fails the test with its traceback."""
    return CliRunner().invoke(award_jury_cli, list(args), env=env, catch_exceptions=False)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@dataclass
class Cli:
    """``award-jury`` with a fixed environment (``None`` unsets a variable); never a traceback."""

    env: dict[str, str | None]

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> Result:
        # catch_exceptions=False: an unexpected exception fails the test with its traceback.
        done = CliRunner().invoke(
            award_jury_cli,
            list(args),
            input=stdin,
            env={**self.env, **env},
            prog_name="award-jury",
            catch_exceptions=False,
        )
        result = Result(done.exit_code, done.stdout, done.stderr)
        assert "Traceback" not in result.out + result.err, result.err
        return result


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path
