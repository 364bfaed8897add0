"""The loop that runs background work: inside ``serve`` (started and stopped with the app) and as
``award-jury worker``. Each job is an object with a ``name`` and ``async run_once() -> int`` (how
much it did); webhook deliveries are the first, other kinds (mails, reminders) can join.

The loop never blocks the event loop: jobs do their database and network work asynchronously.
When a round did nothing it waits ``idle_seconds``; when it did something it goes on at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from award_jury.db import Database
from award_jury.settings import Settings

log = logging.getLogger("award_jury.background")


class Job(Protocol):
    name: str

    async def run_once(self) -> int: ...


def default_jobs(settings: Settings, db: Database) -> list[Job]:
    from award_jury.webhooks.dispatch import Dispatcher

    return [Dispatcher(db, allow_private=settings.webhooks_allow_private)]


class Runner:
    def __init__(self, jobs: Sequence[Job], *, idle_seconds: float = 1.0) -> None:
        self.jobs = list(jobs)
        self.idle_seconds = idle_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_round(self) -> int:
        """Each job once; a job that fails is logged and tried again next round."""
        done = 0
        for job in self.jobs:
            try:
                done += await job.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; trying again later", job.name)
        return done

    async def run(self) -> None:
        """Until :meth:`stop`."""
        while not self._stop.is_set():
            if await self.run_round():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.idle_seconds)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name="award_jury background")

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Let the round in progress finish (its sends end within their timeout), then end."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, grace_seconds)
        except TimeoutError:
            log.warning("background work did not stop within %s s; cancelled", grace_seconds)
