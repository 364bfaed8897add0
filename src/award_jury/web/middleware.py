"""ASGI middleware: the request's language, and strict security headers on every response."""

from __future__ import annotations

from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
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
