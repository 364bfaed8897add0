"""Clients that send slowly, too much, or all at once, against a real server (uvicorn on
127.0.0.1, its own database): a stalled body holds no lock, a huge form is refused before it is
read, concurrent sign-ins and link requests never answer 500."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import create_user
from award_jury.accounts.sessions import start_session
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.app import create_app
from award_jury.web.auth import session_policy
from tests.support.browser import LiveServer
from tests.support.csrf import csrf_token
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle, sheet_path

PASSWORD = "Kastanienallee im Herbst"
SIGNERS = 7
SAFETY = 30
EN_HEADER = {"accept-language": "en"}  # seconds: only so that a broken server fails the test instead of hanging it


@dataclass
class Site:
    server: LiveServer
    world: ScoringWorld
    juror_tokens: list[str]
    signers: list[str]

    @property
    def port(self) -> int:
        return int(self.server.url.rsplit(":", 1)[1])


async def prepare(make_database_url: Any, tmp: Path) -> tuple[Settings, ScoringWorld, list[str], list[str]]:
    url = make_database_url("hostile", migrated=True)
    db = Database.from_url(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp / "var",
        secret_key="hostile-secret-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
    )
    async with db.session() as s:
        world = await build_world(s, scoring_bundle("hostile-award", entries=4, jurors=2))
        signers = []
        for n in range(SIGNERS):
            person = await create_user(
                s, email=f"signer{n}@example.org", name=f"Signer {n}", role=Role.ORGANISER, password=PASSWORD
            )
            signers.append(person.email)
        tokens = []
        for person_id in world.jurors:
            person = await s.get(Person, person_id)
            assert person is not None
            tokens.append(await start_session(s, person, session_policy(settings), utcnow()))
    await db.dispose()
    return settings, world, tokens, signers


@pytest.fixture(scope="module")
async def site(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    settings, world, tokens, signers = await prepare(make_database_url, tmp_path_factory.mktemp("hostile"))
    server = LiveServer.start(settings)
    yield Site(server, world, tokens, signers)
    server.stop()


@pytest.fixture(scope="module")
def impatient(site: Site) -> Iterator[LiveServer]:
    """The same site with a body time limit of one second."""
    server = LiveServer.start(replace(site.server.settings, body_timeout_seconds=1))
    yield server
    server.stop()


async def client_for(site: Site, token: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=site.server.url, timeout=SAFETY)
    await client.get("/signin")  # the CSRF cookie
    if token:
        client.cookies.set(site.server.settings.session_cookie_name, token)
    return client


@dataclass
class RawRequest:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def status(self) -> int:
        line = await asyncio.wait_for(self.reader.readline(), SAFETY)
        assert line.startswith(b"HTTP/1.1 "), line
        return int(line.split()[1])

    async def answer(self) -> tuple[int, bytes]:
        status = await self.status()
        rest = await asyncio.wait_for(self.reader.read(), SAFETY)
        return status, rest

    def close(self) -> None:
        self.writer.close()


async def raw_post(
    port: int, path: str, head: dict[str, str], first: bytes, *, content_length: int | None, close: bool = True
) -> RawRequest:
    """Headers and the first bytes of a body; the rest is up to the test."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept-Language: en"]
    lines += ["Connection: close"] if close else []
    lines += [f"{k}: {v}" for k, v in head.items()]
    lines.append(f"Content-Length: {content_length}" if content_length is not None else "Transfer-Encoding: chunked")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + first)
    await writer.drain()
    return RawRequest(reader, writer)


def padded(fields: dict[str, str], size: int) -> bytes:
    body = urlencode(fields) + "&pad="
    return (body + "x" * (size - len(body))).encode()


async def save_sheet(client: httpx.AsyncClient, site: Site, ref: str, score: str) -> httpx.Response:
    return await client.post(
        sheet_path(site.world.slug, ref) + "/autosave",
        data={"version": "0", "score-innovation": score},
        headers={"x-csrftoken": csrf_token(client), "accept": "application/json"},
    )


