"""The scheduled work inside ``serve``: the retention rules (retention.py) about once an hour, in
a background task started and stopped with the app's lifespan. The work is async (the outbox in
a thread), so the event loop keeps answering; a failed run is logged and the next one comes.
With several workers each runs it; the rules are idempotent and the runs queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from award_jury.db import Database, utcnow
from award_jury.retention import Removed, run_scheduled
from award_jury.settings import Settings

log = logging.getLogger("award_jury.scheduler")
#: The first run comes this soon after start (at most), so restarts do not keep postponing it.
FIRST_RUN_SECONDS = 60.0


async def run_forever(
    db: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_run: Callable[[Removed], None] | None = None,
) -> None:
    delay = min(FIRST_RUN_SECONDS, settings.scheduler_interval_seconds)
    while True:
        await asyncio.sleep(delay)
        delay = settings.scheduler_interval_seconds
        try:
            removed = await run_scheduled(db, settings, clock())
        except Exception:  # the server goes on; the next run tries again
            log.exception("the scheduled retention run failed")
            continue
        if removed.total:
            log.info("%s", removed.summary())
        if on_run is not None:
            on_run(removed)


@asynccontextmanager
async def scheduled(
    db: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_run: Callable[[Removed], None] | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """Run :func:`run_forever` while the block runs; cancelled (and awaited) when it ends."""
    work = run_forever(db, settings, clock=clock, on_run=on_run)
    task = asyncio.get_running_loop().create_task(work, name="award-jury scheduler")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
