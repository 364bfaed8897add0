"""Verification codes: 80 random bits (``secrets``) in Crockford's base 32, printed in groups
of four (``7KQ2-M9XD-4TZP-C8WA``). Reading one back forgives case, spaces, missing hyphens and
the letters people confuse with digits (O for 0, I and L for 1)."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS = 80
LENGTH = BITS // 5  # 16 characters
_CONFUSED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _grouped(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_code() -> str:
    number = secrets.randbits(BITS)
    chars = []
    for _ in range(LENGTH):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return _grouped("".join(chars))


def normalise_code(text: str) -> str | None:
    """The canonical form of a typed or scanned code, or None when it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch not in " -_\t").translate(_CONFUSED)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return _grouped(raw)