@pytest.mark.parametrize("slow_path", ["apply-link", "sheet-autosave"])
async def test_a_stalled_body_does_not_hold_up_a_jurors_save(site: Site, slow_path: str) -> None:
    juror, slow = await client_for(site, site.juror_tokens[0]), await client_for(site, site.juror_tokens[1])
    try:
        cookies = "; ".join(f"{c.name}={c.value}" for c in slow.cookies.jar)
        if slow_path == "apply-link":
            path = f"/awards/{site.world.slug}/apply/link"
            body = padded({"email": "slow@example.org", "name": "Slow Sender"}, 100)
        else:
            path = sheet_path(site.world.slug, "E002") + "/autosave"
            body = padded({"version": "0", "score-innovation": "4"}, 100)
        head = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookies,
            "X-CSRFToken": csrf_token(slow),
            "Accept": "application/json" if slow_path != "apply-link" else "text/html",
        }
        # CSRF in a header: nothing before the handler needs the body. Three bytes, then silence.
        stalled = await raw_post(site.port, path, head, body[:3], content_length=len(body))
        await asyncio.sleep(1)  # let it get as far as it will
        saved = await save_sheet(juror, site, "E001" if slow_path == "apply-link" else "E003", "7")
        # The juror's save is done while the stalled body is still incomplete ...
        assert saved.status_code == 200, saved.text[:300]
        # ... and the stalled request, once its body arrives, is answered normally.
        stalled.writer.write(body[3:])
        await stalled.writer.drain()
        status, _rest = await stalled.answer()
        stalled.close()
        assert status == (409 if slow_path == "apply-link" else 200)  # (this award's call is closed)
    finally:
        await juror.aclose()
        await slow.aclose()


async def test_a_body_that_never_arrives_gets_408(site: Site, impatient: LiveServer) -> None:
    port = int(impatient.url.rsplit(":", 1)[1])
    probe = httpx.AsyncClient(base_url=impatient.url, timeout=SAFETY)
    try:
        await probe.get("/signin")
        token = csrf_token(probe)
        head = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"award_jury_csrf={token}",
            "X-CSRFToken": token,
        }
        stalled = await raw_post(port, "/signin", head, b"ema", content_length=100)
        status, rest = await stalled.answer()
        stalled.close()
        assert status == 408
        assert b"too slowly" in rest and b"Traceback" not in rest
        assert (await probe.get("/healthz")).status_code == 200
    finally:
        await probe.aclose()


