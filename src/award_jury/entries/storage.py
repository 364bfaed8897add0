"""File storage behind one small interface, so an object store can replace the local folder later.

Files are content-addressed: the key is the SHA-256 of the bytes. Writes go to a temporary
file that is moved into place, so no key ever names a half-written file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from award_jury.errors import StorageFullError

FULL = (errno.ENOSPC, errno.EDQUOT)


def atomic_write(path: Path, data: bytes, *, prefix: str = ".part-") -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, moved into place:
    ``path`` never names a half-written file, whatever happens meanwhile. A full disk (or
    quota) raises StorageFullError, with nothing left behind."""
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
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in FULL:
            raise StorageFullError(str(exc)) from exc
        raise


@runtime_checkable  # a Litestar dependency's type is checked at each request (web/deps.provide_storage)
class Storage(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(ch not in "0123456789abcdef" for ch in key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        atomic_write(path, data, prefix=".upload-")
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove a file (callers make sure no row still names it; content-addressed keys are shared)."""
        self._path(key).unlink(missing_ok=True)
