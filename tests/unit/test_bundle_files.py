"""Reading a bundle from outside (``award-jury import``) is capped before anything is unpacked.

The hostile zips and JSON texts are made here, small: the caps are set low through
``BundleLimits`` (the CLI takes them from ``AWARD_JURY_IMPORT_*``). A member that claims a small
size but inflates to 64 MB, and one whose directory entry claims 1.5 GiB, are refused without the
memory to hold them.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from award_jury.bundle.files import BundleLimits, nesting_exceeds, open_bundle, read_bundle
from award_jury.errors import DomainError
from tests.support.factories import small_bundle

BUNDLE = json.dumps(small_bundle()).encode()
SMALL = BundleLimits(json_bytes=64 * 1024, file_bytes=32 * 1024, total_bytes=64 * 1024, members=4)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_zip(path: Path, members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def refusal(path: Path, limits: BundleLimits = SMALL) -> str:
    with pytest.raises(DomainError) as info, open_bundle(path, limits, path.parent / "scratch"):
        pass
    message = str(info.value)
    assert "\n" not in message
    return message


def patch_sizes(path: Path, name: str, *, file_size: int | None = None, compress_size: int | None = None) -> None:
    """Rewrite a member's sizes in its local header and its central directory entry."""
    raw = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, size_at in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = raw.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(encoded)] == encoded:
                if compress_size is not None:
                    struct.pack_into("<L", raw, at + size_at, compress_size)
                if file_size is not None:
                    struct.pack_into("<L", raw, at + size_at + 4, file_size)
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))


# ---------------------------------------------------------------- JSON


def test_deeply_nested_json_is_refused_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 30_000 + b"]" * 30_000)
    assert refusal(path) == f"{path} nests arrays and objects more than 64 levels deep"


def test_nesting_at_the_limit_is_accepted_and_one_more_is_refused() -> None:
    assert not nesting_exceeds(b'{"a":' * 63 + b"[]" + b"}" * 63, 64)
    assert nesting_exceeds(b'{"a":' * 64 + b"[]" + b"}" * 64, 64)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"pitch": "[" * 1000 + '{\\"' * 100, "x": ["]]]"]}).encode()
    assert not nesting_exceeds(text, 3)


def test_unbalanced_brackets_are_left_to_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"[[}]")
    assert refusal(path).startswith(f"{path} is not valid JSON")


def test_json_file_over_the_cap_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b'{"a": "' + b"x" * (SMALL.json_bytes + 10) + b'"}')
    assert refusal(path) == f"{path} is larger than {SMALL.json_bytes} bytes"


def test_deeply_nested_bundle_json_inside_a_zip_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "deep.zip", [("bundle.json", b"[" * 30_000 + b"]" * 30_000)])
    assert refusal(path) == f"{path}: bundle.json nests arrays and objects more than 64 levels deep"


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "points outside the bundle (..)"),
        ("files/../../etc/cron.d/x", "points outside the bundle (..)"),
        ("..\\evil.txt", "points outside the bundle (..)"),
        ("/etc/passwd", "has an absolute path"),
        ("\\windows\\system32", "has an absolute path"),
        ("C:/evil.txt", "has an absolute path"),
        ("files/notes.txt", "unexpected file"),
        (f"files/{'a' * 64}\0.txt", "contains control characters"),
    ],
)
def test_hostile_member_names_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    # zipfile cuts a name at a NUL when writing it: write "|" and put the NUL in afterwards
    path = make_zip(tmp_path / "names.zip", [("bundle.json", BUNDLE), (name.replace("\0", "|"), b"x")])
    path.write_bytes(path.read_bytes().replace(name.replace("\0", "|").encode(), name.encode()))
    message = refusal(path)
    assert message.startswith(f"{path}: ") and reason in message, message
    assert not (tmp_path / "evil.txt").exists()


def test_duplicate_member_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        make_zip(path, [("bundle.json", BUNDLE), ("bundle.json", b"{}")])
    assert refusal(path) == f"{path}: bundle.json appears twice in the zip"


def test_too_many_members_are_refused_before_reading_them(tmp_path: Path) -> None:
    files = [(f"files/{sha(str(i).encode())}", str(i).encode()) for i in range(SMALL.members + 1)]
    path = make_zip(tmp_path / "many.zip", [("bundle.json", BUNDLE), *files])
    assert refusal(path) == f"{path}: the zip has more than {SMALL.members} files"


# ---------------------------------------------------------------- sizes


def test_file_over_the_per_file_cap_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    data = bytes(range(256)) * 200  # 51,200 bytes
    path = make_zip(tmp_path / "big.zip", [("bundle.json", BUNDLE), (f"files/{sha(data)}", data)])
    assert refusal(path) == f"{path}: files/{sha(data)} unpacks to 51200 bytes, more than {SMALL.file_bytes} bytes"


