"""Award logos: checked by content, SVG stripped of anything active, served inert."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.awards.models import Award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.csrf import csrf_token
from tests.support.factories import small_bundle

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
    b"<script>alert(1)</script><style>@import url(http://evil.example/x.css)</style>"
    b'<rect width="10" height="10" fill="url(http://evil.example/p)"/><image href="file:///etc/passwd"/>'
    b'<use xlink:href="http://evil.example/a.svg#x"/><circle r="3" fill="#0b5394"/></svg>'
)


async def organiser(client: httpx.AsyncClient, db: Database, settings: Settings) -> str:
    async with db.session() as s:
        award = await import_bundle(s, small_bundle())
        person = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, person, Role.ORGANISER, award.id)
        token = await start_session(s, person, session_policy(settings), utcnow())
    client.cookies.set(settings.session_cookie_name, token)
    page = await client.get("/awards/mini-award/setup")
    return csrf_token(page)


async def upload(client: httpx.AsyncClient, token: str, data: bytes, name: str = "logo.png") -> httpx.Response:
    return await client.post(
        "/awards/mini-award/setup/logo",
        data={"_csrf_token": token},
        files={"logo": (name, data, "image/png")},
        follow_redirects=False,
    )


async def test_png_logo_is_stored_and_served_with_its_type(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings)
    assert (await upload(client, token, PNG)).status_code == 303
    served = await client.get("/awards/mini-award/logo")
    assert (served.status_code, served.headers["content-type"], served.content) == (200, "image/png", PNG)
    page = await client.get("/awards/mini-award")
    assert 'src="/awards/mini-award/logo"' in page.text


async def test_svg_logo_loses_scripts_styles_and_outside_references(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings)
    assert (await upload(client, token, EVIL_SVG, "logo.svg")).status_code == 303
    served = await client.get("/awards/mini-award/logo")
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in served.headers["content-security-policy"]
    body = served.text
    for bad in ("script", "onload", "evil.example", "passwd", "<style", "<image"):
        assert bad not in body
    assert '<circle r="3" fill="#0b5394"' in body


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"GIF89a" + b"\0" * 100, "logo.png", "Upload a PNG, JPEG or SVG image."),
        (b"%PDF-1.4 not an image", "logo.svg", "Upload a PNG, JPEG or SVG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>", "logo.svg", "This SVG file cannot be read."),
        (b"<svg>" + b"<g>" * 10 + b"</svg>", "logo.svg", "This SVG file cannot be read."),
        (PNG + b"\0" * (1024 * 1024), "logo.png", "The logo may be at most 1 MB."),
    ],
)
async def test_bad_logo_is_refused_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, data: bytes, name: str, message: str
) -> None:
    token = await organiser(client, db, settings)
    response = await upload(client, token, data, name)
    assert response.status_code == 400
    assert message in response.text
    async with db.session() as s:
        assert (await s.execute(sa.select(Award.logo_key))).scalar_one() is None


async def test_award_without_logo_answers_404(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    await organiser(client, db, settings)
    assert (await client.get("/awards/mini-award/logo")).status_code == 404
