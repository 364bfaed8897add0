"""Sending the app's e-mails after the response (so answering never waits for, or reveals,
whether a message went out)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request
from litestar.background_tasks import BackgroundTask

from award_jury.mail import render_mail, send_mail
from award_jury.settings import Settings

log = logging.getLogger("award_jury.mail")


def mail_task(
    request: Request[Any, Any, Any], template: str, *, to: str, locale: str, **context: Any
) -> BackgroundTask:
    settings: Settings = request.app.state.settings
    mail = render_mail(
        request.app.state.jinja_env,
        template,
        to=to,
        locale=locale,
        context={"base_url": settings.base_url, **context},
    )

    async def deliver() -> None:
        try:
            await send_mail(mail, settings)
        except Exception:  # a failed delivery must not break the request that caused it
            log.exception("could not send %s e-mail to %s", template, to)

    return BackgroundTask(deliver)
