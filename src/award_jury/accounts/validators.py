"""Checks on account fields shared by forms, the CLI and the bundle importer."""

from __future__ import annotations

import re
import unicodedata

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by
# the sign-in link, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= 320 and bool(_EMAIL.match(email))


MAX_NAME_LENGTH = 100
MAX_NAME_WORDS = 6
# Letters of any script, joined by single spaces, hyphens, apostrophes or dots ("Jean-Luc
# O'Brien", "J. R. R. Tolkien"): no digits, links, punctuation or control characters, so a name
# typed by a stranger cannot carry a message.
_NAME = re.compile(r"^[^\W\d_]+(?:(?:[ \-'’]|\. ?)[^\W\d_]+)*\.?$")


def is_plain_name(name: str) -> bool:
    """True for a person's name as the public apply form accepts it."""
    name = unicodedata.normalize("NFC", name)
    return len(name) <= MAX_NAME_LENGTH and len(name.split()) <= MAX_NAME_WORDS and bool(_NAME.match(name))
