"""Review of the certificates (issue 8): the command line's contract (SPEC §1), …"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from award_jury.certificates import jobs
from award_jury.certificates.controllers import render_in_pool
from award_jury.cli import cli
from tests.integration.test_certificates import SLUG, bundle
from tests.support.pdf import reader


@pytest.fixture
def env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    return {
        "AWARD_JURY_DATABASE_URL": make_database_url("certr"),
        "AWARD_JURY_DATA_DIR": str(tmp_path / "var"),
        "AWARD_JURY_BASE_URL": "https://awards.example.org",
    }


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def finalised(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(), ensure_ascii=False), encoding="utf-8")
    assert run(env, "import", str(path)).exit_code == 0
    assert run(env, "finalise", SLUG, "--override-reason", "test data: some sheets missing").exit_code == 0


def test_cli_certificates_without_or_with_both_outputs_is_a_usage_error(
    env: dict[str, str], tmp_path: Path, finalised: None
) -> None:
    neither = run(env, "certificates", SLUG)
    assert neither.exit_code == 2, neither.output
    both = run(env, "certificates", SLUG, "--out", str(tmp_path / "a.pdf"), "--split", str(tmp_path / "d"))
    assert both.exit_code == 2, both.output
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "d").exists()


def test_cli_certificates_names_an_output_it_cannot_write(env: dict[str, str], tmp_path: Path, finalised: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args in (["--out", str(blocker / "all.pdf")], ["--split", str(blocker / "dir")]):
        result = run(env, "certificates", SLUG, *args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert "database" not in lines[-1] and str(blocker) in lines[-1], lines


async def test_a_render_process_that_died_does_not_break_every_later_certificate(tmp_path: Path) -> None:
    """A render process killed (out of memory, a crash in a native library) breaks a
    ProcessPoolExecutor for good; the next preview, download or rerun must get a working pool."""
    from tests.unit.test_certificate_render import META, context

    loop = asyncio.get_running_loop()
    executor = jobs.pool()
    await loop.run_in_executor(executor, os.getpid)  # the processes exist
    for process in list(executor._processes.values()):  # type: ignore[attr-defined]
        process.kill()
    with pytest.raises(BrokenProcessPool):
        await loop.run_in_executor(executor, time.sleep, 0.1)
    out = await jobs.render_parts([context()], META, tmp_path / "work", tmp_path / "out.pdf")
    assert len(reader(out.read_bytes()).pages) == 1
    assert len(reader(await render_in_pool([context()], META)).pages) == 1
