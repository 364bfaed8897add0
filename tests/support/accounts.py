"""Helpers for the account and invitation tests: cookies, people, sessions, the outbox."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from award_jury.accounts import passwords
from award_jury.accounts.models import Person, WebSession
from award_jury.accounts.services import create_user, get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.audit.models import AuditEvent
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.csrf import csrf_token

HOST = "testserver.local"
SESSION_COOKIE = "award_jury_session"
EN = {"accept-language": "en"}
PASSWORD = "correct horse battery"


def choose_language(client: httpx.AsyncClient, lang: str) -> None:
    """The visitor's language choice (the cookie the language switcher sets)."""
    client.cookies.set("award_jury_lang", lang, domain=HOST, path="/")


async def page_token(client: httpx.AsyncClient, path: str = "/signin") -> str:
    """GET a page (which also sets the CSRF cookie) and return its form token."""
    response = await client.get(path, headers=EN)
    assert response.status_code == 200, (path, response.status_code)
    return csrf_token(response.text)


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a form with the CSRF token (pass ``token=""`` to leave it out); never follows redirects."""
    body = dict(data or {})
    if token:
        body["_csrf_token"] = token
    return await client.post(path, data=body, headers={**EN, **(headers or {})}, follow_redirects=False)


@dataclass(frozen=True)
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]

    def has(self, flag: str) -> bool:
        return flag.lower() in self.attributes


def set_cookies(response: httpx.Response) -> dict[str, SetCookie]:
    """The response's Set-Cookie headers by cookie name (attribute names lower-cased)."""
    found: dict[str, SetCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        attributes: dict[str, str] = {}
        for part in rest:
            key, _, val = part.partition("=")
            attributes[key.strip().lower()] = val.strip()
        found[name] = SetCookie(name, value.strip('"'), attributes)
    return found


def new_session_token(response: httpx.Response, name: str = SESSION_COOKIE) -> str:
    cookie = set_cookies(response).get(name)
    assert cookie is not None and cookie.value, f"no {name} cookie in {response.headers.get_list('set-cookie')}"
    return cookie.value


def plant_cookie(client: httpx.AsyncClient, value: str, name: str = SESSION_COOKIE) -> None:
    """Put a session cookie into the client's jar (replacing the one the server set)."""
    client.cookies.set(name, value, domain=HOST, path="/")


def session_cookie_in_jar(client: httpx.AsyncClient, name: str = SESSION_COOKIE) -> str | None:
    for cookie in client.cookies.jar:
        if cookie.name == name:
            return cookie.value
    return None


async def make_organiser(db: Database, email: str = "olga@example.org", name: str = "Olga Organiser") -> int:
    """A platform-wide organiser with the password PASSWORD."""
    async with db.session() as s:
        person = await create_user(s, email=email, name=name, role=Role.ORGANISER, password=PASSWORD, locale="en")
        return person.id


async def make_person(
    db: Database,
    email: str,
    name: str,
    *,
    locale: str = "en",
    password: str | None = None,
    role: Role | None = None,
    award_id: int | None = None,
) -> int:
    """A person (optionally with a password and a per-award role)."""
    async with db.session() as s:
        person = await get_or_create_person(s, email, name, locale)
        if password is not None:
            person.password_hash = passwords.hash_password(password)
        if role is not None:
            await grant_role(s, person, role, award_id)
        await s.flush()
        return person.id


async def open_session(db: Database, settings: Settings, person_id: int) -> str:
    """Sign a person in without the sign-in form (another device, or a quicker test setup)."""
    async with db.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        return await start_session(s, person, session_policy(settings), utcnow(), ip="192.0.2.1", method="test")


async def sign_in_as(client: httpx.AsyncClient, db: Database, settings: Settings, person_id: int) -> str:
    token = await open_session(db, settings, person_id)
    plant_cookie(client, token)
    return token


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD, *, next: str = "") -> httpx.Response:
    token = await page_token(client, "/")  # (the sign-in page itself redirects a signed-in person)
    return await post_form(client, "/signin", {"email": email, "password": password, "next": next}, token=token)


async def session_rows(db: Database, person_id: int | None = None) -> list[WebSession]:
    async with db.session() as s:
        query = sa.select(WebSession).order_by(WebSession.id)
        if person_id is not None:
            query = query.where(WebSession.person_id == person_id)
        return list((await s.execute(query)).scalars())


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id))).scalars())


def outbox(settings: Settings) -> list[EmailMessage]:
    """The .eml files written so far, oldest first."""
    if not settings.outbox_dir.exists():
        return []
    files = sorted(settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [parse_mail(p.read_bytes()) for p in files]


def parse_mail(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def mail_parts(msg: EmailMessage) -> tuple[str, str]:
    """The text and the HTML part of a message."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "the mail needs a text and an HTML part"
    return text.get_content(), html.get_content()


def link_token(msg: EmailMessage, path: str) -> str:
    """The token of the ``<base URL><path>/<token>`` link in both parts of a mail."""
    text, html = mail_parts(msg)
    pattern = re.compile(rf"http://{re.escape(HOST)}{re.escape(path)}/([A-Za-z0-9_-]{{20,}})")
    in_text, in_html = pattern.search(text), pattern.search(html)
    assert in_text and in_html, f"no {path} link in the mail"
    assert in_text.group(1) == in_html.group(1)
    return in_text.group(1)


#: The production hasher, kept before the suite swaps in cheap parameters (``use_cheap_argon2``).
PRODUCTION_HASHER = passwords._hasher


def use_cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters: the tests make many wrong guesses and create many people, each
    costs a hash (about 0.1 s of CPU and 64 MiB with the production parameters, a second on a
    busy machine). tests/conftest.py uses them for the whole run, the live servers included.

    The production parameters are checked by a test of their own (``PRODUCTION_HASHER``)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("award-jury timing equaliser"))
