"""Reading and writing bundle files: ``.json``, or ``.zip`` with ``bundle.json`` and ``files/<sha256>``.

A bundle comes from outside, so reading one is capped before anything is unpacked (SPEC §1:
every refusal is one line): the JSON's size and nesting depth; for a zip the size of the zip and
of its central directory, the number of members, each member's name (no absolute paths, no
``..``, no duplicates, only ``bundle.json`` and ``files/<sha256>``), its declared size and
compression ratio, and then the bytes it really inflates to while it is streamed. Files are
streamed into a scratch folder (hashed on the way) and read back one at a time, so memory holds
at most one file of at most ``BundleLimits.file_bytes``.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from award_jury.entries.storage import Storage, is_key
from award_jury.errors import DomainError

if TYPE_CHECKING:
    from award_jury.settings import Settings

MiB = 1024 * 1024
_FILE_NAME = re.compile(r"^files/([0-9a-f]{64})$")
_CHUNK = 64 * 1024
#: The largest legitimate central directory entry (46 bytes + our short names + a zip64 extra
#: field) is far below this; a directory larger than members × this is refused unread.
_DIRECTORY_BYTES_PER_MEMBER = 1024
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"


@dataclass(frozen=True)
class BundleLimits:
    """Caps on what one bundle may unpack to (settings ``AWARD_JURY_IMPORT_*``)."""

    json_bytes: int = 32 * MiB
    file_bytes: int = 20 * MiB
    total_bytes: int = 1024 * MiB
    members: int = 10_000
    #: uncompressed ÷ compressed size a member above ``ratio_floor`` bytes may have
    ratio: int = 100
    ratio_floor: int = MiB
    #: arrays and objects inside each other (a real bundle needs 6)
    depth: int = 64

    @classmethod
    def from_settings(cls, settings: Settings) -> BundleLimits:
        return cls(
            json_bytes=settings.import_max_json_bytes,
            file_bytes=settings.import_max_file_bytes,
            total_bytes=settings.import_max_total_bytes,
            members=settings.import_max_files,
        )


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _size(n: int) -> str:
    return f"{n / MiB:g} MB" if n >= MiB else f"{n} bytes"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------- JSON

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


def nesting_exceeds(data: bytes, depth: int) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``depth`` deep.

    Strings are blanked and everything but brackets dropped; each pass then removes the
    innermost pairs (in C, no recursion). Brackets that do not pair up are left for the parser
    to report."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    for _ in range(depth):
        if not brackets:
            return False
        brackets, removed = _EMPTY_PAIR.subn(b"", brackets)
        if not removed:
            return False
    return bool(brackets) and _EMPTY_PAIR.search(brackets) is not None


def loads(data: bytes, where: str, limits: BundleLimits) -> Any:
    """Parse a bundle's JSON; a document nested deeper than the limit is refused unparsed."""
    if len(data) > limits.json_bytes:
        raise DomainError(f"{where} is larger than {_size(limits.json_bytes)}")
    if nesting_exceeds(data, limits.depth):
        raise DomainError(f"{where} nests arrays and objects more than {limits.depth} levels deep")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DomainError(f"{where} is not valid JSON: {exc}") from None
    except RecursionError:  # cannot happen after the check above; never a traceback if it does
        raise DomainError(f"{where} nests arrays and objects too deeply") from None


# ---------------------------------------------------------------- zip


