"""Child processes that never outlive the server (render pool, deck checks)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """In a child process, first thing: Linux kills it (SIGKILL) when its parent dies, however the
    parent ends (a clean stop, a crash, ``kill -9``). ``parent_pid`` is the parent as the parent
    saw itself (leave it out when a fork server starts the child); a child whose parent is
    already gone exits at once."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)
