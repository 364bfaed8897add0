"""WeasyPrint's only way to the outside world, closed by default.

Allowed: ``data:`` URIs, and ``file:`` URLs that resolve (symbolic links and ``..`` followed)
to a file inside the project's ``static/`` folder. Everything else – other files, ``http(s):``,
``ftp:``, anything unknown – raises, so nothing outside reaches a PDF and no network request
is ever made.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from award_jury.settings import STATIC_DIR


class RefusedURLError(ValueError):
    """The certificate asked for something outside what it may use."""


def _data_uri(url: str) -> tuple[bytes, str]:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise RefusedURLError("malformed data: URI")
    params = header.split(";")
    media_type = params[0] or "text/plain"
    if "base64" in params[1:]:
        return base64.b64decode(payload, validate=False), media_type
    return unquote_to_bytes(payload), media_type


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """A deny-by-default URL fetcher. ``seen`` records every URL asked for (tests read it)."""

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)
        self.root = static_dir.resolve()
        self.seen: list[str] = []
        self.refused: list[str] = []

    def resolve(self, url: str) -> Path:
        """The file inside ``static/`` that a ``file:`` URL names; raises for anything else."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURLError(f"not allowed: {url[:80]}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RefusedURLError(f"not a static file: {url[:80]}")
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.seen.append(url)
        try:
            if url[:5].lower() == "data:":
                body, media_type = _data_uri(url)
                return URLFetcherResponse(url, body, {"Content-Type": media_type})
            path = self.resolve(url)
        except (RefusedURLError, ValueError):
            self.refused.append(url)
            raise
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": media_type})

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> URLFetcherResponse:
        # Never the opener's handlers (file, http, ftp): every road goes through fetch().
        return self.fetch(url if isinstance(url, str) else url.full_url)
