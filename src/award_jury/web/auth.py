"""Who is asking: loads the server-side session named by the cookie into a :class:`Viewer`
for every request, renews nothing implicitly, and writes and clears the session cookie."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person, TwoFactor, WebSession
from award_jury.accounts.sessions import SessionPolicy, idle_deadline, load_session
from award_jury.awards.models import Award
from award_jury.db import Database, utcnow, write_transaction
from award_jury.enums import Role
from award_jury.i18n import current_locale
from award_jury.policy import ANONYMOUS, Viewer
from award_jury.settings import Settings
from award_jury.web.middleware import LANGUAGE_COOKIE

current_viewer: ContextVar[Viewer] = ContextVar("current_viewer", default=ANONYMOUS)
#: The Set-Cookie that clears a session cookie naming no live session (sent with any response).
_dead_cookie: ContextVar[Cookie | None] = ContextVar("dead_session_cookie", default=None)


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(seconds=settings.session_idle_seconds),
        absolute=timedelta(seconds=settings.session_max_seconds),
    )


async def person_viewer(session: AsyncSession, person: Person) -> Viewer:
    """The person with every role they hold (a web session's or an API token's viewer)."""
    platform: set[Any] = set()
    per_award: dict[int, set[Any]] = {}
    for award_id, role in await session.execute(
        sa.select(AwardRole.award_id, AwardRole.role).where(AwardRole.person_id == person.id)
    ):
        if award_id is None:
            platform.add(role)
        else:
            per_award.setdefault(award_id, set()).add(role)
    return Viewer(
        person_id=person.id,
        name=person.name,
        email=person.email,
        locale=person.locale,
        platform_roles=frozenset(platform),
        award_roles={k: frozenset(v) for k, v in per_award.items()},
        needs_two_factor_for=await awards_needing_two_factor(session, person.id, platform, per_award),
    )


async def awards_needing_two_factor(
    session: AsyncSession, person_id: int, platform: set[Any], per_award: dict[int, set[Any]]
) -> frozenset[int]:
    """The awards whose organiser role this person holds, that require two-factor sign-in of
    their organisers, while the person has not turned it on (no query for non-organisers)."""
    organised = {award_id for award_id, roles in per_award.items() if Role.ORGANISER in roles}
    if Role.ORGANISER not in platform and not organised:
        return frozenset()
    query = sa.select(Award.id).where(Award.organisers_need_two_factor.is_(True))
    if Role.ORGANISER not in platform:
        query = query.where(Award.id.in_(organised))
    requiring = frozenset((await session.execute(query)).scalars())
    if not requiring or await session.get(TwoFactor, person_id) is not None:
        return frozenset()
    return requiring


async def build_viewer(session: AsyncSession, web_session: WebSession, person: Person, policy: SessionPolicy) -> Viewer:
    viewer = await person_viewer(session, person)
    return replace(viewer, session_deadline=idle_deadline(web_session, policy), session_id=web_session.id)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def load_viewer(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: put the Viewer on ``request.state`` and in a context variable."""
    viewer = ANONYMOUS
    _dead_cookie.set(None)
    if not request.url.path.startswith("/static/"):
        settings: Settings = request.app.state.settings
        token = request.cookies.get(settings.session_cookie_name)
        if token:
            db: Database = request.app.state.db
            policy = session_policy(settings)
            async with db.session() as session:
                loaded = await load_session(session, token, policy, utcnow())
                if session.dirty or session.deleted:
                    # Touching (or removing) the web session is a write: on SQLite a read that
                    # turns into a write fails when another writer committed in between, so the
                    # read is done again inside a write transaction (db.write_transaction).
                    await session.rollback()
                    await write_transaction(session)
                    loaded = await load_session(session, token, policy, utcnow())
                if loaded is None:
                    _dead_cookie.set(expired_session_cookie(settings))
                else:
                    viewer = await build_viewer(session, *loaded, policy)
    request.state.viewer = viewer
    current_viewer.set(viewer)
    if viewer.authenticated and viewer.locale and LANGUAGE_COOKIE not in request.cookies:
        current_locale.set(viewer.locale)


async def session_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook (it sees every response, error pages and redirects included):
    signed-in answers are never cached, and a cookie that named no live session is cleared
    with the attributes it was set with."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    if current_viewer.get().authenticated:
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
        headers.append((b"cache-control", b"no-store"))
    dead = _dead_cookie.get()
    if dead is not None:
        prefix = f"{dead.key}=".encode()
        if not any(k.lower() == b"set-cookie" and v.startswith(prefix) for k, v in headers):
            headers.append(dead.to_encoded_header())
        _dead_cookie.set(None)
    message["headers"] = headers


def provide_viewer(request: Request[Any, Any, Any]) -> Viewer:
    viewer: Viewer = getattr(request.state, "viewer", ANONYMOUS)
    return viewer


def session_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=settings.session_cookie_name,
        value=token,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        max_age=settings.session_max_seconds,
    )


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=settings.session_cookie_name,
        value="",
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        max_age=0,
        expires=0,
    )


def pending_signin_name(settings: Settings) -> str:
    """The cookie of a sign-in waiting for its second step (holds a random token, nothing else)."""
    return "__Host-award_jury_2fa" if settings.secure_cookies else "award_jury_2fa"


def pending_signin_cookie(settings: Settings, token: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=pending_signin_name(settings),
        value=token,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        max_age=max_age,
        expires=0 if max_age == 0 else None,
    )
