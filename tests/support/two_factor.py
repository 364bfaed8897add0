"""Helpers for the two-factor tests: the secret shown on the set-up page, codes of a time step,
turning two-factor sign-in on without the pages."""

from __future__ import annotations

import html
import re
import time

from award_jury.accounts import totp
from award_jury.accounts.models import Person
from award_jury.accounts.twofactor import enable, new_setup
from award_jury.db import Database, utcnow
from award_jury.settings import Settings

_SECRET = re.compile(r'<p class="secret-key"><code[^>]*>([A-Z2-7 ]+)</code>')
_SETUP = re.compile(r'name="setup" value="([^"]+)"')
_RECOVERY = re.compile(r"<li><code[^>]*>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>")


def secret_on_page(page: str) -> str:
    match = _SECRET.search(page)
    assert match, "the set-up page shows no key"
    return match.group(1).replace(" ", "")


def setup_field(page: str) -> str:
    match = _SETUP.search(page)
    assert match, "the set-up page has no setup field"
    return html.unescape(match.group(1))


def recovery_codes_on_page(page: str) -> list[str]:
    return _RECOVERY.findall(page)


def code(secret: str, steps_from_now: int = 0) -> str:
    """The code of the time step ``steps_from_now`` away from now."""
    return totp.hotp(totp.secret_bytes(secret), totp.time_step(time.time()) + steps_from_now)


async def turn_on(db: Database, settings: Settings, person_id: int) -> tuple[str, list[str]]:
    """Two-factor sign-in on for the person (its current step used up); the secret and the codes."""
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        secret, _sealed = new_setup(settings.secret_key, person_id, utcnow())
        codes = await enable(s, person, secret, code(secret), utcnow(), secret_key=settings.secret_key, ip="192.0.2.9")
        return secret, codes
