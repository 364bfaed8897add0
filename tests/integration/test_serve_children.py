"""The certificate render processes end with the server: a clean stop (SIGTERM) shuts the pool
down, and a server killed with SIGKILL takes them along (they die with their parent). A real
``award-jury serve`` process is started, made to render, and stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.factories import small_bundle
from tests.support.pg import free_port

pytestmark = [pytest.mark.once, pytest.mark.slow]  # (processes and signals do not depend on the database)

SCRIPT = Path(sys.executable).with_name("award-jury")
#: Guards against a hang, not performance limits: a loaded machine starts Python slowly.
START_WITHIN = 120.0
GONE_WITHIN = 60.0


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie has ended; only its parent has not collected it yet
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_until_gone(pids: set[int]) -> set[int]:
    deadline = time.monotonic() + GONE_WITHIN
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


@pytest.fixture
def server_env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARD_JURY_")}
    return env | {
        "AWARD_JURY_DATABASE_URL": make_database_url("serve", migrated=True),
        "AWARD_JURY_DATA_DIR": str(tmp_path / "var"),
        "AWARD_JURY_SECRET_KEY": "serve-test-secret-0123456789",
        "AWARD_JURY_BASE_URL": "http://127.0.0.1",
    }


async def organiser_token(env: dict[str, str]) -> str:
    settings = Settings.from_env(env)
    db = Database.from_url(settings.database_url)
    try:
        async with db.session() as s:
            award = await import_bundle(s, small_bundle())
            organiser = await get_or_create_person(s, "orga@example.org", "Olli Organiser")
            await grant_role(s, organiser, Role.ORGANISER, award.id)
            return await start_session(s, organiser, session_policy(settings), utcnow())
    finally:
        await db.dispose()


@pytest.fixture
def serve(server_env: dict[str, str]) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(port)],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError("award-jury serve did not start")

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def render_preview(url: str, token: str) -> None:
    """An organiser's certificate preview: rendered by the pool."""
    response = httpx.get(
        f"{url}/awards/mini-award/certificates/rounds/pre-selection/preview/E002",
        cookies={"award_jury_session": token},
        headers={"host": "127.0.0.1"},
        timeout=300,
    )
    assert response.status_code == 200, response.text[:300]
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_render_processes_end_with_the_server(serve: Any, server_env: dict[str, str], how: str) -> None:
    token = await organiser_token(server_env)
    process, url = serve()
    render_preview(url, token)
    children = descendants(process.pid)
    assert children, "the render pool's processes are children of the server"

    process.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
    process.wait(timeout=START_WITHIN)
    assert wait_until_gone(children) == set()
