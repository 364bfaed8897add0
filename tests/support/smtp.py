"""A real SMTP server on 127.0.0.1 that keeps what it receives (aiosmtpd in its own thread).

Usable from sync and async tests alike, and from the browser tests (the live server sends
to it over TCP like to any mail server)::

    with SmtpSink() as smtp:
        settings = replace(settings, smtp_url=smtp.url)
        ...
        (msg,) = smtp.wait_for(1)
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.pg import free_port


@dataclass(frozen=True)
class Received:
    """One delivered message with its envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    #: The user name the client authenticated with, if any.
    login: str | None


class SmtpSink:
    """An SMTP server that accepts every message; with a user name it offers AUTH (without TLS)."""

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.username = username
        self.password = password
        self.received: list[Received] = []
        self.auth_attempts: list[tuple[str, str]] = []
        self._changed = threading.Condition()
        kwargs: dict[str, Any] = {}
        if username is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self.controller = Controller(self, hostname=self.host, port=self.port, **kwargs)

    @property
    def url(self) -> str:
        """``smtp://[user:pass@]127.0.0.1:<port>`` for AWARD_JURY_SMTP_URL."""
        if self.username is None:
            return f"smtp://{self.host}:{self.port}"
        userinfo = f"{quote(self.username, safe='')}:{quote(self.password or '', safe='')}"
        return f"smtp://{userinfo}@{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._changed:
            return [r.message for r in self.received]

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self._changed:
            self.received.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until ``count`` messages have arrived (for servers that send after answering)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} message(s) within {timeout}s, got {len(self.received)}")
            return [r.message for r in self.received]

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # aiosmtpd hooks (called in the controller's thread)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.auth_attempts.append((login, password))
        ok = login == self.username and password == self.password
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self._changed:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, login))
            self._changed.notify_all()
        return "250 Message accepted for delivery"
