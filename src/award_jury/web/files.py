"""Files people uploaded, served back: one response shape for every such file (never sniffed,
never run, named safely). The storage itself is the ``storage`` dependency (web/deps.py)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response

#: A file from a startup must not run anything here, whatever it contains.
FILE_CSP = "sandbox; default-src 'none'"


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
