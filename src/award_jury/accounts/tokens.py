"""Personal API tokens (SPEC §5): created on the account page and by ``award-jury api-token create``,
shown once, stored only as a SHA-256 with a recognisable prefix, optionally expiring, revocable,
audited.

A token is ``awj_`` followed by 43 URL-safe characters (256 random bits), so a leaked one is easy
to recognise (secret scanners, logs) and impossible to guess. ``last_used_at`` is written at most
once a minute per token: using a token is a read, not a write on every request.

Requests per token are limited in each process (:class:`TokenRateLimiter`, a sliding window of one
minute); with several workers each counts its own share, which bounds a runaway script without a
database write per request."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import ApiToken, Person
from award_jury.accounts.services import find_person
from award_jury.audit.services import record_event
from award_jury.errors import FormError, NotFoundError, RateLimitedError
from award_jury.i18n import gettext as _

TOKEN_PREFIX = "awj_"  # noqa: S105 (a prefix, not a secret)
#: How many characters of a token are kept to recognise it ("awj_" and the first 8 random ones).
SHOWN_CHARS = len(TOKEN_PREFIX) + 8
#: ``last_used_at`` is written at most this often.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_LABEL = 100
MAX_EXPIRY_DAYS = 3650
#: Tokens a person may hold at once (revoked and expired ones do not count).
MAX_TOKENS = 20


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_state(token: ApiToken, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and now >= token.expires_at:
        return "expired"
    return "active"


@dataclass(frozen=True)
class TokenRequest:
    """What a person asks for: a label and an expiry in days (None: never)."""

    label: str
    expires_days: int | None


def parse_token_request(label: str, expires_days: str) -> TokenRequest:
    """The account page's form, checked: FormError with a message per field."""
    errors: dict[str, str] = {}
    label = label.strip()
    if len(label) > MAX_LABEL:
        errors["label"] = _("Use at most %(n)d characters.") % {"n": MAX_LABEL}
    days: int | None = None
    text = expires_days.strip()
    if text:
        if not (text.isascii() and text.isdigit() and len(text) <= 5) or not 1 <= int(text) <= MAX_EXPIRY_DAYS:
            errors["expires_days"] = _("Enter a whole number of days from 1 to %(n)d, or leave it empty.") % {
                "n": MAX_EXPIRY_DAYS
            }
        else:
            days = int(text)
    if errors:
        raise FormError(errors)
    return TokenRequest(label, days)


async def create_token(
    session: AsyncSession, person: Person, request: TokenRequest, now: datetime, *, ip: str | None = None, via: str
) -> tuple[ApiToken, str]:
    """A new token for ``person``; returns the row and the token (shown once, never stored)."""
    if not person.is_active:
        raise FormError({"label": _("This account is disabled.")})
    active = [t for t in await list_tokens(session, person.id) if token_state(t, now) == "active"]
    if len(active) >= MAX_TOKENS:
        raise FormError({"label": _("You have %(n)d active tokens. Revoke one first.") % {"n": MAX_TOKENS}})
    token = new_token()
    row = ApiToken(
        person_id=person.id,
        token_hash=hash_token(token),
        prefix=token[:SHOWN_CHARS],
        label=request.label,
        created_at=now,
        expires_at=None if request.expires_days is None else now + timedelta(days=request.expires_days),
    )
    session.add(row)
    await session.flush()
    record_event(
        session,
        "api_token.created",
        actor_id=person.id,
        object_type="api_token",
        object_id=row.id,
        after={
            "prefix": row.prefix,
            "label": row.label,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "via": via,
        },
        ip=ip,
    )
    return row, token


async def create_token_for_email(
    session: AsyncSession, email: str, request: TokenRequest, now: datetime
) -> tuple[ApiToken, str]:
    """The command line's way: NotFoundError for an address without an account."""
    person = await find_person(session, email)
    if person is None:
        raise NotFoundError(f"there is no person with the e-mail address {email!r}")
    return await create_token(session, person, request, now, via="cli")


async def list_tokens(session: AsyncSession, person_id: int) -> list[ApiToken]:
    """A person's tokens, newest first (revoked ones too: the list says what happened)."""
    rows = await session.execute(
        sa.select(ApiToken).where(ApiToken.person_id == person_id).order_by(ApiToken.id.desc())
    )
    return list(rows.scalars())


async def revoke_token(
    session: AsyncSession, person_id: int, token_id: int, now: datetime, *, ip: str | None = None
) -> ApiToken:
    """Revoke one of the person's own tokens (NotFoundError for anyone else's); revoking twice is fine."""
    row = await session.get(ApiToken, token_id)
    if row is None or row.person_id != person_id:
        raise NotFoundError("api token")
    if row.revoked_at is None:
        row.revoked_at = now
        record_event(
            session,
            "api_token.revoked",
            actor_id=person_id,
            object_type="api_token",
            object_id=row.id,
            before={"prefix": row.prefix, "label": row.label},
            ip=ip,
        )
    return row


async def authenticate(session: AsyncSession, token: str, now: datetime) -> tuple[ApiToken, Person] | None:
    """The live token and its (active) person, or None. Touches ``last_used_at`` at most once a
    minute: the caller commits only when the session is dirty."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        await session.execute(
            sa.select(ApiToken, Person)
            .join(Person, Person.id == ApiToken.person_id)
            .where(ApiToken.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    api_token, person = row
    if token_state(api_token, now) != "active" or not person.is_active:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOUCH_INTERVAL:
        api_token.last_used_at = now
    return api_token, person


class TokenRateLimiter:
    """At most ``per_minute`` requests per token in any minute, in this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, token_id: int) -> None:
        """Count one request; RateLimitedError (counting nothing) when the minute is full."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(token_id, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise RateLimitedError(max(1, math.ceil(hits[0] + 60 - now)))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle tokens
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[key]
