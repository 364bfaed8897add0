"""Hostile values in paths, queries and forms: huge and negative ids, NUL bytes. Every route of
the route table is walked with them; the answer is a clear 4xx, never a server error."""

from __future__ import annotations

import re

import httpx
import pytest

from award_jury.db import Database
from tests.integration.test_route_table import ROUTE_TABLE, World, concrete, signed_in_client, world
from tests.support.csrf import csrf_token

__all__ = ["world"]  # the fixture, used by name

HUGE = "9" * 20  # past a 64-bit integer: Python's int is fine, the database's is not
INT_VALUES = [HUGE, "-1", "-" + HUGE, "0"]
NUL = "%00"
#: the query parameters the app reads
QUERY_NAMES = ["next", "q", "lang", "page", "category", "status", "round", "state", "code", "saved", "done"]


def with_values(path: str, w: World, **override: str) -> str:
    """The route's concrete URL with some parameters replaced by raw (URL-encoded) values."""
    for name, value in override.items():
        path = re.sub(r"\{" + name + r":\w+\}", value, path)  # values hold no backslashes
    return concrete(path, w)


def params(path: str) -> list[tuple[str, str]]:
    return re.findall(r"\{(\w+):(\w+)\}", path)


async def send(client: httpx.AsyncClient, method: str, url: str, data: dict[str, str] | None = None) -> httpx.Response:
    if method == "POST":
        return await client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False)
    return await client.request(method, url, follow_redirects=False)


@pytest.mark.parametrize("role", ["organiser", "anonymous"])
async def test_every_int_path_parameter_out_of_range_answers_4xx(
    client: httpx.AsyncClient, db: Database, world: World, role: str
) -> None:
    failures = []
    await signed_in_client(client, db, world, role)
    for (method, path), _expected in sorted(ROUTE_TABLE.items()):
        for name, kind in params(path):
            if kind != "int":
                continue
            for value in INT_VALUES:
                url = with_values(path, world, **{name: value})
                response = await send(client, method, url)
                if not 300 <= response.status_code < 500:
                    failures.append(f"{method} {url} as {role}: {response.status_code}")
                elif role == "organiser" and method == "GET" and response.status_code != 404:
                    failures.append(f"{method} {url} as {role}: {response.status_code}, expected 404")
    assert failures == []


async def test_huge_entry_id_answers_404(client: httpx.AsyncClient, db: Database, world: World) -> None:
    await signed_in_client(client, db, world, "startup")
    response = await client.get(f"/entries/{HUGE}")
    assert response.status_code == 404
    assert "<title>" in response.text


async def test_nul_byte_in_static_path_answers_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/css/app.css%00.txt")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["organiser", "anonymous"])
async def test_nul_byte_in_every_str_path_parameter_and_query_answers_4xx(
    client: httpx.AsyncClient, db: Database, world: World, role: str
) -> None:
    failures = []
    for (method, path), _expected in sorted(ROUTE_TABLE.items()):
        query = "&".join(f"{name}=a{NUL}b" for name in QUERY_NAMES)
        urls = [f"{concrete(path, world)}?{query}"]
        for name, kind in params(path):
            if kind in ("str", "path"):
                urls.append(with_values(path, world, **{name: f"a{NUL}b"}))
        for url in urls:
            response = await send(client, method, url)
            if response.status_code >= 500:
                failures.append(f"{method} {url} as {role}: {response.status_code}")
            if "signout" in path:  # it ended the session
                await signed_in_client(client, db, world, role)
    assert failures == []


async def test_nul_byte_in_form_fields_never_answers_500(client: httpx.AsyncClient, db: Database, world: World) -> None:
    """Every POST route with a NUL byte inside otherwise valid-looking text (PostgreSQL refuses NUL in text)."""
    failures = []
    await signed_in_client(client, db, world, "organiser")
    for (method, path), _expected in sorted(ROUTE_TABLE.items()):
        if method != "POST":
            continue
        fields = [
            "name",
            "email",
            "title",
            "pitch",
            "comment",
            "reason",
            "description",
            "startup_name",
            "contact_name",
            "member_name",
            "private_note",
            "slug",
            "key",
            "city",
            "organisation",
        ]
        data = {f: "Valid\x00text" for f in fields} | {
            "email": "a\x00@example.org",
            "member_email": "x\x00@example.org",
        }
        response = await send(client, method, concrete(path, world), data)
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code}")
        if "signout" in path:  # it ended the session
            await signed_in_client(client, db, world, "organiser")
    assert failures == []
