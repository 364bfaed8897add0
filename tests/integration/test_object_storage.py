"""Stored files behind AWARD_JURY_STORAGE_URL (issue 18): the same behaviour with local files and
with an S3 bucket (a real S3 server, moto's server mode on 127.0.0.1, started once per session).

A representative set runs with both backends: a deck uploaded, streamed back with its headers
and access checks, replaced and deleted after the commit; a bundle exported and imported with its
files; a certificate batch stored and downloaded. The faults (a bucket nobody answers for, a
bucket that does not exist), /readyz and backups of a bucket run with S3 only."""

from __future__ import annotations

import asyncio
import hashlib
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.bundle.files import read_bundle
from award_jury.certificates import jobs
from award_jury.certificates.models import CertificateJob
from award_jury.db import Database
from award_jury.entries.models import Attachment, Entry
from award_jury.entries.storage import Storage, settle, storage_for
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.conftest import app_client
from tests.integration.test_certificates import SLUG as CERT_SLUG
from tests.integration.test_certificates import finalised_award
from tests.integration.test_cli import Cli
from tests.support.accounts import make_organiser, page_token, post_form, sign_in_as
from tests.support.entries import applicant, freeze_clock, make_pdf, save, start_entry
from tests.support.factories import small_bundle
from tests.support.pdf import page_texts
from tests.support.pg import free_port
from tests.support.s3 import S3Server
from tests.support.setup_helpers import browser_for, field_errors, import_small

#: Bigger than one chunk of a streamed download (256 KB): the stream has several.
DECK = make_pdf(2, padding=700_000)
KEY = hashlib.sha256(DECK).hexdigest()


def base_settings(tmp_path: Path, engine_db: Database) -> Settings:
    return Settings(
        database_url=engine_db.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        base_url="http://testserver.local",
    )


@pytest.fixture(params=["file", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, engine_db: Database) -> Settings:
    """This module's settings: local files, or a prefix of its own in the test bucket."""
    base = base_settings(tmp_path, engine_db)
    if request.param == "file":
        return base
    s3: S3Server = request.getfixturevalue("s3_server")
    return replace(base, storage_url=S3Server.fresh_url(), storage_options=s3.options())


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings, database=db)) as c:
        yield c


def local_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.data_dir.rglob("*") if p.is_file() and p.name != "secret_key")


async def uploaded_deck(client: httpx.AsyncClient, db: Database, settings: Settings, deck: bytes = DECK) -> Any:
    browser = await applicant(client, db, settings)
    entry_id = await start_entry(browser)
    response = await save(browser, entry_id, {"title": "Potholes"}, deck=("Pitch deck ä.pdf", deck))
    assert response.status_code == 303, response.text[:500]
    return browser, entry_id


# -- both backends -----------------------------------------------------------------------------


async def test_a_deck_is_stored_and_streamed_back_with_its_headers_to_those_who_may_see_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    award_id = await import_small(db)
    browser, entry_id = await uploaded_deck(client, db, settings)
    storage = storage_for(settings)
    assert storage.backend == ("s3" if settings.storage_url else "file")
    assert await storage.exists(KEY) and await storage.get(KEY) == DECK
    if settings.storage_url:  # nothing of it on the app's disk
        assert local_files(settings) == []
    download = await browser.get(f"/entries/{entry_id}/deck")
    assert (download.status_code, download.content) == (200, DECK)
    assert {k: download.headers[k] for k in ("content-type", "x-content-type-options", "cache-control")} == {
        "content-type": "application/pdf",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",  # signed-in answers are never cached (web/auth.py)
    }
    assert download.headers["content-length"] == str(len(DECK))
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Pitch deck _.pdf\"; filename*=UTF-8''Pitch%20deck%20_.pdf"  # named safely on upload
    )
    assert download.headers["content-security-policy"].startswith("sandbox")
    async with app_client(create_app(settings, database=db)) as other_client:
        other = await applicant(other_client, db, settings, "other@startup.example")
        assert (await other.get(f"/entries/{entry_id}/deck")).status_code == 404
        organiser = await browser_for(other_client, db, settings, "olga@example.org", award_ids=(award_id,))
        assert (await organiser.get(f"/entries/{entry_id}/deck")).content == DECK


