"""Time-based one-time passwords (RFC 6238, on HOTP of RFC 4226): the codes authenticator apps
show. Pure standard library, written out here instead of depending on ``pyotp`` because the
caller needs the time step a code matched (to refuse a code that was used already), which
pyotp's ``verify`` does not give; tested against the RFC's own test vectors."""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

PERIOD = 30
DIGITS = 6
#: Accepted clock skew, in time steps either side of now.
SKEW = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends


def new_secret() -> str:
    """A random secret in base 32 (what authenticator apps take), without padding."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def secret_bytes(secret_b32: str) -> bytes:
    clean = secret_b32.replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC of the 8-byte counter, dynamic truncation, the last ``digits`` digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), algorithm).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(unix_time: float, *, period: int = PERIOD) -> int:
    return int(unix_time // period)


def totp(key: bytes, unix_time: float, *, digits: int = DIGITS, algorithm: str = "sha1", period: int = PERIOD) -> str:
    return hotp(key, time_step(unix_time, period=period), digits=digits, algorithm=algorithm)


def normalise_code(text: str) -> str | None:
    """The six digits of a typed code (spaces and hyphens forgiven), or None when it is not one."""
    digits = "".join(ch for ch in text if ch not in " -\t")
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def matching_step(secret_b32: str, code: str, unix_time: float, *, after: int | None = None) -> int | None:
    """The time step (now, or one either side for clock skew) whose code is ``code``, or None.
    Steps up to ``after`` (the last one used) never match: a code works once."""
    typed = normalise_code(code)
    if typed is None:
        return None
    key = secret_bytes(secret_b32)
    now = time_step(unix_time)
    found = None
    for step in range(now - SKEW, now + SKEW + 1):  # compare all three, whatever matches
        if hmac.compare_digest(hotp(key, step), typed) and (after is None or step > after) and found is None:
            found = step
    return found


def provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` address a QR code carries (Google Authenticator's key URI format)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": PERIOD})
    return f"otpauth://totp/{label}?{query}"


def grouped(secret_b32: str) -> str:
    """The secret in groups of four for typing by hand (``ABCD EFGH …``)."""
    return " ".join(secret_b32[i : i + 4] for i in range(0, len(secret_b32), 4))
