"""Helpers for the organiser's set-up tests: a signed-in browser with its CSRF token, default
form values, the messages beside the fields of a page, and the award as the database holds it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from award_jury.accounts.models import Person
from award_jury.accounts.services import create_user, get_or_create_person, grant_role
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Criterion, Round
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.enums import Role
from award_jury.settings import Settings
from tests.support.accounts import EN, page_token, post_form, sign_in_as
from tests.support.factories import small_bundle

AWARD: dict[str, str] = {
    "name": "Smart Country Award",
    "slug": "smart-country",
    "locale": "en",
    "time_zone": "Europe/Berlin",
    "description": "Startups for the public sector.",
    "primary_color": "#0b5394",
}
ROUND: dict[str, str] = {
    "name": "Pre-selection",
    "submissions_open": "2026-06-01T00:00",
    "submissions_close": "2026-08-31T23:59",
    "scoring_close": "2026-09-30T23:59",
    "method": "mean",
    "min_sheets": "3",
    "results_visible": "1",
}
CRITERION: dict[str, str] = {
    "name": "Innovation",
    "description": "How new is the idea?",
    "weight": "30",
    "min_value": "0",
    "max_value": "10",
    "step": "1",
    "levels": "",
}

_FIELD_ERROR = re.compile(
    r'<p class="field-error" id="([^"]+)-error"><span class="visually-hidden">[^<]*</span>(.*?)</p>', re.S
)
_SUMMARY_ITEM = re.compile(r'<li><a href="#([^"]+)">(.*?)</a></li>', re.S)


def field_errors(page: str) -> dict[str, str]:
    """The messages shown beside fields, by the field's id (``nk-weight``)."""
    return {m.group(1): html.unescape(m.group(2)).strip() for m in _FIELD_ERROR.finditer(page)}


def summary_errors(page: str) -> dict[str, str]:
    """The error summary's links: target id to message."""
    return {m.group(1): html.unescape(m.group(2)).strip() for m in _SUMMARY_ITEM.finditer(page)}


def input_value(page: str, field_id: str) -> str:
    """The value of ``<input id=…>`` or the text of ``<textarea id=…>``."""
    found = re.search(rf'<input id="{re.escape(field_id)}" [^>]*?value="([^"]*)"', page)
    if found is None:
        found = re.search(rf'<textarea id="{re.escape(field_id)}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, f"no field {field_id}"
    return html.unescape(found.group(1))


@dataclass
class Browser:
    """A signed-in person's client with a CSRF token for its posts."""

    client: httpx.AsyncClient
    token: str
    person_id: int

    async def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(path, headers={**EN, **(headers or {})}, follow_redirects=False)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return await post_form(self.client, path, data, token=self.token, **kwargs)

    async def ok(self, path: str, data: dict[str, Any] | None = None) -> str:
        """POST that must succeed (303); returns where it redirects to."""
        response = await self.post(path, data)
        assert response.status_code == 303, (path, response.status_code, field_errors(response.text))
        return response.headers["location"]


async def browser_for(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    email: str,
    name: str = "Olga Organiser",
    *,
    role: Role | None = Role.ORGANISER,
    award_ids: tuple[int, ...] = (),
) -> Browser:
    """Sign in a (new or existing) person: with ``award_ids`` the role is held in those awards,
    otherwise platform-wide (a platform organiser may create awards). ``role=None``: no role."""
    async with db.session() as s:
        person = (await s.execute(sa.select(Person).where(Person.email == email))).scalar_one_or_none()
        if person is None and role is not None and not award_ids:
            person = await create_user(s, email=email, name=name, role=role, locale="en")
        elif person is None:
            person = await get_or_create_person(s, email, name, "en")
        for award_id in award_ids:
            assert role is not None
            await grant_role(s, person, role, award_id)
        person_id = person.id
    await sign_in_as(client, db, settings, person_id)
    return Browser(client, await page_token(client, "/account"), person_id)


async def import_small(db: Database, slug: str = "mini-award") -> int:
    """The small bundle (two categories, one round with a submitted sheet); returns the award id."""
    async with db.session() as s:
        award = await import_bundle(s, small_bundle(slug))
        return award.id


async def load_award(db: Database, slug: str) -> Award | None:
    """The award with its categories, rounds, criteria and value descriptions."""
    async with db.session() as s:
        query = (
            sa.select(Award)
            .where(Award.slug == slug)
            .options(
                selectinload(Award.categories),
                selectinload(Award.rounds).selectinload(Round.criteria).selectinload(Criterion.levels),
            )
        )
        return (await s.execute(query)).scalar_one_or_none()


async def get_award(db: Database, slug: str) -> Award:
    award = await load_award(db, slug)
    assert award is not None, slug
    return award


async def events(db: Database, action: str) -> list[AuditEvent]:
    async with db.session() as s:
        query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list((await s.execute(query)).scalars())


async def count_rows(db: Database, model: Any) -> int:
    async with db.session() as s:
        return int((await s.execute(sa.select(sa.func.count()).select_from(model))).scalar_one())