def test_files_over_the_total_cap_are_refused(tmp_path: Path) -> None:
    parts = [bytes([i]) * 30_000 for i in range(3)]  # each under the file cap, together over the total
    path = make_zip(tmp_path / "total.zip", [("bundle.json", BUNDLE), *((f"files/{sha(p)}", p) for p in parts)])
    assert refusal(path) == f"{path}: the zip unpacks to more than {SMALL.total_bytes} bytes"


def test_member_compressed_beyond_the_ratio_is_refused(tmp_path: Path) -> None:
    data = bytes(3 * 1024 * 1024)  # zeros: deflate packs them about 1000:1
    limits = BundleLimits(file_bytes=4 * 1024 * 1024)
    path = make_zip(tmp_path / "ratio.zip", [("bundle.json", BUNDLE), (f"files/{sha(data)}", data)])
    assert refusal(path, limits) == f"{path}: files/{sha(data)} is compressed more than 100:1 (a zip bomb?)"


def test_a_declared_size_of_one_and_a_half_gib_is_refused_unread(tmp_path: Path) -> None:
    data = b"%PDF-1.4 small"
    name = f"files/{sha(data)}"
    path = make_zip(tmp_path / "claims.zip", [("bundle.json", BUNDLE), (name, data)], zipfile.ZIP_STORED)
    patch_sizes(path, name, file_size=3 * 512 * 1024**2, compress_size=3 * 512 * 1024**2)
    assert refusal(path, BundleLimits()) == (
        f"{path}: {name} unpacks to 1610612736 bytes, more than {BundleLimits().file_bytes / 1024**2:g} MB"
    )


def test_member_that_inflates_beyond_its_declared_size_is_refused_in_little_memory(tmp_path: Path) -> None:
    inflated = 64 * 1024 * 1024
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    stream = io.BytesIO()
    zero_block = bytes(1024 * 1024)
    for _ in range(inflated // len(zero_block)):
        stream.write(packer.compress(zero_block))
    stream.write(packer.flush())
    name = f"files/{'0' * 64}"
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bundle.json", BUNDLE)
        zf.writestr(name, b"x" * 1000)  # placeholder, replaced below with the 64 MB stream
    placeholder = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    small = placeholder.compress(b"x" * 1000) + placeholder.flush()
    raw = path.read_bytes()
    assert raw.count(small) == 1
    path.write_bytes(raw.replace(small, stream.getvalue()))
    patch_sizes(path, name, compress_size=len(stream.getvalue()))
    _fix_offsets(path, len(stream.getvalue()) - len(small))
    tracemalloc.start()
    try:
        message = refusal(path, BundleLimits())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith(f"{path}: not a readable zip file (Bad CRC-32 for file '{name}')"), message
    assert peak < 4 * 1024 * 1024, peak


def _fix_offsets(path: Path, grown: int) -> None:
    """After growing the last member's data, move the central directory's offset with it."""
    raw = bytearray(path.read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<L", raw, end + 16)[0]
    struct.pack_into("<L", raw, end + 16, offset + grown)
    path.write_bytes(bytes(raw))


def test_content_that_does_not_match_its_name_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "wrong.zip", [("bundle.json", BUNDLE), (f"files/{'a' * 64}", b"other bytes")])
    assert refusal(path) == f"{path}: files/{'a' * 64}: the content does not match its SHA-256 name"


def test_other_compression_methods_are_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bz.zip", [("bundle.json", BUNDLE)], zipfile.ZIP_BZIP2)
    assert refusal(path) == f"{path}: bundle.json uses an unsupported compression (only stored and deflate)"


def test_not_a_zip_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04 but nothing else")
    assert refusal(path).startswith(f"{path}: not a readable zip file")


# ---------------------------------------------------------------- what passes


def test_good_zip_gives_document_and_files_and_leaves_no_scratch(tmp_path: Path) -> None:
    deck = b"%PDF-1.4\n%%EOF\n"
    path = make_zip(tmp_path / "good.zip", [("bundle.json", BUNDLE), ("files/", b""), (f"files/{sha(deck)}", deck)])
    doc: Any
    with open_bundle(path, SMALL, tmp_path / "scratch") as (doc, files):
        assert dict(files) == {sha(deck): deck}
        assert list((tmp_path / "scratch").iterdir())  # the unpacked files live here meanwhile
    assert doc == small_bundle()
    assert list((tmp_path / "scratch").iterdir()) == []
    assert read_bundle(path, SMALL) == (small_bundle(), {sha(deck): deck})
