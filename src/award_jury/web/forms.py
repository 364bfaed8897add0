"""Reading HTML forms: every value as a stripped string, never an exception for odd input."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])


def clean_text(value: str) -> str:
    """Drop control characters (NUL and friends) that no form field needs; keep tab and newlines."""
    return value.translate(_CONTROL)


def parse_id(value: str) -> int | None:
    """A database id from a form or query: ASCII digits that fit a 32-bit integer, else None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number < 2**31 else None


class Form:
    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self._items = items

    def get(self, name: str, default: str = "", *, max_length: int = 10_000) -> str:
        for key, value in self._items:
            if key == name and isinstance(value, str):
                return clean_text(value).strip()[:max_length]
        return default

    def raw(self, name: str, *, max_length: int = 10_000) -> str:
        """Unstripped (passwords)."""
        for key, value in self._items:
            if key == name and isinstance(value, str):
                return clean_text(value)[:max_length]
        return ""

    def names(self) -> list[str]:
        return [k for k, v in self._items if isinstance(v, str)]

    def getall(self, name: str) -> list[str]:
        return [clean_text(v).strip() for k, v in self._items if k == name and isinstance(v, str)]


async def read_form(request: Request[Any, Any, Any]) -> Form:
    try:
        form = await request.form()
    except (ClientException, ValueError, UnicodeDecodeError):
        return Form([])
    return Form(list(form.multi_items()))


async def read_upload(request: Request[Any, Any, Any], field: str, *, limit: int) -> bytes | None:
    """The bytes of an uploaded file field (at most ``limit`` + 1 bytes are kept, so the caller
    can tell "too large"), or None when there is none or the body is not a form."""
    try:
        form = await request.form()
    except (ClientException, ValueError, UnicodeDecodeError):
        return None
    upload = form.get(field)
    if upload is None or isinstance(upload, str):
        return None
    data: bytes = await upload.read(limit + 1)
    return data
