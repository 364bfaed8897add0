"""Browser-test harness: a live server on 127.0.0.1, Debian's Chromium through Playwright,
and an axe-core check (axe-playwright-python ships axe.min.js, so nothing is downloaded)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from axe_playwright_python.async_playwright import Axe

from award_jury.cli import uvicorn_options
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.look import PHONE as PHONE  # (re-exported for the tests)
from tests.support.look import look_around
from tests.support.pg import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORTED = ("moderate", "serious", "critical")


@dataclass
class LiveServer:
    url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    @classmethod
    def start(cls, settings: Settings, *, log_level: str = "warning") -> LiveServer:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level=log_level,
            lifespan="on",
            **uvicorn_options(settings),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True, name="live-server")
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return cls(f"http://127.0.0.1:{port}", settings, server, thread)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


_axe = Axe()


async def serious_violations(page: Any, *, look: bool = True) -> list[str]:
    """axe-core's moderate, serious and critical violations on the page, as readable lines; in the
    pass that runs the look checks also what :func:`tests.support.look.look_around` sees in both
    languages and widths."""
    results = await _axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in REPORTED
    ] + (await look_around(page) if look else [])
