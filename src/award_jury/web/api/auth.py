"""Who is calling the API: the person of an ``Authorization: Bearer`` token, or nobody.

The API reads no session cookie: a request that carries only the browser's cookies is anonymous
here, so another site cannot make a signed-in browser act through the API (which is why the API
needs no CSRF token; the pages keep theirs). A bad, expired or revoked token answers 401 at once."""

from __future__ import annotations

from typing import Any

from litestar import Request

from award_jury.accounts import tokens
from award_jury.db import Database, utcnow, write_transaction
from award_jury.i18n import current_locale, negotiate
from award_jury.policy import ANONYMOUS
from award_jury.web.api.problems import UNAUTHORIZED_HEADERS, ApiProblem
from award_jury.web.auth import current_viewer, person_viewer

#: ``app.state`` key of the per-process :class:`tokens.TokenRateLimiter`.
LIMITER = "api_rate_limiter"


async def load_api_viewer(request: Request[Any, Any, Any]) -> None:
    """The API's ``before_request`` hook (it replaces the pages' cookie-based one)."""
    # Messages in English unless the client asks for German.
    accept = request.headers.get("accept-language")
    current_locale.set(negotiate(None, accept) if accept else "en")
    viewer = ANONYMOUS
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiProblem(401, "Send the token as 'Authorization: Bearer <token>'.", headers=UNAUTHORIZED_HEADERS)
        db: Database = request.app.state.db
        async with db.session() as session:
            found = await tokens.authenticate(session, token, utcnow())
            if found is not None and session.dirty:
                # Touching last_used_at (at most once a minute) is a write: redo the read inside a
                # write transaction, as the pages' session loading does (db.write_transaction).
                await session.rollback()
                await write_transaction(session)
                found = await tokens.authenticate(session, token, utcnow())
            if found is None:
                raise ApiProblem(401, "The token is unknown, expired or revoked.", headers=UNAUTHORIZED_HEADERS)
            api_token, person = found
            request.app.state[LIMITER].take(api_token.id)
            viewer = await person_viewer(session, person)
    request.state.viewer = viewer
    current_viewer.set(viewer)
