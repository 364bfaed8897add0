"""The CSRF token a test sends back, the one helper for it: from a client, the cookie the app
set (empty when there is none yet); from a page (a response or its HTML), the form's hidden field."""

from __future__ import annotations

import re

import httpx

CSRF_COOKIE = "award_jury_csrf"
_CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(source: httpx.AsyncClient | httpx.Client | httpx.Response | str) -> str:
    if isinstance(source, httpx.AsyncClient | httpx.Client):
        return source.cookies.get(CSRF_COOKIE) or ""
    html = source.text if isinstance(source, httpx.Response) else source
    match = _CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def without_csrf(html: str) -> str:
    """The page with its CSRF field blanked (to compare two pages that differ only in the token)."""
    return _CSRF_FIELD.sub('name="_csrf_token" value="-"', html)
