"""Reading and writing bundle files: ``.json``, or ``.zip`` with ``bundle.json`` and ``files/<sha256>``."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from award_jury.entries.storage import Storage, is_key
from award_jury.errors import DomainError

MAX_ZIP_TOTAL = 2 * 1024**3  # uncompressed bytes we accept from one zip (guards against zip bombs)
_FILE_NAME = re.compile(r"^files/([0-9a-f]{64})$")


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _loads(text: bytes, where: str) -> Any:
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DomainError(f"{where} is not valid JSON: {exc}") from None


def read_bundle(path: Path) -> tuple[Any, dict[str, bytes]]:
    """The bundle document and, for a zip, its files keyed by SHA-256."""
    if not path.is_file():
        raise DomainError(f"{path}: no such file")
    if path.suffix.lower() != ".zip":
        return _loads(path.read_bytes(), str(path)), {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL:
                raise DomainError(f"{path}: the zip unpacks to more than {MAX_ZIP_TOTAL // 1024**3} GiB")
            names = {i.filename for i in infos}
            if "bundle.json" not in names:
                raise DomainError(f"{path}: the zip has no bundle.json")
            unexpected = sorted(n for n in names if n != "bundle.json" and not _FILE_NAME.match(n) and n != "files/")
            if unexpected:
                raise DomainError(f"{path}: unexpected file {unexpected[0]!r} in the zip (only bundle.json and files/)")
            doc = _loads(zf.read("bundle.json"), f"{path}: bundle.json")
            files = {m.group(1): zf.read(n) for n in sorted(names) if (m := _FILE_NAME.match(n))}
    except zipfile.BadZipFile:
        raise DomainError(f"{path}: not a readable zip file") from None
    return doc, files


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
