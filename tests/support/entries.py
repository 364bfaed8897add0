"""Helpers for the call-for-entries tests: a frozen clock, PDFs, the application form."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pypdf import PdfWriter

from award_jury.db import Database
from award_jury.settings import Settings
from tests.support.accounts import EN
from tests.support.setup_helpers import Browser, browser_for

#: Inside the small bundle's call window (2023-06-01 to 2023-08-31 23:59:59 Berlin time).
DURING_CALL = datetime(2023, 7, 1, 10, 0, tzinfo=UTC)


class Clock:
    """The server's clock as the entries pages see it; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def freeze_clock(monkeypatch: pytest.MonkeyPatch, now: datetime = DURING_CALL) -> Clock:
    clock = Clock(now)
    monkeypatch.setattr("award_jury.entries.controllers.utcnow", clock)
    return clock


def make_pdf(pages: int = 1, padding: int = 0) -> bytes:
    """A real PDF (blank pages); ``padding`` adds that many bytes in a metadata field."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if padding:
        writer.add_metadata({"/Padding": "x" * padding})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1; object 1 is the catalogue), with its xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def wide_page_tree_pdf(kids: int, declared: int | None = None) -> bytes:
    """A crafted PDF: one /Pages node with ``kids`` leaves (all the same page object: 100,000 of
    them make 600 KB), declaring ``declared`` pages (default: honestly ``kids``)."""
    refs = b" ".join([b"3 0 R"] * kids)
    count = kids if declared is None else declared
    return _assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count %d /Kids [%s] >>" % (count, refs),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ]
    )


def nested_page_tree_pdf(depth: int) -> bytes:
    """A crafted PDF: /Pages nodes nested ``depth`` deep, one page at the bottom, declaring 1 page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        objects.append(b"<< /Type /Pages /Count 1 /Kids [%d 0 R] >>" % (number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % (depth + 1))
    return _assemble_pdf(objects)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200


def complete_values(**changes: str) -> dict[str, str]:
    """Every field of the form filled in validly."""
    values = {
        "startup_name": "Strassenklar GmbH",
        "legal_form": "GmbH",
        "city": "Leipzig",
        "founded": "2021",
        "employees": "12",
        "website": "https://strassenklar.example",
        "contact_name": "Lena Berg",
        "contact_email": "lena@strassenklar.example",
        "category": "smart-city",
        "title": "Potholes reported in seconds",
        "pitch": "Citizens report road damage with one photo; the city fixes it faster.",
        "problem": "Road damage is reported late and by phone.",
        "solution": "A web app with photo, location and automatic routing to the right office.",
        "benefit": "Faster repairs, fewer accidents, less work in the office.",
        "stage": "pilot",
        "investors": "High-Tech Gründerfonds",
        "video_url": "https://video.example/pitch",
        "consent": "yes",
    }
    values.update(changes)
    return values


async def applicant(
    client: httpx.AsyncClient, db: Database, settings: Settings, email: str = "lena@strassenklar.example"
) -> Browser:
    """A signed-in person without any role yet (applying gives them the startup role)."""
    return await browser_for(client, db, settings, email, "Lena Berg", role=None)


async def start_entry(b: Browser, slug: str = "mini-award") -> int:
    response = await b.post(f"/awards/{slug}/apply")
    assert response.status_code == 303, (response.status_code, response.text[:500])
    match = re.fullmatch(r"/entries/(\d+)/edit", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


_VERSION = re.compile(r'name="version" value="(\d+)"')


async def form_version(b: Browser, entry_id: int) -> int:
    page = await b.get(f"/entries/{entry_id}/edit")
    assert page.status_code == 200, page.status_code
    match = _VERSION.search(page.text)
    assert match
    return int(match.group(1))


async def save(
    b: Browser,
    entry_id: int,
    values: dict[str, str],
    *,
    action: str = "save",
    version: int | None = None,
    deck: tuple[str, bytes] | None = None,
    json: bool = False,
) -> httpx.Response:
    """POST the application form as a browser does (multipart, with the CSRF token)."""
    if version is None:
        version = await form_version(b, entry_id)
    data: dict[str, Any] = {**values, "action": action, "version": str(version), "_csrf_token": b.token}
    files = {"deck": (deck[0], deck[1], "application/pdf")} if deck else {"deck": ("", b"", "application/octet-stream")}
    headers = {**EN, **({"accept": "application/json"} if json else {})}
    return await b.client.post(
        f"/entries/{entry_id}/edit", data=data, files=files, headers=headers, follow_redirects=False
    )
