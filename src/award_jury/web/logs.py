"""Keeping secrets out of the logs: sign-in, reset and invitation links carry their token in the
path, and whoever reads the access log could otherwise use a link that is still valid."""

from __future__ import annotations

import logging
import re

#: The paths whose last part is a secret token (the routes in accounts/controllers.py and
#: accounts/people_controllers.py, accounts/deletion_controllers.py), also as the sign-in page's
#: ``next`` (an account deletion link opened while signed out goes there first).
_TOKEN_PATH = re.compile(
    r"(/(?:signin/link|password/reset|invitations|account/delete)/|%2Faccount%2Fdelete%2F)[^/?#&%\s\"]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with every token in such a path replaced by an ellipsis."""
    return _TOKEN_PATH.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """Blanks link tokens in a record's message and its string arguments (uvicorn's access log
    passes the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Put the filter on uvicorn's loggers (once; uvicorn's logging set-up keeps logger filters)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
