"""Where a webhook may go: an https URL whose host resolves only to public addresses.

Checked when an organiser saves an endpoint and again before every attempt (a name that
resolved to a public address then may resolve to 127.0.0.1 now: DNS rebinding); the attempt
then connects to the address that was checked, not to a fresh lookup."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host, port -> the addresses the host name resolves to (raises OSError when it does not).
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UrlRefused(ValueError):
    """The URL may not be used; ``code`` says why (see :data:`REASONS`)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Target:
    url: str
    host: str  # as written in the URL (for Host and the TLS server name)
    port: int
    addresses: tuple[str, ...]


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def parse(url: str) -> tuple[str, int]:
    """Host and port of an acceptable URL's form (https, a host, no user name or password)."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise UrlRefused("invalid") from None
    if not parts.scheme or not parts.netloc:
        raise UrlRefused("invalid")
    if parts.scheme.lower() != "https":
        raise UrlRefused("scheme")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise UrlRefused("invalid")
    if any(c.isspace() for c in url):
        raise UrlRefused("invalid")
    return parts.hostname, port


async def check(url: str, *, resolver: Resolver = system_resolver, allow_private: bool = False) -> Target:
    """The URL's target once every address it resolves to is allowed; raises UrlRefused."""
    host, port = parse(url)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError):
            raise UrlRefused("unresolved", host) from None
        if not found:
            raise UrlRefused("unresolved", host)
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise UrlRefused("unresolved", host) from None
        if not allow_private and not is_public(address):
            raise UrlRefused("private", str(address))
    return Target(url=url, host=host, port=port, addresses=tuple(found))
