"""Signing in: by password (organisers, and anyone who set one) and by one-time e-mail link
(single use, 30 minutes, a new request replaces the old link); password reset by link.
Nothing here tells whether an address has an account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
from award_jury.mail import Mail, Mailer

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
            session,
            "signin.failed",
            actor_id=person.id if person else None,
            object_type="email",
            object_id=email[:64],
            ip=ip,
        )
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
    if not await _may_mail_link(session, email, now, ip):
        return None
    person = await find_person(session, email)
    if person is None or not person.is_active:
        return None
    return person, await _new_link_token(session, person, purpose, now)


#: Per purpose: the mail that carries the link, and the route of the page the link opens.
LINK_MAILS = {
    TokenPurpose.SIGNIN: ("signin_link", "signin.link"),
    TokenPurpose.RESET: ("password_reset", "password.reset_form"),
}


async def request_link(
    session: AsyncSession, mailer: Mailer, email: str, purpose: TokenPurpose, now: datetime, *, ip: str = "unknown"
) -> list[Mail]:
    """:func:`issue_link`, and the mail that carries the link to the person (none when no link
    was issued: the caller answers the same either way). Send them after the commit."""
    issued = await issue_link(session, email, purpose, now, ip=ip)
    if issued is None:
        return []
    person, token = issued
    template, route = LINK_MAILS[purpose]
    return [
        mailer.compose(
            template, to=person.email, locale=person.locale, name=person.name, link=mailer.url(route, token=token)
        )
    ]


async def _may_mail_link(session: AsyncSession, email: str, now: datetime, ip: str) -> bool:
    """Count a link request: RateLimitedError beyond the per-IP limits; False when the address
    had enough link mails lately (the caller then sends nothing and answers as usual)."""
    mails = (ratelimit.LINK_MAILS_PER_EMAIL, email)
    await ratelimit.lock(session, [mails])
    requests = [(ratelimit.LINK_REQUESTS_PER_PAIR, ratelimit.pair(email, ip)), (ratelimit.LINK_REQUESTS_PER_IP, ip)]
    await ratelimit.take(session, requests, now)
    if await ratelimit.exceeded(session, *mails, now):
        return False
    await ratelimit.hit(session, *mails, now)
    return True


async def _new_link_token(session: AsyncSession, person: Person, purpose: TokenPurpose, now: datetime) -> str:
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
            token_hash=hash_token(token),
            person_id=person.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


# A new applicant's sign-in link carries the account to create, signed with the secret key, so
# that nothing is stored for an address until its owner uses the link: a stranger typing someone
# else's address into the apply form creates no account and leaves no name of theirs behind.
_NEW_ACCOUNT = b"award-jury new account link\x00"
_SIGNATURE_CHARS = 43  # unpadded base64 of a SHA-256 HMAC


@dataclass(frozen=True)
class NewAccount:
    """The account a new applicant's link creates when it is used."""

    email: str
    name: str
    locale: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), _NEW_ACCOUNT + payload.encode("ascii"), hashlib.sha256).digest())


def new_account_token(secret: str, account: NewAccount) -> str:
    fields = [account.email, account.name, account.locale, int(account.expires_at.timestamp())]
    payload = _b64(json.dumps(fields, ensure_ascii=False).encode("utf-8"))
    return _signature(secret, payload) + payload


def read_new_account_token(secret: str, token: str) -> NewAccount | None:
    """The account in a genuine new-applicant token, else None (expiry is the caller's check)."""
    signature, payload = token[:_SIGNATURE_CHARS], token[_SIGNATURE_CHARS:]
    if not secret or not payload or not payload.isascii():
        return None
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    try:
        email, name, locale, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return NewAccount(str(email), str(name), str(locale), datetime.fromtimestamp(int(expires), UTC))
    except (ValueError, TypeError):
        return None


async def issue_apply_link(
    session: AsyncSession, email: str, name: str, locale: str, now: datetime, *, ip: str, secret: str
) -> str | None:
    """A sign-in link token for the apply form: for an address with an account, an ordinary one;
    for a new address, one that creates the account (named ``name``) when it is used. None when
    nothing is to be sent (limits, or a disabled account); RateLimitedError as for issue_link."""
    email = normalise_email(email)
    if not await _may_mail_link(session, email, now, ip):
        return None
    person = await find_person(session, email)
    if person is None:
        return new_account_token(secret, NewAccount(email, name, locale, now + LINK_LIFETIME))
    if not person.is_active:
        return None
    return await _new_link_token(session, person, TokenPurpose.SIGNIN, now)


async def check_link(
    session: AsyncSession, token: str, purpose: TokenPurpose, now: datetime, *, secret: str = ""
) -> LoginToken | NewAccount:
    """The token's row if it can still be used (without using it); for a new applicant's sign-in
    link (with ``secret``), the account it would create."""
    row = (
        await session.execute(
            sa.select(LoginToken).where(LoginToken.token_hash == hash_token(token), LoginToken.purpose == purpose)
        )
    ).scalar_one_or_none()
    if row is None:
        account = read_new_account_token(secret, token) if purpose is TokenPurpose.SIGNIN else None
        if account is None:
            raise TokenInvalidError("unknown")
        if now >= account.expires_at:
            raise TokenInvalidError("expired")
        if await find_person(session, account.email) is not None:  # its first use made the account
            raise TokenInvalidError("used")
        return account
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


async def redeem_link(
    session: AsyncSession, token: str, purpose: TokenPurpose, now: datetime, *, secret: str = ""
) -> Person:
    """Use a link once. A second use, a replaced or an expired link raises TokenInvalidError.
    A new applicant's link creates the account now."""
    row = await check_link(session, token, purpose, now, secret=secret)
    if isinstance(row, NewAccount):
        return await _create_applicant(session, row)
    # Guarded update: of two simultaneous uses, only one finds used_at still empty.
    result = await session.execute(
        sa.update(LoginToken).where(LoginToken.id == row.id, LoginToken.used_at.is_(None)).values(used_at=now)
    )
    if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise TokenInvalidError("used")
    person = await session.get(Person, row.person_id)
    assert person is not None
    return person


async def _create_applicant(session: AsyncSession, account: NewAccount) -> Person:
    person = Person(email=account.email, name=account.name, locale=account.locale)
    try:
        async with session.begin_nested():  # of two simultaneous uses, one finds the address taken
            session.add(person)
    except sa.exc.IntegrityError:
        raise TokenInvalidError("used") from None
    record_event(
        session,
        "account.created",
        actor_id=person.id,
        actor_label="apply link",
        object_type="person",
        object_id=person.id,
        after={"email": person.email},
    )
    return person


async def set_password(session: AsyncSession, person: Person, password: str, *, ip: str | None = None) -> None:
    """Set a new password (already checked by the caller) and end every other session."""
    person.password_hash = await hash_password_async(password)
    await end_all_sessions(session, person.id)
    record_event(session, "password.changed", actor_id=person.id, object_type="person", object_id=person.id, ip=ip)
    await session.flush()
