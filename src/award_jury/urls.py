"""The one way the app builds its own URLs, in Python and in templates.

Every route has a stable name ``<area>.<page>`` given in its decorator (``@get(..., name="entries.detail")``;
the names and their paths are listed by ``tests/unit/test_urls.py``'s route-table test). Nothing else
writes an app path by hand:

- controllers and services: ``url_for("entries.detail", entry_id=entry.id)`` gives ``/entries/7``;
  ``query=`` and ``anchor=`` add ``?saved=1`` and ``#people``;
- links that leave the app (e-mails, the certificates' verification link, the CLI):
  ``absolute_url(settings.base_url, "verify.code", code=code)``; they need no request, so the
  CLI and background jobs build the same links as the pages do;
- templates: the Jinja global of the same name, ``{{ url_for("rounds.detail", slug=award.slug,
  round_slug=round.slug) }}`` (it replaces Litestar's request-bound ``url_for``, so mails and
  certificates can use it too). Static assets keep their literal ``/static/...`` paths.

The route table is Litestar's own: ``create_app`` (and the CLI, through ``web.app.install_urls``)
hands this module the app's ``route_reverse``, so a name resolves exactly as the router matches
it and a wrong name or a missing or mistyped parameter fails loudly instead of linking nowhere.
This module imports nothing of ours and nothing of the web stack, so services can use it.
``tests/unit/test_urls.py`` fails on any new hand-built app path in Python or templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

Reverse = Callable[..., str]

_reverse: Reverse | None = None


def install(reverse: Reverse) -> None:
    """Use ``reverse`` (a Litestar app's ``route_reverse``) to turn route names into paths."""
    global _reverse
    _reverse = reverse


def installed() -> bool:
    return _reverse is not None


def url_for(name: str, /, *, query: Mapping[str, Any] | None = None, anchor: str | None = None, **params: Any) -> str:
    """The path of the route ``name`` with its path ``params`` filled in (text is percent-encoded),
    then ``?query`` (entries whose value is None are left out) and ``#anchor``."""
    if _reverse is None:
        raise RuntimeError("no route table: create the app (or call award_jury.web.app.install_urls) first")
    values = {key: quote(value, safe="") if isinstance(value, str) else value for key, value in params.items()}
    path = _reverse(name, **values)
    pairs = {key: value for key, value in (query or {}).items() if value is not None}
    if pairs:
        path += "?" + urlencode(pairs)
    if anchor:
        path += "#" + quote(anchor, safe="")
    return path


def absolute_url(base_url: str, name: str, /, **kwargs: Any) -> str:
    """``url_for`` behind the site's base URL: for links in e-mails, certificates and the CLI."""
    return base_url.rstrip("/") + url_for(name, **kwargs)
