"""ASGI middleware: the request's language, paths no route can serve, and strict security headers
on every response."""

from __future__ import annotations

from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from award_jury.i18n import current_locale, negotiate

LANGUAGE_COOKIE = "award_jury_lang"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


def locale_for(connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    return negotiate(connection.cookies.get(LANGUAGE_COOKIE), connection.headers.get("accept-language"))


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        token = current_locale.set(locale_for(ASGIConnection(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            current_locale.reset(token)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: it sees every response, including the router's own 404 and 405."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        present = {k.lower() for k, _v in headers}
        # A response that set a stricter policy of its own (the logo) keeps it.
        headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
        if not any(k.lower() == b"cache-control" for k, _v in headers):
            headers.append((b"cache-control", b"no-cache"))
        message["headers"] = headers


class AllowedHostsMiddleware:
    """Answers 400 unless the Host header names one of our host names (port ignored)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    @classmethod
    def factory(cls, allowed: frozenset[str]) -> Callable[[ASGIApp], ASGIApp]:
        return lambda app: cls(app, allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        host = ASGIConnection(scope).headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.strip("[]").lower() in self.allowed:
            await self.app(scope, receive, send)
            return
        response = ASGIResponse(body=b"Unknown host name.\n", status_code=400, media_type="text/plain")
        await response(scope, receive, send)


#: Ids are database integers (32-bit on PostgreSQL, as ``forms.parse_id`` has them); no row has another.
MAX_ID = 2**31 - 1


class PathValuesMiddleware:
    """404 for a path that names nothing: a NUL byte anywhere in it (a file name cannot hold one;
    the operating system refuses it), or an integer parameter outside 1 … 2^31−1 (a database
    driver refuses what its integers cannot hold). Runs after routing, so the parameters are
    parsed, and before any handler, guard or dependency reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            params = scope.get("path_params") or {}
            if "\x00" in scope["path"] or any(isinstance(v, int) and not 0 < v <= MAX_ID for v in params.values()):
                raise NotFoundException()
        await self.app(scope, receive, send)
