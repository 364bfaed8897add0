"""Two-factor sign-in (TOTP, RFC 6238) with one-time recovery codes.

- Turning it on: the set-up page shows a new secret (QR code and text); the secret travels in
  the form sealed with the secret key and bound to the person (nothing is stored until the
  person types a valid code, the password and submits). Then the secret is stored sealed and ten
  recovery codes are shown once; only their SHA-256 is kept.
- Signing in: after the password (or an e-mail link) a :class:`PendingSignIn` holds the half-done
  sign-in server-side for five minutes; the browser has only a random token. The code step is
  rate-limited like passwords. A code is accepted for the current time step and one either side
  (clock skew), and never twice: the newest used step is stored and codes of it or older steps
  are refused. A recovery code works once.
- Regenerating recovery codes and turning it off need the password and a code (or a recovery code).
Every change is audited without any secret."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import ratelimit, totp
from award_jury.accounts.models import PendingSignIn, Person, RecoveryCode, TwoFactor
from award_jury.accounts.sealing import seal, unseal
from award_jury.accounts.sessions import hash_token, new_token
from award_jury.audit.services import record_event
from award_jury.errors import RateLimitedError, SecondFactorFailedError

PENDING_LIFETIME = timedelta(minutes=5)
#: How long a set-up page's secret can be confirmed (scanning and typing take a while).
SETUP_LIFETIME = timedelta(hours=1)
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, lower case
_RECOVERY_LENGTH = 12  # 60 random bits, shown as xxxx-xxxx-xxxx
_CONFUSED = str.maketrans({"o": "0", "i": "1", "l": "1"})


# --- the secret ---------------------------------------------------------------------------------


def _secret_purpose(person_id: int) -> str:
    return f"totp-secret:{person_id}"


def _setup_purpose(person_id: int) -> str:
    return f"totp-setup:{person_id}"


def new_setup(secret_key: str, person_id: int, now: datetime) -> tuple[str, str]:
    """A new secret and the sealed value the set-up form carries (bound to the person and the time)."""
    secret = totp.new_secret()
    return secret, seal(secret_key, _setup_purpose(person_id), f"{int(now.timestamp())}:{secret}")


def read_setup(secret_key: str, person_id: int, sealed: str, now: datetime) -> str | None:
    """The secret of a genuine, recent set-up form of this person, else None."""
    opened = unseal(secret_key, _setup_purpose(person_id), sealed) if len(sealed) < 500 else None
    if opened is None:
        return None
    issued, _, secret = opened.partition(":")
    if not issued.isdigit() or now.timestamp() - int(issued) > SETUP_LIFETIME.total_seconds():
        return None
    return secret


def secret_of(secret_key: str, row: TwoFactor) -> str | None:
    """The stored secret, or None when it cannot be opened (the secret key changed)."""
    return unseal(secret_key, _secret_purpose(row.person_id), row.secret_sealed)


async def two_factor_of(session: AsyncSession, person_id: int) -> TwoFactor | None:
    return await session.get(TwoFactor, person_id)


async def recovery_codes_left(session: AsyncSession, person_id: int) -> int:
    query = sa.select(sa.func.count()).where(RecoveryCode.person_id == person_id, RecoveryCode.used_at.is_(None))
    return int((await session.execute(query)).scalar_one())


# --- recovery codes -----------------------------------------------------------------------------


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def _normalise_recovery_code(text: str) -> str | None:
    raw = "".join(ch for ch in text.lower() if ch not in " -_\t").translate(_CONFUSED)
    if len(raw) != _RECOVERY_LENGTH or any(ch not in _RECOVERY_ALPHABET for ch in raw):
        return None
    return raw


def _recovery_hash(person_id: int, normalised: str) -> str:
    return hashlib.sha256(f"award-jury recovery code\x00{person_id}\x00{normalised}".encode()).hexdigest()


async def _replace_recovery_codes(session: AsyncSession, person_id: int, now: datetime) -> list[str]:
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.person_id == person_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    normalised = [_normalise_recovery_code(code) for code in codes]
    session.add_all(
        RecoveryCode(person_id=person_id, code_hash=_recovery_hash(person_id, n), created_at=now)
        for n in normalised
        if n is not None
    )
    await session.flush()
    return codes


# --- changes --------------------------------------------------------------------------------------


async def enable(
    session: AsyncSession, person: Person, secret: str, code: str, now: datetime, *, secret_key: str, ip: str
) -> list[str]:
    """Turn two-factor sign-in on with the set-up's ``secret`` once ``code`` is one of its
    current codes; returns the new recovery codes (shown once). SecondFactorFailedError for a
    wrong code, RateLimitedError after too many."""
    hit_ids = await _take_attempt(session, person, now, ip)
    step = totp.matching_step(secret, code, now.timestamp())
    if step is None:
        _record_failure(session, person, "setup", ip)
        raise SecondFactorFailedError("wrong code")
    await ratelimit.forget(session, hit_ids)
    await session.execute(sa.delete(TwoFactor).where(TwoFactor.person_id == person.id))
    session.add(
        TwoFactor(
            person_id=person.id,
            secret_sealed=seal(secret_key, _secret_purpose(person.id), secret),
            enabled_at=now,
            last_used_step=step,
        )
    )
    codes = await _replace_recovery_codes(session, person.id, now)
    record_event(
        session,
        "two_factor.enabled",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        after={"recovery_codes": len(codes)},
        ip=ip,
    )
    return codes


async def regenerate_recovery_codes(session: AsyncSession, person: Person, now: datetime, *, ip: str) -> list[str]:
    """New recovery codes (the caller checked the password and a code); the old ones stop working."""
    codes = await _replace_recovery_codes(session, person.id, now)
    record_event(
        session,
        "two_factor.recovery_codes_replaced",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        after={"recovery_codes": len(codes)},
        ip=ip,
    )
    return codes


async def disable(session: AsyncSession, person: Person, *, ip: str | None, by_operator: bool = False) -> None:
    """Turn two-factor sign-in off: by the person (the caller checked the password and a code),
    or by the operator on the command line for someone who lost both app and recovery codes."""
    await session.execute(sa.delete(TwoFactor).where(TwoFactor.person_id == person.id))
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.person_id == person.id))
    await session.execute(sa.delete(PendingSignIn).where(PendingSignIn.person_id == person.id))
    record_event(
        session,
        "two_factor.disabled",
        actor_id=None if by_operator else person.id,
        actor_label="command line" if by_operator else "",
        object_type="person",
        object_id=person.id,
        ip=ip,
    )
    await session.flush()


# --- checking a code ------------------------------------------------------------------------------


def _limits(person: Person, ip: str) -> list[tuple[ratelimit.Limit, str]]:
    email = person.email.lower()
    return [
        (ratelimit.TWO_FACTOR_FAILURES_PER_PAIR, ratelimit.pair(email, ip)),
        (ratelimit.TWO_FACTOR_FAILURES_PER_IP, ip),
        (ratelimit.TWO_FACTOR_FAILURES_PER_EMAIL, email),
    ]


async def _take_attempt(session: AsyncSession, person: Person, now: datetime, ip: str) -> list[int]:
    try:
        return await ratelimit.take(session, _limits(person, ip), now)
    except RateLimitedError:
        record_event(
            session, "two_factor.refused", actor_id=person.id, object_type="person", object_id=person.id, ip=ip
        )
        raise


def _record_failure(session: AsyncSession, person: Person, where: str, ip: str) -> None:
    record_event(
        session,
        "two_factor.failed",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        after={"step": where},
        ip=ip,
    )


async def check_second_factor(
    session: AsyncSession, person: Person, code: str, now: datetime, *, secret_key: str, ip: str, where: str
) -> str:
    """Accept a current code from the app or an unused recovery code of ``person``, using it up;
    returns "totp" or "recovery". Counted by the rate limits first (RateLimitedError), then
    SecondFactorFailedError for anything else. ``where`` names the form in the audit trail."""
    hit_ids = await _take_attempt(session, person, now, ip)
    kind = await _use_code(session, person, code, now, secret_key=secret_key)
    if kind is None:
        _record_failure(session, person, where, ip)
        raise SecondFactorFailedError("wrong code")
    await ratelimit.forget(session, hit_ids)
    await ratelimit.clear(session, ratelimit.TWO_FACTOR_FAILURES_PER_PAIR, ratelimit.pair(person.email.lower(), ip))
    if kind == "recovery":
        record_event(
            session,
            "two_factor.recovery_code_used",
            actor_id=person.id,
            object_type="person",
            object_id=person.id,
            after={"left": await recovery_codes_left(session, person.id), "step": where},
            ip=ip,
        )
    return kind


async def _use_code(session: AsyncSession, person: Person, code: str, now: datetime, *, secret_key: str) -> str | None:
    row = await two_factor_of(session, person.id)
    if row is None or len(code) > 100:
        return None
    if totp.normalise_code(code) is not None:
        secret = secret_of(secret_key, row)
        step = totp.matching_step(secret, code, now.timestamp(), after=row.last_used_step) if secret else None
        if step is None:
            return None
        # Guarded update: of two requests with the same code, only one moves the step on.
        result = await session.execute(
            sa.update(TwoFactor)
            .where(TwoFactor.person_id == person.id, TwoFactor.last_used_step < step)
            .values(last_used_step=step)
            .execution_options(synchronize_session=False)
        )
        if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
            return None
        await session.refresh(row)
        return "totp"
    normalised = _normalise_recovery_code(code)
    if normalised is None:
        return None
    result = await session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.code_hash == _recovery_hash(person.id, normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return "recovery" if (result.rowcount or 0) == 1 else None  # type: ignore[attr-defined]


# --- the half-done sign-in --------------------------------------------------------------------------


async def start_pending(
    session: AsyncSession, person: Person, now: datetime, *, method: str, target: str, ip: str
) -> str:
    """Hold a sign-in that passed its first step; returns the token for the browser's cookie.
    Expired holds of anyone are swept on the way."""
    await session.execute(sa.delete(PendingSignIn).where(PendingSignIn.expires_at <= now))
    token = new_token()
    session.add(
        PendingSignIn(
            token_hash=hash_token(token),
            person_id=person.id,
            method=method,
            target=target[:2000],
            created_at=now,
            expires_at=now + PENDING_LIFETIME,
            ip=ip,
        )
    )
    record_event(
        session,
        "signin.code_asked",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        after={"method": method},
        ip=ip,
    )
    await session.flush()
    return token


async def load_pending(session: AsyncSession, token: str | None, now: datetime) -> tuple[PendingSignIn, Person] | None:
    """The live half-done sign-in of a cookie token, or None (unknown, expired, account disabled)."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            sa.select(PendingSignIn, Person)
            .join(Person, Person.id == PendingSignIn.person_id)
            .where(PendingSignIn.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    pending, person = row
    if now >= pending.expires_at or not person.is_active:
        return None
    return pending, person


async def end_pending(session: AsyncSession, pending: PendingSignIn) -> None:
    """The second step is done: this and any other half-done sign-in of the person (another tab) end."""
    await session.execute(sa.delete(PendingSignIn).where(PendingSignIn.person_id == pending.person_id))