async def test_a_replaced_deck_and_a_deleted_draft_leave_the_storage_after_the_commit(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    await import_small(db)
    browser, entry_id = await uploaded_deck(client, db, settings)
    storage = storage_for(settings)
    second = make_pdf(3)
    replaced = await save(browser, entry_id, {"title": "Potholes"}, deck=("deck.pdf", second))
    assert replaced.status_code == 303
    await settle(storage)
    second_key = hashlib.sha256(second).hexdigest()
    assert (await storage.exists(KEY), await storage.exists(second_key)) == (False, True)
    deleted = await browser.post(f"/entries/{entry_id}/delete", {"confirm": "yes"})
    assert deleted.status_code == 303
    await settle(storage)
    assert [key async for key in storage.list_keys()] == []


def test_a_bundle_with_files_is_imported_into_and_exported_from_the_storage(
    settings: Settings, make_database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env: dict[str, str | None] = {
        "AWARD_JURY_DATABASE_URL": make_database_url("objbundle"),
        "AWARD_JURY_DATA_DIR": str(settings.data_dir),
        "AWARD_JURY_STORAGE_URL": settings.storage_url,
        **dict(settings.storage_options),
    }
    monkeypatch.chdir(tmp_path)
    cli = Cli(env)
    doc = small_bundle()
    doc["entries"][0]["attachments"] = [
        {"name": "deck.pdf", "sha256": KEY, "size": len(DECK), "media_type": "application/pdf"}
    ]
    source = tmp_path / "in.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("bundle.json", json.dumps(doc))
        zf.writestr(f"files/{KEY}", DECK)
    imported = cli("import", str(source))
    assert (imported.code, imported.out.strip()) == (0, "mini-award"), imported.err
    assert asyncio.run(storage_for(settings).get(KEY)) == DECK
    if settings.storage_url:
        assert not settings.uploads_dir.exists()
    exported = cli("export", "mini-award", "--out", str(tmp_path / "out.zip"))
    assert exported.code == 0, exported.err
    assert "1 files" in exported.out
    read_doc, files = read_bundle(tmp_path / "out.zip")
    assert files == {KEY: DECK}
    assert read_doc["entries"][0]["attachments"] == doc["entries"][0]["attachments"]


async def test_a_certificate_batch_is_stored_and_downloaded_from_the_storage(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await finalised_award(db)
    await sign_in_as(client, db, settings, await make_organiser(db))
    page = f"/awards/{CERT_SLUG}/certificates/rounds/pre-selection"
    token = await page_token(client, page)
    started = await post_form(client, f"{page}/generate", {"kind": "winner"}, token=token)
    assert started.status_code == 303
    await asyncio.gather(*list(jobs.RUNNING.values()))
    async with db.session() as s:
        job = (await s.execute(sa.select(CertificateJob))).scalar_one()
    assert (job.status, job.total) == ("done", 3)
    storage = storage_for(settings)
    stored = await storage.get(job.file_name)  # the job names the PDF by its storage key
    assert hashlib.sha256(stored).hexdigest() == job.file_name
    download = await client.get(started.headers["location"] + "/download")
    assert (download.status_code, download.content) == (200, stored)
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert len(page_texts(download.content)) == 3
    if settings.storage_url:  # only the scratch folder was local, and it is gone
        assert local_files(settings) == []


# -- S3 only: faults, readiness, backups --------------------------------------------------------


def s3_settings(tmp_path: Path, engine_db: Database, s3: S3Server, *, endpoint: str | None = None) -> Settings:
    return replace(
        base_settings(tmp_path, engine_db), storage_url=S3Server.fresh_url(), storage_options=s3.options(endpoint)
    )


@pytest.fixture
def down(tmp_path: Path, engine_db: Database, s3_server: S3Server) -> Settings:
    """S3 settings whose endpoint nobody answers (a port just closed)."""
    return s3_settings(tmp_path, engine_db, s3_server, endpoint=f"http://127.0.0.1:{free_port()}")


async def test_an_unreachable_bucket_refuses_an_upload_with_503_and_no_entry_names_a_file(
    db: Database, down: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    await import_small(db)
    async with app_client(create_app(down, database=db)) as c:
        browser = await applicant(c, db, down)
        entry_id = await start_entry(browser)
        response = await save(browser, entry_id, {"title": "Potholes"}, deck=("deck.pdf", DECK))
        assert response.status_code == 503
        assert "The file storage cannot be reached right now" in field_errors(response.text)["f-deck"]
        as_json = await save(browser, entry_id, {"title": "Potholes"}, deck=("deck.pdf", DECK), json=True)
        assert (as_json.status_code, as_json.json()["error"]) == (503, "storage-unavailable")
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Attachment))).scalar_one() == 0
        assert (await s.get(Entry, entry_id)) is not None


async def test_an_unreachable_bucket_answers_a_download_with_a_503_page(
    db: Database, down: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    award_id = await import_small(db)
    async with app_client(create_app(down, database=db)) as c:
        browser = await applicant(c, db, down)
        entry_id = await start_entry(browser)
        async with db.session() as s:
            s.add(
                Attachment(
                    entry_id=entry_id, name="d.pdf", sha256=KEY, size=1, media_type="application/pdf", storage_key=KEY
                )
            )
            await s.commit()
        page = await browser.get(f"/entries/{entry_id}/deck")
        assert (page.status_code, page.headers["retry-after"]) == (503, "30")
        assert "The file storage cannot be reached right now" in page.text
        assert "Traceback" not in page.text
        # the access check comes first: a stranger still gets 404, not a hint that a file exists
        other = await applicant(c, db, down, "other@startup.example")
        assert (await other.get(f"/entries/{entry_id}/deck")).status_code == 404
        organiser = await browser_for(c, db, down, "olga@example.org", award_ids=(award_id,))
        assert (await organiser.get(f"/entries/{entry_id}/deck")).status_code == 503


async def test_readyz_reports_the_bucket(
    db: Database, tmp_path: Path, engine_db: Database, s3_server: S3Server, down: Settings
) -> None:
    up = s3_settings(tmp_path, engine_db, s3_server)
    missing = replace(up, storage_url="s3://no-such-bucket/x")
    answers = {}
    for name, settings in (("up", up), ("down", down), ("missing", missing)):
        async with app_client(create_app(settings, database=db)) as c:
            response = await c.get("/readyz")
            answers[name] = (response.status_code, response.json())
    status, body = answers["up"]
    assert (status, body["status"]) == (200, "ok")
    assert body["storage"] == {
        "backend": "s3",
        "url": up.storage_url,
        "writable": True,
        "free_bytes": None,
        "room_for_an_upload": True,
    }
    assert [key async for key in storage_for(up).list_keys()] == []  # the probe object is gone
    for name in ("down", "missing"):
        status, body = answers[name]
        assert (status, body["status"], body["database"], body["storage"]["writable"]) == (
            503,
            "unavailable",
            {"ok": True},
            False,
        ), name
        assert body["storage"]["error"], name


def test_a_backup_copies_the_bucket_and_a_restore_puts_it_back(
    s3_server: S3Server, make_database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def cli_for(name: str, url: str) -> Cli:
        return Cli(
            {
                "AWARD_JURY_DATABASE_URL": make_database_url(name),
                "AWARD_JURY_DATA_DIR": str(tmp_path / name),
                "AWARD_JURY_STORAGE_URL": url,
                **s3_server.env(),
            }
        )

    source_url, target_url = S3Server.fresh_url(), S3Server.fresh_url()
    source = cli_for("bksrc", source_url)
    doc = small_bundle()
    doc["entries"][0]["attachments"] = [
        {"name": "deck.pdf", "sha256": KEY, "size": len(DECK), "media_type": "application/pdf"}
    ]
    bundle = tmp_path / "in.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("bundle.json", json.dumps(doc))
        zf.writestr(f"files/{KEY}", DECK)
    assert source("import", str(bundle)).code == 0
    made = source("backup", str(tmp_path / "backups"))
    assert made.code == 0, made.err
    assert made.err.strip() == f"copied 1 stored files from {source_url} into the backup"
    folder = Path(made.out.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["storage"] == source_url
    assert manifest["files"][f"files/uploads/{KEY[:2]}/{KEY}"] == {"size": len(DECK), "sha256": KEY}
    assert (folder / "files" / "uploads" / KEY[:2] / KEY).read_bytes() == DECK

    target = cli_for("bktgt", target_url)
    restored = target("restore", str(folder))
    assert restored.code == 0, restored.err
    assert f"the stored files went into {target_url}" in restored.err
    exported = target("export", "mini-award", "--out", str(tmp_path / "out.zip"))
    assert exported.code == 0, exported.err
    assert read_bundle(tmp_path / "out.zip")[1] == {KEY: DECK}
    assert not (tmp_path / "bktgt" / "uploads").exists()  # into the bucket, not the data dir


async def test_the_storage_url_decides_the_backend(tmp_path: Path, s3_server: S3Server) -> None:
    local = Settings(data_dir=tmp_path, secret_key="x" * 16)
    assert isinstance(storage_for(local), Storage) and storage_for(local).url == (tmp_path / "uploads").as_uri()
    elsewhere = replace(local, storage_url=f"file://{tmp_path / 'files'}")
    key = await storage_for(elsewhere).put(b"hello")
    assert (tmp_path / "files" / key[:2] / key).read_bytes() == b"hello"
    bucket = replace(local, storage_url=S3Server.fresh_url() + "/deeper/", storage_options=s3_server.options())
    assert storage_for(bucket).url == bucket.storage_url.rstrip("/")
