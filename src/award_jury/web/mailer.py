"""Sending the mails a service composed after the response (so answering never waits for, or
reveals, whether a message went out), and only once the request's transaction has committed."""

from __future__ import annotations

from collections.abc import Iterable

from litestar.background_tasks import BackgroundTask, BackgroundTasks

from award_jury.mail import Mail, Mailer


def send_after_response(mailer: Mailer, mails: Iterable[Mail]) -> BackgroundTasks | None:
    """The background tasks that deliver ``mails`` (``None`` when there are none)."""
    tasks = [BackgroundTask(mailer.send, mail) for mail in mails]
    return BackgroundTasks(tasks) if tasks else None
