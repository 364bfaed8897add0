"""What a real uvicorn server, run with the options ``award-jury serve`` gives it, makes of the
client: X-Forwarded-For counts only from configured proxies, and link tokens
stay out of the access log. Each test has a database of its own."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.audit.models import AuditEvent
from award_jury.cli import uvicorn_options
from award_jury.db import Database
from award_jury.settings import Settings, SettingsError
from tests.support.browser import LiveServer
from tests.support.csrf import csrf_token

FORGED = "203.0.113.5"


async def _failed_sign_in_ips(url: str) -> list[str | None]:
    db = Database.from_url(url)
    async with db.session() as s:
        ips = list((await s.execute(sa.select(AuditEvent.ip).where(AuditEvent.action == "signin.failed"))).scalars())
    await db.dispose()
    return ips


def recorded_ip(make_database_url: Any, tmp_path: Path, trusted: tuple[str, ...]) -> list[str | None]:
    """Sign in wrongly twice through a live server, each time claiming another client address in
    X-Forwarded-For; the IPs the audit log recorded."""
    url = make_database_url("proxy", migrated=True)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "var",
        secret_key="proxy-secret-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
        trusted_proxies=trusted,
    )
    server = LiveServer.start(settings)
    try:
        with httpx.Client(base_url=server.url) as client:
            page = client.get("/signin")
            token = csrf_token(page)
            for n in (5, 6):
                response = client.post(
                    "/signin",
                    data={"email": "olga@example.org", "password": "wrong password", "_csrf_token": token},
                    headers={"x-forwarded-for": f"203.0.113.{n}", "host": "127.0.0.1:8000"},
                )
                assert response.status_code == 400
    finally:
        server.stop()
    return asyncio.run(_failed_sign_in_ips(url))


def test_forwarded_for_is_ignored_by_default(make_database_url: Any, tmp_path: Path) -> None:
    assert uvicorn_options(Settings())["proxy_headers"] is False
    assert recorded_ip(make_database_url, tmp_path, ()) == ["127.0.0.1", "127.0.0.1"]


def test_forwarded_for_counts_from_a_trusted_proxy(make_database_url: Any, tmp_path: Path) -> None:
    assert recorded_ip(make_database_url, tmp_path, ("127.0.0.1",)) == ["203.0.113.5", "203.0.113.6"]


def test_trusted_proxies_come_from_the_environment() -> None:
    env = {"AWARD_JURY_SECRET_KEY": "x" * 20}
    assert Settings.from_env(env).trusted_proxies == ()
    assert Settings.from_env(env | {"AWARD_JURY_TRUSTED_PROXIES": " 10.0.0.2, 192.168.0.0/24 "}).trusted_proxies == (
        "10.0.0.2",
        "192.168.0.0/24",
    )
    options = uvicorn_options(replace(Settings(), trusted_proxies=("10.0.0.2", "192.168.0.0/24")))
    assert options == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.2,192.168.0.0/24"}
    with pytest.raises(SettingsError, match="AWARD_JURY_TRUSTED_PROXIES"):
        Settings.from_env(env | {"AWARD_JURY_TRUSTED_PROXIES": "*"})


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_access_log_shows_no_tokens(make_database_url: Any, tmp_path: Path) -> None:
    """Sign-in, reset and invitation links reach uvicorn's access log with their token blanked."""
    url = make_database_url("accesslog", migrated=True)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "var",
        secret_key="log-secret-0123456789abcdef",
        base_url="http://127.0.0.1:8000",
    )
    secret = "Zq3xSecretTokenValue_0123456789-abcdefghij"
    paths = [f"/signin/link/{secret}?next=/account", f"/password/reset/{secret}", f"/invitations/{secret}"]
    server = LiveServer.start(settings, log_level="info")
    captured = Captured()
    logging.getLogger("uvicorn.access").addHandler(captured)
    try:
        with httpx.Client(base_url=server.url, headers={"host": "127.0.0.1:8000"}) as client:
            for path in paths:
                assert client.get(path).status_code == 400
            client.post(f"/signin/link/{secret}")  # (403 without the CSRF token: logged all the same)
            # an account deletion link opened while signed out goes to the sign-in page and back
            assert client.get(f"/account/delete/{secret}").status_code == 303
            assert client.get(f"/signin?next=%2Faccount%2Fdelete%2F{secret}").status_code == 200
    finally:
        server.stop()
        logging.getLogger("uvicorn.access").removeHandler(captured)
    logged = [
        line for line in captured.lines if "/signin/link/" in line or "/reset/" in line or "/invitations/" in line
    ]
    assert len(logged) == 4, captured.lines
    assert not any(secret in line for line in captured.lines)
    assert any('"GET /signin/link/…?next=/account HTTP/1.1" 400' in line for line in logged), logged
    assert any("/password/reset/…" in line for line in logged) and any("/invitations/…" in line for line in logged)
    assert any('"GET /account/delete/… HTTP/1.1" 303' in line for line in captured.lines), captured.lines
    assert any("next=%2Faccount%2Fdelete%2F… HTTP/1.1" in line for line in captured.lines), captured.lines