async def test_seven_correct_sign_ins_at_once_all_succeed(site: Site) -> None:
    clients = [await client_for(site) for _ in site.signers]
    try:
        answers = await asyncio.gather(
            *(
                c.post("/signin", data={"email": email, "password": PASSWORD, "_csrf_token": csrf_token(c)})
                for c, email in zip(clients, site.signers, strict=True)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert [a.status_code for a in answers] == [303] * SIGNERS, [a.text[:200] for a in answers]


@pytest.mark.parametrize("path", ["/signin/link", "/password/forgot"])
async def test_eight_link_requests_at_once_are_all_answered(site: Site, path: str) -> None:
    clients = [await client_for(site) for _ in range(8)]
    emails = [*site.signers[:4], *(f"nobody{n}@example.org" for n in range(4))]
    try:
        answers = await asyncio.gather(
            *(
                c.post(path, data={"email": e, "_csrf_token": csrf_token(c)})
                for c, e in zip(clients, emails, strict=True)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert all(200 <= a.status_code < 400 for a in answers), [(a.status_code, a.text[:200]) for a in answers]


async def test_a_20_mb_form_is_refused_at_once_and_others_are_served(site: Site) -> None:
    size = 20 * 1024 * 1024
    probe = httpx.AsyncClient(base_url=site.server.url, timeout=SAFETY)
    try:
        await probe.get("/signin")
        head = {"Content-Type": "application/x-www-form-urlencoded"}
        # Only the first bytes are sent: the answer must not wait for the rest.
        big = await raw_post(site.port, "/signin", head, b"a=1&" * 1024, content_length=size)
        health = await probe.get("/healthz")
        assert health.status_code == 200
        assert await big.status() == 413
        big.close()
    finally:
        await probe.aclose()


async def test_a_streamed_form_is_refused_once_it_passes_the_limit(site: Site) -> None:
    """No Content-Length (chunked, like a script may send): counted as it comes, refused with 413
    while the upload is still going on; a browser keeping the connection alive gets the answer."""
    probe = httpx.AsyncClient(base_url=site.server.url, timeout=SAFETY)
    head = {"Content-Type": "application/x-www-form-urlencoded"}
    big = await raw_post(site.port, "/signin", head, b"", content_length=None, close=False)
    chunk = b"a=1&" * 16 * 1024

    async def send(megabytes: int) -> None:
        for _ in range(megabytes * 16):
            big.writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await big.writer.drain()

    try:
        await send(1)  # the first of 20 megabytes
        assert (await probe.get("/healthz")).status_code == 200
        assert await big.status() == 413  # answered before the other 19 are sent
        await send(19)
        big.writer.write(b"0\r\n\r\n")
        await big.writer.drain()
        assert (await probe.get("/healthz")).status_code == 200
    finally:
        big.close()
        await probe.aclose()


async def test_the_juror_still_can_save_normally(site: Site) -> None:
    """The sheet's own form (url-encoded, token in the body) passes the body reader unchanged."""
    juror = await client_for(site, site.juror_tokens[0])
    try:
        page = await juror.get(sheet_path(site.world.slug, "E004"))
        assert page.status_code == 200
        response = await juror.post(
            sheet_path(site.world.slug, "E004"),
            data={"version": "0", "score-innovation": "5", "comment": "ä" * 4000, "_csrf_token": csrf_token(juror)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:300]
    finally:
        await juror.aclose()
    db = Database.from_url(site.server.settings.database_url)
    try:
        async with db.session() as s:
            comments = (await s.execute(sa.text("SELECT comment FROM score_sheet"))).scalars().all()
    finally:
        await db.dispose()
    assert "ä" * 4000 in comments


# -- in the app: the pages and the mapping ------------------------------------------------------


async def test_an_oversized_form_gets_a_clear_413_page(settings: Settings, db: Database) -> None:
    from tests.support.accounts import page_token
    from tests.support.apps import app_client, shared_app

    app = shared_app(settings, db)
    async with app_client(app) as client:
        token = await page_token(client)
        form = {"email": "x@example.org", "password": "y" * (settings.max_form_bytes + 10), "_csrf_token": token}
        for lang, words in (("en", "Too much text"), ("de", "Zu viel Text")):
            response = await client.post("/signin", data=form, headers={"accept-language": lang})
            assert response.status_code == 413
            assert words in response.text and "64 KB" in response.text and "Traceback" not in response.text
        # A form posted to a route that takes a file, but without one, is a form: the form's limit.
        text = await client.post(
            "/entries/1/edit", data={**form, "title": "t"}, headers={"accept-language": "en", "x-csrftoken": token}
        )
        assert text.status_code == 413 and "Too much text" in text.text
        # Many small fields within the size: refused too (parsing them would stall the server).
        fields = b"&".join(b"a=%d" % n for n in range(1500)) + b"&_csrf_token=" + token.encode()
        many = await client.post(
            "/signin", content=fields, headers={"content-type": "application/x-www-form-urlencoded", **EN_HEADER}
        )
        assert len(fields) < settings.max_form_bytes and many.status_code == 413 and "Too much text" in many.text
        # Just under the limit is an ordinary (wrong) sign-in.
        small = {**form, "password": "y" * (settings.max_form_bytes - 200)}
        assert (await client.post("/signin", data=small, headers={"accept-language": "en"})).status_code == 400


def busy(kind: str) -> sa.exc.OperationalError:
    class PgError(Exception):
        sqlstate = "40P01"

    orig = sqlite3.OperationalError("database is locked") if kind == "sqlite" else PgError("deadlock detected")
    return sa.exc.OperationalError("INSERT INTO web_session ...", {}, orig)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_lock_contention_answers_503_with_retry_after(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from tests.support.accounts import page_token
    from tests.support.apps import app_client, shared_app

    async def too_busy(*_args: Any, **_kwargs: Any) -> Any:
        raise busy(kind)

    monkeypatch.setattr("award_jury.accounts.controllers.sign_in_with_password", too_busy)
    app = shared_app(settings, db)
    async with app_client(app) as client:
        token = await page_token(client)
        form = {"email": "x@example.org", "password": "something", "_csrf_token": token}
        for lang, words in (("en", "Temporarily unavailable"), ("de", "Vorübergehend nicht verfügbar")):
            response = await client.post("/signin", data=form, headers={"accept-language": lang})
            assert response.status_code == 503
            assert response.headers["retry-after"].isdigit()
            assert words in response.text and "Traceback" not in response.text


async def test_other_database_errors_stay_500(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.accounts import page_token
    from tests.support.apps import app_client, shared_app

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr("award_jury.accounts.controllers.sign_in_with_password", broken)
    async with app_client(shared_app(settings, db)) as client:
        token = await page_token(client)
        response = await client.post("/signin", data={"email": "x@example.org", "password": "p", "_csrf_token": token})
        assert response.status_code == 500 and "retry-after" not in response.headers


def test_every_write_handler_gets_the_write_protocol(settings: Settings) -> None:
    """The write transaction comes with the request's session (web.deps) and the body
    is read before it (web.bodies), so an unsafe handler must not open sessions of its own, and
    only handlers marked as taking a file accept more than a form."""
    from award_jury.web.bodies import SAFE_METHODS, TAKES_FILE, BodyMiddleware

    app = create_app(settings)
    takes_file = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", set())) - SAFE_METHODS
            if not methods:
                continue
            params = set(handler.parsed_fn_signature.parameters)
            assert "db" not in params or "db_session" in params, (route.path, "opens its own sessions")
            assert BodyMiddleware in handler.resolve_middleware(), route.path
            if handler.opt.get(TAKES_FILE):
                takes_file.add(route.path)
    assert takes_file == {
        "/entries/{entry_id:int}/edit",
        "/awards/{slug:str}/setup/logo",
        "/awards/{slug:str}/certificates/settings",
    }
