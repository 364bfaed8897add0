"""Signing in: by password (organisers, and anyone who set one) and by one-time e-mail link
(single use, 30 minutes, a new request replaces the old link); password reset by link.
Nothing here tells whether an address has an account."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import ratelimit
from award_jury.accounts.models import LoginToken, Person
from award_jury.accounts.passwords import hash_password_async, verify_password_async
from award_jury.accounts.services import find_person
from award_jury.accounts.sessions import end_all_sessions, hash_token, new_token
from award_jury.accounts.validators import normalise_email
from award_jury.audit.services import record_event
from award_jury.db import write_transaction
from award_jury.enums import TokenPurpose
from award_jury.errors import RateLimitedError, SignInFailedError, TokenInvalidError

LINK_LIFETIME = timedelta(minutes=30)


async def sign_in_with_password(
    session: AsyncSession, email: str, password: str, now: datetime, *, ip: str = "unknown"
) -> Person:
    """The person, or SignInFailedError / RateLimitedError. Attempts are counted per (address, IP),
    per IP and per address (see ``ratelimit``) before the password is checked, and the count is
    committed at once: of many simultaneous attempts, only as many as the limits allow get as
    far as the check. A right password uncounts its attempt. The caller must commit even when
    this raises."""
    email = normalise_email(email)
    limits = [
        (ratelimit.SIGNIN_FAILURES_PER_PAIR, ratelimit.pair(email, ip)),
        (ratelimit.SIGNIN_FAILURES_PER_IP, ip),
        (ratelimit.SIGNIN_FAILURES_PER_EMAIL, email),
    ]
    try:
        hit_ids = await ratelimit.take(session, limits, now)
    except RateLimitedError:
        record_event(session, "signin.refused", object_type="email", object_id=email[:64], ip=ip)
        raise
    person = await find_person(session, email)
    await session.commit()  # the attempt counts for everyone before the (slow) check; ends the lock
    ok = await verify_password_async(person.password_hash if person else None, password)
    await write_transaction(session)  # (SQLite: what follows reads, then writes)
    if person is None or not ok or not person.is_active:
        record_event(
            session, "signin.failed", actor_id=person.id if person else None, object_type="email",
            object_id=email[:64], ip=ip,
        )  # fmt: skip
        raise SignInFailedError("wrong e-mail address or password")
    await ratelimit.forget(session, hit_ids)
    # (The address's own count is left to age: signing in must not let someone elsewhere go on guessing.)
    await ratelimit.clear(session, ratelimit.SIGNIN_FAILURES_PER_PAIR, ratelimit.pair(email, ip))
    return person


async def issue_link(
    session: AsyncSession, email: str, purpose: TokenPurpose, now: datetime, *, ip: str = "unknown"
) -> tuple[Person, str] | None:
    """A new one-time link token for the address, replacing older unused ones; None when the
    address has no active account, or when the address was sent enough links lately (the newest
    one stays valid): the caller answers exactly as if a link had been sent. RateLimitedError
    when too many requests came from the client's IP (for this address or any)."""
    email = normalise_email(email)
    mails = (ratelimit.LINK_MAILS_PER_EMAIL, email)
    await ratelimit.lock(session, [mails])
    await ratelimit.take(
        session,
        [(ratelimit.LINK_REQUESTS_PER_PAIR, ratelimit.pair(email, ip)), (ratelimit.LINK_REQUESTS_PER_IP, ip)],
        now,
    )
    if await ratelimit.exceeded(session, *mails, now):
        return None
    await ratelimit.hit(session, *mails, now)
    person = await find_person(session, email)
    if person is None or not person.is_active:
        return None
    await session.execute(
        sa.update(LoginToken)
        .where(
            LoginToken.person_id == person.id,
            LoginToken.purpose == purpose,
            LoginToken.used_at.is_(None),
            LoginToken.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    token = new_token()
    session.add(
        LoginToken(
            token_hash=hash_token(token), person_id=person.id, purpose=purpose, created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )  # fmt: skip
    await session.flush()
    return person, token


async def check_link(session: AsyncSession, token: str, purpose: TokenPurpose, now: datetime) -> LoginToken:
    """The token's row if it can still be used (without using it)."""
    row = (
        await session.execute(
            sa.select(LoginToken).where(LoginToken.token_hash == hash_token(token), LoginToken.purpose == purpose)
        )
    ).scalar_one_or_none()
    if row is None:
        raise TokenInvalidError("unknown")
    if row.used_at is not None:
        raise TokenInvalidError("used")
    if row.superseded_at is not None:
        raise TokenInvalidError("replaced")
    if now >= row.expires_at:
        raise TokenInvalidError("expired")
    person = await session.get(Person, row.person_id)
    if person is None or not person.is_active:
        raise TokenInvalidError("unknown")
    return row


async def redeem_link(session: AsyncSession, token: str, purpose: TokenPurpose, now: datetime) -> Person:
    """Use a link once. A second use, a replaced or an expired link raises TokenInvalidError."""
    row = await check_link(session, token, purpose, now)
    # Guarded update: of two simultaneous uses, only one finds used_at still empty.
    result = await session.execute(
        sa.update(LoginToken).where(LoginToken.id == row.id, LoginToken.used_at.is_(None)).values(used_at=now)
    )
    if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise TokenInvalidError("used")
    person = await session.get(Person, row.person_id)
    assert person is not None
    return person


async def set_password(session: AsyncSession, person: Person, password: str, *, ip: str | None = None) -> None:
    """Set a new password (already checked by the caller) and end every other session."""
    person.password_hash = await hash_password_async(password)
    await end_all_sessions(session, person.id)
    record_event(session, "password.changed", actor_id=person.id, object_type="person", object_id=person.id, ip=ip)
    await session.flush()
