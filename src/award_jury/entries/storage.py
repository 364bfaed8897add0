"""File storage behind one small interface: a local folder (the embedded default) or an
S3-compatible bucket (``AWARD_JURY_STORAGE_URL=s3://bucket/prefix``).

Files are content-addressed: the key is the SHA-256 of the bytes, stored as ``<key[:2]>/<key>``
in both backends. A key never names a half-written file: locally the bytes go to a temporary
file that is moved into place; on S3 an object appears whole or not at all (obstore's puts and
multipart uploads are atomic). Every method is async; the local one does its disk work in a
thread, so a large upload or a slow disk never holds the event loop.

Failures: a full disk raises :class:`StorageFullError`, a bucket that cannot be reached or
refuses raises :class:`StorageUnavailableError` (the web app answers 507 and 503 with a page
saying so, never 500). In both cases nothing was written, so a row is only ever added after its
file is stored and no entry names a missing object.

Why obstore for S3: it is the Python face of the Rust ``object_store`` crate (the one Apache
Arrow, DataFusion and Delta Lake use), maintained, typed, native async (no thread per request
as boto3 would need), streams downloads in chunks, uploads files in parts, and reads the usual
``AWS_*`` variables. One small wheel, no botocore.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from award_jury.errors import StorageFullError, StorageUnavailableError
from award_jury.settings import parse_storage_url

if TYPE_CHECKING:
    from award_jury.settings import Settings

log = logging.getLogger("award_jury.storage")

FULL = (errno.ENOSPC, errno.EDQUOT)
CHUNK = 256 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")


def atomic_write(path: Path, data: bytes, *, prefix: str = ".part-") -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, moved into place:
    ``path`` never names a half-written file, whatever happens meanwhile. A full disk (or
    quota) raises StorageFullError, with nothing left behind."""
    _atomic(path, lambda fh: fh.write(data), prefix=prefix)


def atomic_copy(source: Path, path: Path, *, prefix: str = ".part-") -> None:
    """Copy the file ``source`` to ``path`` the same way (in blocks, never whole in memory)."""

    def copy(fh: Any) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, fh, CHUNK)

    _atomic(path, copy, prefix=prefix)


