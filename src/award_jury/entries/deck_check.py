"""Checking an uploaded pitch deck off the event loop, with a time, page and memory budget.

pypdf is pure Python: a crafted file (one page-tree node with 100,000 leaves, or a deeply nested
tree) keeps it busy for seconds. Run on the event loop, that stalls every request of the server;
run in a thread, it still competes for the GIL and cannot be stopped when it runs too long. So
the parse runs in a child process: a fresh interpreter per upload (``python -m
award_jury.entries.pdf_structure``, which loads pypdf and nothing of the web stack), started and
awaited with asyncio's subprocess support and killed when it is over its time. It dies with the
server (PR_SET_PDEATHSIG) and has an address-space limit. Uploads are rare, so a process per
check costs little (a fraction of a second); at most ``PARALLEL`` run at once per event loop.

The controller calls :func:`deck_problem` after reading the body and before taking the write
lock, so no check ever runs while a transaction waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

from award_jury.entries.pdf_structure import MAX_DECK_PAGES
from award_jury.entries.validators import deck_message, pdf_quick_problem

log = logging.getLogger("award_jury.entries")

#: Seconds a check may take (from the moment its process is ready) before it is killed.
TIME_BUDGET = 10.0
#: Seconds to wait for a check process to start (a loaded machine starts interpreters slowly).
START_BUDGET = 60.0
PARALLEL = 2
CODES = frozenset({"ok", "encrypted", "unreadable", "no-pages", "too-many-pages"})

_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


async def check_in_child(data: bytes, max_pages: int, seconds: float) -> str | None:
    """``pdf_structure_problem`` in a child process; "too-slow" when it takes longer than
    ``seconds``, "too-large-to-check" when it dies without an answer (its memory limit)."""
    slots = _slots.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(PARALLEL))
    async with slots:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "award_jury.entries.pdf_structure",
            str(max_pages),
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            # The clock starts once the child runs: starting an interpreter is no fault of the file.
            ready = await asyncio.wait_for(process.stdout.readline(), START_BUDGET)
            if ready != b"ready\n":
                return "too-large-to-check"
            process.stdin.write(data)
            await asyncio.wait_for(_send_and_close(process.stdin), seconds)
            answer = (await asyncio.wait_for(process.stdout.readline(), seconds)).decode().strip()
        except TimeoutError:
            log.warning("a pitch deck check ran out of time; the file is refused")
            return "too-slow"
        except (ConnectionError, OSError):  # the child died while reading the file
            return "too-large-to-check"
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if answer not in CODES:  # no answer: it died (out of memory) while parsing
        return "too-large-to-check"
    return None if answer == "ok" else answer


async def _send_and_close(stdin: asyncio.StreamWriter) -> None:
    await stdin.drain()
    stdin.close()


async def deck_problem(
    data: bytes, limit: int, *, max_pages: int = MAX_DECK_PAGES, seconds: float | None = None
) -> str | None:
    """The message beside the deck field for an unacceptable upload, or None: the quick checks
    here, the parse in a child process within the time budget (the event loop stays free)."""
    problem = pdf_quick_problem(data, limit)
    if problem:
        return problem
    code = await check_in_child(data, max_pages, TIME_BUDGET if seconds is None else seconds)
    return deck_message(code, max_pages) if code else None
