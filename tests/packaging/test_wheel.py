"""The built wheel is the whole application: installed into a fresh virtual environment (no
checkout on its path), it serves the demo with its templates, static files, fonts, migrations
and translations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from award_jury.settings import PROJECT_DIR
from tests.conftest import missing_component
from tests.support.pg import free_port

pytestmark = pytest.mark.slow

CARRIED = (
    "award_jury/__init__.py",
    "award_jury/_data/templates/base.html",
    "award_jury/_data/static/css/app.css",
    "award_jury/_data/static/fonts/Lato-Regular.ttf",
    "award_jury/_data/static/fonts/EBGaramond12-Regular.ttf",
    "award_jury/_data/migrations/env.py",
    "award_jury/_data/migrations/script.py.mako",
    "award_jury/locale/de/LC_MESSAGES/messages.mo",
    "award_jury/demo/bundle.json",
)


def find_uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(Path.home() / ".local/bin/uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    missing_component("uv is not installed (it builds and installs the wheel)")
    raise AssertionError("unreachable")


def run(*cmd: str, timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    run(find_uv(), "build", "--wheel", "--out-dir", str(out), str(PROJECT_DIR), env=env)
    (built,) = out.glob("award_jury-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and the locked runtime dependencies (from uv's cache when it
    has them, else from PyPI)."""
    uv = find_uv()
    root = tmp_path_factory.mktemp("venv")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    requirements = root / "requirements.txt"
    run(
        uv,
        "export",
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
        "--quiet",
        "--output-file",
        str(requirements),
        cwd=PROJECT_DIR,
        env=env,
    )
    target = root / "env"
    run(uv, "venv", "--quiet", "--python", sys.executable, str(target), env=env)
    python = target / "bin" / "python"
    install = [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements), str(wheel)]
    offline = subprocess.run([*install, "--offline"], capture_output=True, text=True, timeout=300, env=env, check=False)
    if offline.returncode != 0:
        run(*install, env=env)
    return target


@pytest.fixture
def demo(venv: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWARD_JURY_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["AWARD_JURY_DATA_DIR"] = str(tmp_path / "var")
    log = (tmp_path / "demo.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [str(venv / "bin" / "award-jury"), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            log.seek(0)
            assert proc.poll() is None, f"the demo stopped:\n{log.read()}"
            assert time.monotonic() < deadline, f"the demo did not answer within 90 s:\n{log.read()}"
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def test_wheel_carries_templates_static_fonts_migrations_and_catalogs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert [n for n in CARRIED if n not in names] == []
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc")] == []


def test_installed_wheel_finds_its_data_inside_the_package(venv: Path) -> None:
    code = "from award_jury import settings as s; print(s.TEMPLATES_DIR, s.STATIC_DIR, s.MIGRATIONS_DIR, sep='\\n')"
    done = run(str(venv / "bin" / "python"), "-c", code, cwd=venv)

    dirs = [Path(line) for line in done.stdout.splitlines()]
    assert [d.name for d in dirs] == ["templates", "static", "migrations"]
    assert all(d.parent.name == "_data" and d.parent.parent.name == "award_jury" for d in dirs), dirs
    assert all(d.is_relative_to(venv) for d in dirs), dirs


def test_installed_wheel_serves_the_demo(demo: str) -> None:
    home = httpx.get(f"{demo}/", timeout=10, headers={"Accept-Language": "de"})
    css = httpx.get(f"{demo}/static/css/app.css", timeout=10)
    font = httpx.get(f"{demo}/static/fonts/Lato-Regular.ttf", timeout=10)
    health = httpx.get(f"{demo}/healthz", timeout=10)

    assert home.status_code == 200
    assert "text/html" in home.headers["content-type"]
    assert '<html lang="de"' in home.text
    assert css.status_code == 200
    assert css.content == (PROJECT_DIR / "static" / "css" / "app.css").read_bytes()
    assert font.status_code == 200
    assert font.content[:4] == b"\x00\x01\x00\x00"
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
