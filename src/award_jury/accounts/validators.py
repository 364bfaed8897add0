"""Checks on account fields shared by forms, the CLI and the bundle importer."""

from __future__ import annotations

import re

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by
# the sign-in link, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= 320 and bool(_EMAIL.match(email))
