"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)
and the rules for new passwords."""

from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
#: At most this many hashes are computed at once (each takes tens of milliseconds of CPU and
#: argon2's 64 MiB of memory); further requests wait their turn without blocking the event loop.
HASH_WORKERS = max(1, min(4, os.cpu_count() or 1))

_hasher = PasswordHasher()
#: Verifying against this keeps a sign-in for an unknown address as slow as for a known one.
_DUMMY_HASH = _hasher.hash("award-jury timing equaliser")


_pool = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="argon2")


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in the hashing threads (argon2 lets go of the GIL): the event loop
    goes on answering other requests meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` in the hashing threads (see :func:`hash_password_async`)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_password, password_hash, password)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; takes about as long when there is no hash at all."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    lines = Path(__file__).with_name("common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _stem(password: str) -> str:
    return re.sub(r"[\d\W_]+$", "", password.lower())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable (an English sentence for the CLI), or None.

    The web forms show the same rules through :func:`password_problem_code`."""
    code = password_problem_code(password, email=email, name=name)
    return None if code is None else PROBLEM_TEXT[code]


PROBLEM_TEXT = {
    "too_short": f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
    "too_long": f"the password must have at most {MAX_PASSWORD_LENGTH} characters",
    "too_common": "this password is too common; please choose another",
    "too_simple": "the password is too simple",
    "personal": "the password must not contain your e-mail address or name",
}


def password_problem_code(password: str, *, email: str = "", name: str = "") -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or _stem(password) in common:
        return "too_common"
    if len(set(password)) < 4:
        return "too_simple"
    local = email.split("@", 1)[0].lower()
    if (len(local) >= 4 and local in lowered) or any(len(p) >= 4 and p.lower() in lowered for p in name.split()):
        return "personal"
    return None