class BundleFiles(Mapping[str, bytes]):
    """A bundle's files by SHA-256, unpacked into a scratch folder and read one at a time."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self._folder = folder
        self._names = names

    def __getitem__(self, sha: str) -> bytes:
        if sha not in self._names:
            raise KeyError(sha)
        return (self._folder / sha).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _directory_size(path: Path) -> tuple[int, int]:
    """(members, bytes) of the zip's central directory, as its end record declares them
    (read before zipfile loads the directory, so a huge one is refused unread)."""
    with path.open("rb") as fp:
        fp.seek(0, 2)
        size = fp.tell()
        tail_start = max(0, size - _END_OF_DIRECTORY.size - 0xFFFF)
        fp.seek(tail_start)
        tail = fp.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY.size:
        raise zipfile.BadZipFile("no end of central directory")
    fields = _END_OF_DIRECTORY.unpack_from(tail, at)
    return fields[4], fields[5]


def _check_name(info: zipfile.ZipInfo, where: str) -> None:
    name = info.orig_filename
    if any(ord(c) < 32 for c in name):
        raise DomainError(f"{where}: a member's name {name!r} contains control characters")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise DomainError(f"{where}: the member {name!r} has an absolute path")
    if ".." in re.split(r"[/\\]", name):
        raise DomainError(f"{where}: the member {name!r} points outside the bundle (..)")
    if name not in ("bundle.json", "files/") and not _FILE_NAME.match(name):
        raise DomainError(f"{where}: unexpected file {name!r} in the zip (only bundle.json and files/)")


def _check_declared(info: zipfile.ZipInfo, where: str, limits: BundleLimits) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise DomainError(f"{where}: {name} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DomainError(f"{where}: {name} uses an unsupported compression (only stored and deflate)")
    cap = limits.json_bytes if name == "bundle.json" else limits.file_bytes
    if info.file_size > cap:
        raise DomainError(f"{where}: {name} unpacks to {info.file_size} bytes, more than {_size(cap)}")
    if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
        raise DomainError(f"{where}: {name} is compressed more than {limits.ratio}:1 (a zip bomb?)")


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes] | _Hashing, where: str) -> None:
    """Copy a member's bytes to ``out``, never more than it declared (zipfile stops there and
    checks the CRC, so a member that inflates to more than it declared is refused as damaged)."""
    written = 0
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise DomainError(f"{where}: {info.filename} unpacks to more than its declared {info.file_size} bytes")
            out.write(chunk)


def _unpack(path: Path, limits: BundleLimits, scratch: Path) -> tuple[Any, BundleFiles]:
    where = str(path)
    if path.stat().st_size > limits.total_bytes + limits.json_bytes:
        raise DomainError(f"{where}: the zip is larger than {_size(limits.total_bytes + limits.json_bytes)}")
    members, directory_bytes = _directory_size(path)
    if members > limits.members + 2:  # + bundle.json and the files/ folder
        raise DomainError(f"{where}: the zip has more than {limits.members} files")
    if directory_bytes > (limits.members + 2) * _DIRECTORY_BYTES_PER_MEMBER:
        raise DomainError(f"{where}: the zip's directory is larger than {limits.members} files need")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        seen: set[str] = set()
        total = 0
        for info in infos:
            _check_name(info, where)
            if info.filename in seen:
                raise DomainError(f"{where}: {info.filename} appears twice in the zip")
            seen.add(info.filename)
            _check_declared(info, where, limits)
            if _FILE_NAME.match(info.filename):
                total += info.file_size
        if len(seen - {"bundle.json", "files/"}) > limits.members:
            raise DomainError(f"{where}: the zip has more than {limits.members} files")
        if total > limits.total_bytes:
            raise DomainError(f"{where}: the zip unpacks to more than {_size(limits.total_bytes)}")
        if "bundle.json" not in seen:
            raise DomainError(f"{where}: the zip has no bundle.json")

        json_file = scratch / "bundle.json"
        with json_file.open("wb") as out:
            _stream(zf, zf.getinfo("bundle.json"), out, where)
        doc = loads(json_file.read_bytes(), f"{where}: bundle.json", limits)
        json_file.unlink()

        names: list[str] = []
        for info in sorted(infos, key=lambda i: i.filename):
            match = _FILE_NAME.match(info.filename)
            if not match:
                continue
            sha = match.group(1)
            digest = hashlib.sha256()
            part = scratch / f"{sha}.part"
            with part.open("wb") as out:
                _stream(zf, info, _Hashing(out, digest), where)
            if digest.hexdigest() != sha:
                raise DomainError(f"{where}: {info.filename}: the content does not match its SHA-256 name")
            part.rename(scratch / sha)
            names.append(sha)
    return doc, BundleFiles(scratch, names)


class _Hashing:
    """A write-only file that also feeds a hash."""

    def __init__(self, out: IO[bytes], digest: Any) -> None:
        self._out = out
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._out.write(data)


@contextmanager
def open_bundle(
    path: Path, limits: BundleLimits | None = None, scratch_dir: Path | None = None
) -> Iterator[tuple[Any, Mapping[str, bytes]]]:
    """The bundle document and, for a zip, its files keyed by SHA-256 (valid inside the block)."""
    limits = limits or BundleLimits()
    if not path.is_file():
        raise DomainError(f"{path}: no such file")
    if path.suffix.lower() != ".zip":
        with path.open("rb") as fp:
            data = fp.read(limits.json_bytes + 1)
        yield loads(data, str(path), limits), {}
        return
    if scratch_dir is not None:
        scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="import-", dir=scratch_dir) as tmp:
        try:
            unpacked = _unpack(path, limits, Path(tmp))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, struct.error) as exc:
            raise DomainError(f"{path}: not a readable zip file ({_first_line(exc)})") from None
        except OSError as exc:
            raise DomainError(f"{path}: cannot unpack the zip into {tmp}: {_first_line(exc)}") from None
        yield unpacked


def read_bundle(path: Path, limits: BundleLimits | None = None) -> tuple[Any, dict[str, bytes]]:
    """``open_bundle`` with the files read into memory (small bundles, tests)."""
    with open_bundle(path, limits) as (doc, files):
        return doc, dict(files)


async def write_bundle(doc: dict[str, Any], path: Path, storage: Storage) -> int:
    """Write ``doc`` to ``path`` (zip with files when it ends in .zip); returns the number of files.
    Each file is copied from the storage (a folder or a bucket) into the zip in chunks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("bundle.json", dumps(doc))
                written: set[str] = set()
                for entry in doc.get("entries", []):
                    for att in entry.get("attachments", []):
                        sha = att["sha256"]
                        if sha in written or not is_key(sha):
                            continue
                        stored = await storage.open(sha)
                        if stored is None:
                            continue
                        with zf.open(f"files/{sha}", "w", force_zip64=stored.size > 2**31) as out:
                            async for block in stored.chunks:
                                out.write(block)
                        written.add(sha)
                count = len(written)
        else:
            tmp.write_text(dumps(doc), encoding="utf-8")
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
