"""Consistent online backups and their restore (``award-jury backup DIR`` / ``restore DIR``).

A backup is one folder: the database (SQLite through its online backup API, so it is consistent
while the app writes; PostgreSQL through ``pg_dump --format=custom``), every file of the data
folder but the outbox and temporary work folders, the stored files when they live elsewhere (an
S3 bucket or a folder outside the data dir, ``AWARD_JURY_STORAGE_URL``: every object is copied
into ``files/uploads/`` as if it had been stored locally, and a restore puts them back into the
configured storage, whichever it is), and ``manifest.json`` with the format, the time,
the database kind, the Alembic revision and each file's size and SHA-256. It is written into a
hidden temporary folder and renamed at the end, so a crash or a full disk never leaves a folder
that looks like a complete backup. A restore checks every hash before it changes anything.

The backup holds password hashes, personal data and the secret key: keep it as safe as the
database itself (the folder is created readable by its owner only)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from award_jury.errors import DomainError, StorageFullError, StorageUnavailableError
from award_jury.settings import Settings, parse_storage_url

FORMAT = "award-jury/backup@1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
FILES = "files"
#: Parts of the data folder a backup leaves out: mails waiting as files and scratch work.
SKIPPED = ("outbox", "certificates/work", "demo")


class BackupError(DomainError):
    """A backup or restore that cannot be done; the message is one line for the operator."""


#: Where stored files go inside a backup (the layout of the local storage: uploads/ab/abcd…).
OBJECTS = f"{FILES}/uploads"


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    files: dict[str, dict[str, Any]]  # relative path -> {"size", "sha256"}
    #: The storage the files were copied from (``s3://bucket/prefix``), None when they were in the data dir.
    storage: str | None = None


def storage_is_in_data_dir(settings: Settings) -> bool:
    """Whether the stored files are inside the data dir (the default), so copying the data dir
    copies them; otherwise (S3, a folder elsewhere) they are copied through the storage."""
    backend, location, _prefix = parse_storage_url(settings.storage_url)
    if backend != "file":
        return False
    return not location or Path(location).resolve().is_relative_to(settings.data_dir.resolve())


async def _copy_objects(settings: Settings, target: Path) -> dict[str, dict[str, Any]]:
    """Every stored object into ``target/<ab>/<key>`` (streamed), each checked against its key."""
    from award_jury.entries.storage import object_name, storage_for

    storage = storage_for(settings)
    copied: dict[str, dict[str, Any]] = {}
    async for key in storage.list_keys():
        path = target / object_name(key)
        await storage.download(key, path)
        digest = await asyncio.to_thread(_sha256, path)
        if digest != key:
            raise BackupError(f"the stored file {key} in {storage.url} is damaged (its content has another hash)")
        copied[f"{OBJECTS}/{object_name(key)}"] = {"size": path.stat().st_size, "sha256": digest}
    return copied


async def _put_objects(settings: Settings, folder: Path, names: list[str]) -> int:
    from award_jury.entries.storage import storage_for

    storage = storage_for(settings)
    for name in names:
        key = await storage.put_file(folder / name)
        if key != Path(name).name:
            raise BackupError(f"the backup's file {name} does not hold the content its name says")
    return len(names)


def _storage_step(work: Any) -> Any:
    """Run a storage coroutine from this synchronous code; its failures become one-line BackupErrors."""
    try:
        return asyncio.run(work)
    except (StorageUnavailableError, StorageFullError) as exc:
        raise BackupError(str(exc) or "the file storage is full") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (folder / name).is_file():
            return str(folder / name)
    raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")


def _pg_args(settings: Settings) -> tuple[list[str], dict[str, str]]:
    url = make_url(settings.database_url)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password  # never on the command line, where `ps` shows it
    return [*args, "--dbname", url.database or "postgres"], env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603 (pg_dump/pg_restore with arguments from the settings, no shell)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{Path(command[0]).name} failed: {last}")


def _sqlite_copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _revision_sqlite(path: Path) -> str | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def _data_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        return []
    skipped = [data_dir / part for part in SKIPPED]
    return sorted(
        path
        for path in data_dir.rglob("*")
        if path.is_file() and not any(path.is_relative_to(s) for s in skipped) and not path.name.startswith(".")
    )


def backup(settings: Settings, dest: Path, *, revision_of_pg: str | None = None) -> Path:
    """Write a backup into a new folder under ``dest``; return that folder."""
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final, n = dest / f"award-jury-{stamp}", 1
    while final.exists():  # two backups in one second
        final, n = dest / f"award-jury-{stamp}-{n}", n + 1
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=dest))
    os.chmod(work, 0o700)
    try:
        files: dict[str, dict[str, Any]] = {}
        if settings.is_sqlite:
            source = _sqlite_path(settings)
            if not source.is_file():
                raise BackupError(f"the database {source} does not exist")
            target = work / SQLITE_FILE
            _sqlite_copy(source, target)  # consistent while others write: SQLite's online backup
            revision = _revision_sqlite(target)
            files[SQLITE_FILE] = {"size": target.stat().st_size, "sha256": _sha256(target)}
        else:
            args, env = _pg_args(settings)
            target = work / PG_FILE
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args], env)
            revision = revision_of_pg
            files[PG_FILE] = {"size": target.stat().st_size, "sha256": _sha256(target)}
        for path in _data_files(settings.data_dir):
            relative = path.relative_to(settings.data_dir).as_posix()
            copy = work / FILES / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            files[f"{FILES}/{relative}"] = {"size": copy.stat().st_size, "sha256": _sha256(copy)}
        storage_url = None
        if not storage_is_in_data_dir(settings):
            storage_url = settings.storage_url
            files |= _storage_step(_copy_objects(settings, work / OBJECTS))
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": _kind(settings),
            "revision": revision,
            "files": files,
            "storage": storage_url,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(work, final)  # only now does it look like a backup
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"could not write the backup: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def read_manifest(folder: Path) -> Manifest:
    """The backup's manifest, after checking every file it lists against its size and hash."""
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a backup (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("files"), dict):
        raise BackupError(f"{folder / MANIFEST} is not an award_jury backup manifest ({FORMAT})")
    for name, meta in doc["files"].items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise BackupError(f"the manifest names a file outside the backup: {name}")
        if not path.is_file():
            raise BackupError(f"the backup is incomplete: {name} is missing")
        if not isinstance(meta, dict) or path.stat().st_size != meta.get("size") or _sha256(path) != meta.get("sha256"):
            raise BackupError(f"the backup is damaged: {name} does not match its checksum")
    return Manifest(
        doc.get("created_at", ""), doc.get("database", ""), doc.get("revision"), doc["files"], doc.get("storage")
    )