def _atomic(path: Path, write: Any, *, prefix: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    except OSError as exc:
        if exc.errno in FULL:
            raise StorageFullError(str(exc)) from exc
        raise
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # like any file the user creates (mkstemp makes it private)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in FULL:
            raise StorageFullError(str(exc)) from exc
        raise


def is_key(key: str) -> bool:
    return bool(_KEY.fullmatch(key))


def check_key(key: str) -> str:
    if not is_key(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def object_name(key: str) -> str:
    """Where a key lives inside the storage: ``ab/abcdef…`` (both backends)."""
    return f"{check_key(key)[:2]}/{key}"


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class StoredFile:
    """A stored file opened for reading: its size, and its bytes in chunks (read as they are sent)."""

    size: int
    chunks: AsyncIterator[bytes]


@runtime_checkable
class Storage(Protocol):
    #: Where the files are, for messages and /readyz (``file:///srv/files``, ``s3://bucket/prefix``).
    url: str
    #: "file" or "s3".
    backend: str

    async def put(self, data: bytes) -> str:
        """Store the bytes; return their key (the SHA-256). Storing the same bytes again is a no-op."""
        ...

    async def put_file(self, path: Path) -> str:
        """Store a local file (read in blocks, uploaded in parts); return its key."""
        ...

    async def get(self, key: str) -> bytes:
        """The whole file (small ones: logos, signatures). FileNotFoundError when it is missing."""
        ...

    async def open(self, key: str) -> StoredFile | None:
        """The file to stream, None when it is missing. Errors reaching the storage come here,
        before a response starts, so they can still become a 503 page."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove a file (callers make sure no row still names it; keys are shared by content)."""
        ...

    def delete_soon(self, keys: Iterable[str]) -> None:
        """Remove files from synchronous code (after a commit); failures are logged, never raised."""
        ...

    async def download(self, key: str, target: Path) -> None:
        """Copy a stored file to a local path, atomically, in blocks. FileNotFoundError when missing."""
        ...

    def list_keys(self) -> AsyncIterator[str]:
        """Every key stored (for backups)."""
        ...

    async def state(self, upload_bytes: int) -> dict[str, Any]:
        """For /readyz: whether a file can be written now, and (locally) the free space."""
        ...


async def open_local(path: Path) -> StoredFile | None:
    """A local file to stream in chunks (read in a thread as they are sent); None when missing."""
    try:
        fh = await asyncio.to_thread(path.open, "rb")
    except (FileNotFoundError, IsADirectoryError):
        return None
    size = os.fstat(fh.fileno()).st_size

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while block := await asyncio.to_thread(fh.read, CHUNK):
                yield block
        finally:
            fh.close()

    return StoredFile(size, chunks())


class LocalStorage:
    backend = "file"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.resolve().as_uri() if root.is_absolute() else f"file:{root.as_posix()}"

    def _path(self, key: str) -> Path:
        return self.root / object_name(key)

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self.put_sync, data)

    def put_sync(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            atomic_write(path, data, prefix=".upload-")
        return key

    async def put_file(self, path: Path) -> str:
        def work() -> str:
            key = sha256_of_file(path)
            target = self._path(key)
            if not target.exists():
                atomic_copy(path, target, prefix=".upload-")
            return key

        return await asyncio.to_thread(work)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def open(self, key: str) -> StoredFile | None:
        return await open_local(self._path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def delete_soon(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self._path(key).unlink(missing_ok=True)
            except OSError:  # left behind: an unreferenced file wastes space, nothing more
                log.warning("could not delete the unreferenced file %s", key)

    async def download(self, key: str, target: Path) -> None:
        await asyncio.to_thread(atomic_copy, self._path(key), target)

    async def list_keys(self) -> AsyncIterator[str]:
        def listing() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(p.name for p in self.root.glob("??/*") if is_key(p.name) and p.parent.name == p.name[:2])

        for key in await asyncio.to_thread(listing):
            yield key

    async def state(self, upload_bytes: int) -> dict[str, Any]:
        return await asyncio.to_thread(folder_state, self.root, upload_bytes)


def folder_state(folder: Path, upload_bytes: int) -> dict[str, Any]:
    """Whether a file can be written in ``folder`` (a small probe, written like every stored file
    and removed again), and the free space there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".ready-{uuid.uuid4().hex}"
        atomic_write(probe, b"ready", prefix=".ready-")
        probe.unlink()
        writable = True
    except (OSError, StorageFullError):
        writable = False
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    return {"backend": "file", "writable": writable, "free_bytes": free, "room_for_an_upload": free > upload_bytes}


# -- S3 ----------------------------------------------------------------------------------------

#: The usual AWS variables and the obstore setting each one gives (the process environment is
#: read by obstore too, for the rest: web identity tokens, container credentials, …).
AWS_SETTINGS = {
    "AWS_ENDPOINT_URL": "endpoint",
    "AWS_ENDPOINT": "endpoint",
    "AWS_ACCESS_KEY_ID": "access_key_id",
    "AWS_SECRET_ACCESS_KEY": "secret_access_key",
    "AWS_SESSION_TOKEN": "session_token",
    "AWS_REGION": "region",
    "AWS_DEFAULT_REGION": "region",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "virtual_hosted_style_request",
}


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


class S3Storage:
    """Objects in an S3-compatible bucket under a prefix (AWS, MinIO, Ceph, Garage, …)."""

    backend = "s3"

    def __init__(self, bucket: str, prefix: str, options: Mapping[str, str]) -> None:
        from obstore.store import S3Store

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        config: dict[str, Any] = {}
        for variable, name in AWS_SETTINGS.items():
            if options.get(variable) and name not in config:
                config[name] = options[variable]
        client: dict[str, Any] = {
            # An unreachable endpoint must fail within seconds (a 503 page, /readyz), not hang.
            "connect_timeout": timedelta(seconds=5),
            "timeout": timedelta(seconds=120),
        }
        if options.get("AWS_ALLOW_HTTP"):
            client["allow_http"] = _truthy(options["AWS_ALLOW_HTTP"])
        retry: dict[str, Any] = {
            "max_retries": 2,
            "retry_timeout": timedelta(seconds=10),
            "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=2), "base": 2},
        }
        try:
            self.store = S3Store(
                bucket,
                prefix=self.prefix or None,
                config=config,  # type: ignore[arg-type]
                client_options=client,  # type: ignore[arg-type]
                retry_config=retry,  # type: ignore[arg-type]
            )
        except Exception as exc:  # e.g. a secret key without its key id: said, never a traceback
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StorageUnavailableError(
                f"the object storage {self.url} is not configured correctly: {first}"
            ) from exc
        self._pending: set[asyncio.Task[None]] = set()

    def _fail(self, action: str, exc: BaseException) -> StorageUnavailableError:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.error("object storage %s: %s failed: %s", self.url, action, first)
        return StorageUnavailableError(f"the object storage {self.url} could not {action}: {first}")

    async def _put(self, key: str, source: bytes | Path) -> None:
        import obstore

        try:
            await obstore.put_async(self.store, object_name(key), source)
        except Exception as exc:  # the bucket is missing, refused, unreachable: nothing was stored
            raise self._fail("store a file", exc) from exc

    async def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        await self._put(key, data)
        return key

    async def put_file(self, path: Path) -> str:
        key = await asyncio.to_thread(sha256_of_file, path)
        await self._put(key, path)  # obstore reads the file in parts (multipart above 5 MB)
        return key

    async def _get(self, key: str) -> Any:
        import obstore

        try:
            return await obstore.get_async(self.store, object_name(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail("read a file", exc) from exc

    async def get(self, key: str) -> bytes:
        result = await self._get(key)
        if result is None:
            raise FileNotFoundError(key)
        try:
            return bytes(await result.bytes_async())
        except Exception as exc:
            raise self._fail("read a file", exc) from exc

    async def open(self, key: str) -> StoredFile | None:
        result = await self._get(key)
        if result is None:
            return None

        async def chunks() -> AsyncIterator[bytes]:
            # A failure now (the response has started) can only cut the download short.
            async for block in result.stream(min_chunk_size=CHUNK):
                yield bytes(block)

        return StoredFile(int(result.meta["size"]), chunks())

    async def exists(self, key: str) -> bool:
        import obstore

        try:
            await obstore.head_async(self.store, object_name(key))
        except FileNotFoundError:
            return False
        except Exception as exc:
            raise self._fail("look up a file", exc) from exc
        return True

    async def delete(self, key: str) -> None:
        import obstore

        try:
            await obstore.delete_async(self.store, object_name(key))
        except FileNotFoundError:
            return
        except Exception as exc:
            raise self._fail("delete a file", exc) from exc

    def delete_soon(self, keys: Iterable[str]) -> None:
        names = [object_name(k) for k in keys]
        if not names:
            return

        async def work() -> None:
            import obstore

            try:
                await obstore.delete_async(self.store, names)
            except Exception as exc:  # left behind: an unreferenced object costs space, nothing more
                log.warning("could not delete %d unreferenced objects from %s: %s", len(names), self.url, exc)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(work())
            return
        task = loop.create_task(work())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait for deletions started by :meth:`delete_soon` (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def download(self, key: str, target: Path) -> None:
        stored = await self.open(key)
        if stored is None:
            raise FileNotFoundError(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        fd, tmp = await asyncio.to_thread(tempfile.mkstemp, dir=target.parent, prefix=".download-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                async for block in stored.chunks:
                    await asyncio.to_thread(fh.write, block)
            await asyncio.to_thread(os.replace, tmp, target)
        except BaseException as exc:
            await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in FULL:
                raise StorageFullError(str(exc)) from exc
            if isinstance(exc, StorageFullError | StorageUnavailableError | OSError):
                raise
            if isinstance(exc, Exception):
                raise self._fail("read a file", exc) from exc
            raise

    async def list_keys(self) -> AsyncIterator[str]:
        import obstore

        try:
            async for batch in obstore.list(self.store, chunk_size=1000):
                for meta in batch:
                    folder, _, name = meta["path"].rpartition("/")
                    if is_key(name) and folder == name[:2]:
                        yield name
        except StorageUnavailableError:
            raise
        except Exception as exc:
            raise self._fail("list the files", exc) from exc

    async def state(self, upload_bytes: int) -> dict[str, Any]:
        """A small probe object written and removed again (the bucket exists and takes writes)."""
        import obstore

        probe = f".ready/{uuid.uuid4().hex}"
        error = None
        try:
            async with asyncio.timeout(8):  # a readiness check answers in seconds, whatever the bucket does
                await obstore.put_async(self.store, probe, b"ready")
                await obstore.delete_async(self.store, probe)
        except Exception as exc:
            error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("object storage %s not ready: %s", self.url, error)
        body: dict[str, Any] = {
            "backend": "s3",
            "url": self.url,
            "writable": error is None,
            "free_bytes": None,  # a bucket has no fixed size
            "room_for_an_upload": error is None,
        }
        if error is not None:
            body["error"] = error[:300]
        return body


# -- the one place that builds a storage -------------------------------------------------------


_cache: dict[tuple[Any, ...], Storage] = {}


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name (one per configuration and process: the S3 client keeps
    its connections). Every user of stored files gets it from here (the web app through the
    ``storage`` dependency)."""
    backend, location, prefix = parse_storage_url(settings.storage_url)
    if backend == "file":
        return LocalStorage(Path(location) if location else settings.uploads_dir)
    options = dict(settings.storage_options)
    cache_key = (location, prefix, tuple(sorted(options.items())))
    found = _cache.get(cache_key)
    if found is None:
        found = _cache[cache_key] = S3Storage(location, prefix, options)
    return found


async def settle(storage: Storage) -> None:
    """Wait for background deletions of ``storage`` (a no-op locally)."""
    with contextlib.suppress(AttributeError):
        await storage.settle()  # type: ignore[attr-defined]
