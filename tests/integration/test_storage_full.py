"""A full disk: uploads get a clear message beside the field (507), nothing is half-written or
half-saved; /readyz reports the database and the storage (writable, free space)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import httpx
import pytest

from award_jury.db import Database
from award_jury.entries.models import Entry
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.support.apps import app_client
from tests.support.entries import applicant, form_version, freeze_clock, make_pdf, save, start_entry
from tests.support.setup_helpers import field_errors, import_small


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing file contents fails as on a full disk (the data is buffered; the flush finds no room)."""

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("award_jury.entries.storage.os.fsync", no_space)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def test_an_upload_on_a_full_disk_gets_a_message_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_small(db, "mini-award")
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    before = files_in(settings.uploads_dir)
    disk_full(monkeypatch)

    response = await save(b, entry_id, {"title": "Never saved"}, deck=("deck.pdf", make_pdf(1)))
    assert response.status_code == 507
    assert field_errors(response.text)["f-deck"] == (
        "The server's storage is full, so the file could not be saved. Nothing was changed. "
        "Please try again later or tell the organisers."
    )
    b.client.cookies.set("award_jury_lang", "de")
    german = await b.client.post(
        f"/entries/{entry_id}/edit",
        data={
            "title": "Never saved",
            "action": "save",
            "version": str(await form_version(b, entry_id)),
            "_csrf_token": b.token,
        },
        files={"deck": ("deck.pdf", make_pdf(1), "application/pdf")},
        follow_redirects=False,
    )
    assert german.status_code == 507
    assert field_errors(german.text)["f-deck"].startswith("Der Speicher des Servers ist voll")

    assert files_in(settings.uploads_dir) == before  # no temporary file left behind
    async with db.session() as s:
        entry = await s.get(Entry, entry_id)
        assert entry is not None
        await s.refresh(entry, ["attachments"])
        assert (entry.title, entry.attachments) == ("", [])


async def test_readyz_reports_database_and_storage(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["storage"]["writable"] is True
    assert body["storage"]["free_bytes"] > 0
    assert files_in(settings.uploads_dir) == []  # the probe file is gone


async def test_readyz_answers_503_when_storage_is_full(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_full(monkeypatch)
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["storage"]["writable"]) == ("unavailable", {"ok": True}, False)


async def test_readyz_answers_503_when_the_database_is_unreachable(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "broken.db").write_bytes(b"this is not a database file" * 100)
    gone = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}")  # cannot be opened
    async with app_client(create_app(settings, database=gone)) as c:
        response = await c.get("/readyz")
        healthz = await c.get("/healthz")
    await gone.dispose()
    assert response.status_code == 503, response.text
    assert (response.json()["database"], response.json()["storage"]["writable"]) == ({"ok": False}, True)
    assert healthz.status_code == 503
