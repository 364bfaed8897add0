"""Files people uploaded, served back: one response shape for every such file (never sniffed,
never run, named safely). The storage itself is the ``storage`` dependency (web/deps.py)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response
from litestar.response import Stream

from award_jury.entries.storage import Storage, StoredFile
from award_jury.errors import NotFoundError

#: A file from a startup must not run anything here, whatever it contains.
FILE_CSP = "sandbox; default-src 'none'"


def file_headers(name: str, *, inline: bool) -> dict[str, str]:
    """The headers of every file served back: named safely, never sniffed, never run, never cached."""
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return {
        "content-disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "content-security-policy": FILE_CSP,
        "x-content-type-options": "nosniff",
        "cache-control": "private, no-store",
    }


def uploaded_file_response(data: bytes, name: str, media_type: str, *, inline: bool) -> Response[bytes]:
    """``inline`` shows it in the browser (a PDF viewer), otherwise it is downloaded."""
    return Response(data, media_type=media_type, headers=file_headers(name, inline=inline))


def stored_file_response(stored: StoredFile, name: str, media_type: str, *, inline: bool) -> Stream:
    """A stored file streamed to the client in chunks as it is read (from the disk or the bucket),
    never whole in memory, with the headers of :func:`uploaded_file_response` and its length."""
    headers = file_headers(name, inline=inline)
    headers["content-length"] = str(stored.size)
    return Stream(stored.chunks, media_type=media_type, headers=headers)


async def open_stored(storage: Storage, key: str | None) -> StoredFile:
    """The stored file to stream, or 404 when no key or no file (the access check came first)."""
    stored = await storage.open(key) if key else None
    if stored is None:
        raise NotFoundError("file")
    return stored
