"""Webhook test helpers: endpoints, the stored deliveries, and a real HTTPS receiver on
127.0.0.1 (a certificate from trustme) that records what arrives."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import trustme

from award_jury.db import Database
from award_jury.webhooks import services
from award_jury.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint


async def add_endpoint(
    db: Database,
    award_id: int,
    url: str = "https://127.0.0.1:9/hooks",
    events: tuple[str, ...] = EVENT_TYPES,
    *,
    actor_id: int | None = None,
) -> WebhookEndpoint:
    """An active endpoint (private addresses allowed, as AWARD_JURY_WEBHOOKS_ALLOW_PRIVATE does)."""
    async with db.session() as s:
        return await services.create_endpoint(
            s, award_id, services.EndpointForm(url=url, events=list(events)), actor_id, allow_private=True
        )


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.session() as s:
        return list((await s.execute(sa.select(WebhookDelivery).order_by(WebhookDelivery.id))).scalars())


def bodies(rows: list[WebhookDelivery]) -> list[dict[str, Any]]:
    return [json.loads(d.body) for d in rows]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """An HTTPS server on 127.0.0.1 answering every POST with ``status``."""

    port: int = field(default_factory=free_port)
    status: int = 204
    received: list[Received] = field(default_factory=list)
    ca: trustme.CA = field(default_factory=trustme.CA)
    #: The names its certificate is issued for.
    names: tuple[str, ...] = ("127.0.0.1", "localhost")
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/hooks"

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    async def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*self.names).configure_cert(context)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=context)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(path, headers, body.decode()))
            writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
