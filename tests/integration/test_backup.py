"""``award-jury backup`` / ``restore``: a consistent online backup of the database and the files,
proven by restoring it into a fresh database and data folder and comparing what comes out."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from award_jury.awards.models import Award
from award_jury.db import Database
from tests.support.cli import Cli, canonical, write_json
from tests.support.factories import small_bundle

DECK = b"%PDF-1.4\n" + os.urandom(4096) + b"\n%%EOF\n"


def make_cli(url: str, data_dir: Path) -> Cli:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWARD_JURY_")}
    return Cli(env | {"AWARD_JURY_DATABASE_URL": url, "AWARD_JURY_DATA_DIR": str(data_dir)})


@pytest.fixture
def source(make_database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    cli = make_cli(make_database_url("bsrc"), tmp_path / "var")
    assert cli("db", "upgrade").code == 0
    assert cli("import", str(write_json(tmp_path / "bundle.json", small_bundle()))).code == 0
    deck = tmp_path / "var" / "uploads" / "ab" / "deck.pdf"
    deck.parent.mkdir(parents=True)
    deck.write_bytes(DECK)
    (tmp_path / "var" / "outbox").mkdir()
    (tmp_path / "var" / "outbox" / "waiting.eml").write_text("not part of a backup")
    return cli


def only_line(result: Any) -> str:
    assert result.code == 1 and result.out == "", (result.code, result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    return str(result.err_lines[0])


def test_backup_restores_into_a_fresh_database_with_the_same_award_and_files(
    source: Cli, make_database_url: Any, tmp_path: Path
) -> None:
    made = source("backup", str(tmp_path / "backups"))
    assert made.code == 0, made.err
    folder = Path(made.out.strip())
    assert folder.parent == tmp_path / "backups" and folder.name.startswith("award-jury-")
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no partial folder left beside it
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "award-jury/backup@1" and manifest["revision"]
    assert "files/uploads/ab/deck.pdf" in manifest["files"]
    assert not any("outbox" in name for name in manifest["files"])

    target = make_cli(make_database_url("bdst"), tmp_path / "restored")
    restored = target("restore", str(folder))
    assert restored.code == 0, restored.err
    assert (tmp_path / "restored" / "uploads" / "ab" / "deck.pdf").read_bytes() == DECK
    before, after = source("export", "mini-award"), target("export", "mini-award")
    assert after.code == 0, after.err
    assert canonical(json.loads(after.out)) == canonical(json.loads(before.out)) == canonical(small_bundle())


def test_restore_refuses_a_database_with_data_unless_forced(source: Cli, tmp_path: Path) -> None:
    folder = Path(source("backup", str(tmp_path / "backups")).out.strip())
    line = only_line(source("restore", str(folder)))
    assert "holds data already" in line and "--force" in line
    assert source("restore", "--force", str(folder)).code == 0
    assert source("export", "mini-award").code == 0


def test_a_damaged_backup_is_refused_before_anything_changes(
    source: Cli, make_database_url: Any, tmp_path: Path
) -> None:
    folder = Path(source("backup", str(tmp_path / "backups")).out.strip())
    deck = folder / "files" / "uploads" / "ab" / "deck.pdf"
    deck.write_bytes(deck.read_bytes()[:-1] + b"!")
    target = make_cli(make_database_url("bbad"), tmp_path / "restored")
    assert "damaged" in only_line(target("restore", str(folder)))
    assert not (tmp_path / "restored" / "uploads").exists()  # (the settings made its secret key, no more)
    assert "not a backup" in only_line(target("restore", str(tmp_path)))


def test_a_full_disk_leaves_no_backup_that_looks_complete(
    source: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copy2", full)
    line = only_line(source("backup", str(tmp_path / "backups")))
    assert "could not write the backup" in line and "No space left on device" in line
    assert list((tmp_path / "backups").iterdir()) == []


def test_a_backup_taken_while_the_app_writes_restores_whole(
    source: Cli, make_database_url: Any, tmp_path: Path
) -> None:
    """A writer renames the award in a loop (its own thread and connection) while backups are
    taken; each backup restores into a fresh database and exports a whole award (SQLite: the
    online backup API; PostgreSQL: pg_dump's snapshot)."""
    url = source.env["AWARD_JURY_DATABASE_URL"] or ""
    stop = threading.Event()
    renamed = []

    async def write() -> None:
        db = Database.from_url(url)
        try:
            while not stop.is_set():
                async with db.session() as s:
                    await s.execute(
                        sa.update(Award).where(Award.slug == "mini-award").values(name=f"Mini Award {len(renamed)}")
                    )
                renamed.append(1)
        finally:
            await db.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(write()))
    thread.start()
    try:
        made = [source("backup", str(tmp_path / "backups")) for _ in range(2)]
    finally:
        stop.set()
        thread.join()
    assert renamed, "the writer never wrote"
    for n, result in enumerate(made):
        assert result.code == 0, result.err
        target = make_cli(make_database_url(f"bcon{n}"), tmp_path / f"restored{n}")
        assert target("restore", result.out.strip()).code == 0
        exported = target("export", "mini-award")
        assert exported.code == 0, exported.err
        assert json.loads(exported.out)["award"]["name"].startswith("Mini Award")
        if url.startswith("sqlite"):
            conn = sqlite3.connect(Path(result.out.strip()) / "database.sqlite3")
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            conn.close()
