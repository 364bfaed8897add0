"""Files people uploaded, served back: the app's settings and storage for a request, and one
response shape for every such file (never sniffed, never run, named safely)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response

from award_jury.entries.storage import LocalStorage
from award_jury.settings import Settings

#: A file from a startup must not run anything here, whatever it contains.
FILE_CSP = "sandbox; default-src 'none'"


def app_settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def app_storage(request: Request[Any, Any, Any]) -> LocalStorage:
    return LocalStorage(app_settings(request).uploads_dir)


def uploaded_file_response(data: bytes, name: str, media_type: str, *, inline: bool) -> Response[bytes]:
    """``inline`` shows it in the browser (a PDF viewer), otherwise it is downloaded."""
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=media_type,
        headers={
            "content-disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "content-security-policy": FILE_CSP,
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
