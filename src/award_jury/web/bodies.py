"""Request bodies are read whole, with a size and a time limit, before the app sees the request.

Every unsafe request (POST, PUT, PATCH, DELETE) passes :class:`BodyMiddleware` first: its body is
read into memory before the CSRF check, the handler, any database session and SQLite's write lock,
then handed on unchanged. So a client that sends a few bytes and stalls holds no lock (it gets
408 when its time is up), and a huge form is refused with 413 before it is parsed.

The limits depend on the route: forms without a file take at most ``AWARD_JURY_MAX_FORM_KB``;
a handler that takes a file says so with ``opt={TAKES_FILE: True}`` and accepts a
``multipart/form-data`` body of the largest pitch deck plus a megabyte for the form around it.
Time: ``AWARD_JURY_BODY_TIMEOUT_SECONDS`` for the whole body, and for uploads one more second
for every :data:`SLOWEST_UPLOAD` bytes of their limit (a slow mobile line still makes it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException
from litestar.types import ASGIApp, HTTPReceiveMessage, Receive, Scope, Send

from award_jury.settings import Settings

#: Methods whose requests carry no body we read.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: Handler ``opt`` key: this route takes an uploaded file (the deck limit applies to multipart bodies).
TAKES_FILE = "takes_file"
#: Handler ``opt`` key: the handler checks its upload (the pitch deck: a PDF parsed in a child
#: process, up to seconds) before it touches the database, and takes the write transaction itself
#: afterwards (``db.write_transaction``), so the lock is never held during the check.
LOCK_AFTER_CHECKS = "lock_after_checks"

#: Bytes per second an upload may be as slow as (its time limit grows with its size limit).
SLOWEST_UPLOAD = 50 * 1024

#: Room for the form fields around the largest file.
FORM_AROUND_FILE = 1024 * 1024

#: The most fields a url-encoded form may have (like Litestar's multipart part limit): parsing
#: many repeated fields takes time that grows faster than their number (64 KB of ``a=1&`` took
#: 0.4 s on the event loop; 1,000 fields take about a millisecond).
MAX_FORM_FIELDS = 1000


class BodyTooLargeError(HTTPException):
    status_code = 413

    def __init__(self, rule: BodyRule) -> None:
        super().__init__(detail="Request body too large")
        self.rule = rule


class BodyTimeoutError(HTTPException):
    status_code = 408

    def __init__(self) -> None:
        super().__init__(detail="Request body too slow")


@dataclass(frozen=True)
class BodyRule:
    """What a route accepts: at most ``limit`` bytes within ``seconds``."""

    limit: int
    seconds: float
    takes_file: bool


def body_rule(settings: Settings, handler_opt: dict[str, Any], content_type: str) -> BodyRule:
    takes_file = bool(handler_opt.get(TAKES_FILE)) and content_type.lower().startswith("multipart/form-data")
    if takes_file:
        limit = settings.max_upload_bytes + FORM_AROUND_FILE
        return BodyRule(limit, settings.body_timeout_seconds + limit / SLOWEST_UPLOAD, True)
    return BodyRule(settings.max_form_bytes, settings.body_timeout_seconds, False)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BodyMiddleware:
    """Reads an unsafe request's whole body (limits above), then calls the app with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["litestar_app"].state.settings
        rule = body_rule(settings, scope["route_handler"].opt, _header(scope, b"content-type") or "")
        announced = _header(scope, b"content-length")
        if announced is not None:
            if not (announced.isascii() and announced.isdigit()):
                raise ClientException("Invalid Content-Length")
            if int(announced) > rule.limit:  # refused before a byte of it is read
                raise BodyTooLargeError(rule)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(rule.seconds):
                while True:
                    message = cast("HTTPReceiveMessage", await receive())
                    if message["type"] == "http.disconnect":
                        return  # the client is gone: nobody to answer
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > rule.limit:
                        raise BodyTooLargeError(rule)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise BodyTimeoutError() from None
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or "").lower()
        if content_type.startswith("application/x-www-form-urlencoded") and body.count(b"&") >= MAX_FORM_FIELDS:
            raise BodyTooLargeError(rule)
        delivered = False

        async def replay() -> HTTPReceiveMessage:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[return-value]  # after the body: only the disconnect

        await self.app(scope, replay, send)