def _sqlite_has_data(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(path)
    try:
        return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM person) OR EXISTS (SELECT 1 FROM award)").fetchone()[0])
    except sqlite3.OperationalError as exc:
        return "no such table" not in str(exc)  # an empty file is fine; anything else is never overwritten
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()


def restore(settings: Settings, folder: Path, *, force: bool, has_data: bool | None = None) -> Manifest:
    """Put the backup in ``folder`` in place of the configured database and data folder.
    ``has_data`` tells (for PostgreSQL) whether the target database holds an award or a person."""
    manifest = read_manifest(folder)
    if manifest.database != _kind(settings):
        raise BackupError(f"this is a {manifest.database} backup; the configured database is {_kind(settings)}")
    if settings.is_sqlite:
        target = _sqlite_path(settings)
        if _sqlite_has_data(target) and not force:
            raise BackupError(f"{target} holds data already; restore with --force to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".restoring")
        staging.unlink(missing_ok=True)
        _sqlite_copy(folder / SQLITE_FILE, staging)
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(staging, target)
    else:
        if has_data and not force:
            raise BackupError("the configured database holds data already; restore with --force to replace it")
        args, env = _pg_args(settings)
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(folder / PG_FILE),
            ],
            env,
        )
    objects = []
    remote = not storage_is_in_data_dir(settings)
    for name in manifest.files:
        if remote and name.startswith(OBJECTS + "/") and _is_object_name(name.removeprefix(OBJECTS + "/")):
            objects.append(name)  # into the configured storage (the bucket), below
        elif name.startswith(FILES + "/"):
            target_file = settings.data_dir / name.removeprefix(FILES + "/")
            target_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, target_file)
    if objects:
        _storage_step(_put_objects(settings, folder, objects))
    return manifest


def _is_object_name(name: str) -> bool:
    from award_jury.entries.storage import is_key

    prefix, _, key = name.partition("/")
    return is_key(key) and prefix == key[:2]
