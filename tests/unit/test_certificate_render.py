"""Certificates read back from real PDFs: text, pages, embedded fonts, PDF/A metadata, pixels;
and the security of the renderer (no file, no network, nothing active from any value)."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from award_jury.certificates.codes import LENGTH, new_code, normalise_code
from award_jury.certificates.context import (
    CertificateContext,
    Signatory,
    earned_certificates,
    place_label,
    select_kind,
)
from award_jury.certificates.fetcher import RefusedURLError, StaticOnlyFetcher
from award_jury.certificates.render import (
    DocumentMeta,
    TextTemplateError,
    html_document,
    html_to_pdf,
    merge_pdfs,
    missing_characters,
    render_html,
    render_pdf,
    render_text,
    write_pdf,
)
from award_jury.certificates.services import qr_data_uri
from award_jury.settings import STATIC_DIR
from tests.support.pdf import catalog, fonts, ink_ratio, page_texts, reader, xmp

PASSWD = "file:///etc/passwd"
HOSTILE = [
    f'<img src="{PASSWD}">',
    f"<style>body {{ background: url('{PASSWD}') }}</style>",
    f'<link rel="attachment" href="{PASSWD}">',
    f'<link rel="stylesheet" href="{PASSWD}">',
    '<img src="http://127.0.0.1:9/x.png">',
]


def context(**changes: Any) -> CertificateContext:
    code = "7KQ2-M9XD-4TZP-C8WA"
    url = f"https://awards.example.org/verify/{code}"
    base = CertificateContext(
        lang="de",
        kind="winner",
        award="Smart Country Startup Award",
        category="Smart City",
        startup="Straßenklar GmbH",
        round="Finale",
        place="1. Platz",
        text="Für eine Lösung, die Kommunen Zeit spart.",
        date_line="Berlin, 3. Dezember 2026",
        code=code,
        verify_url=url,
        qr=qr_data_uri(url),
        colour="#0b5394",
        colour_text="#ffffff",
        signatories=(Signatory("Dr. Anna Beispiel", "Vorsitzende der Jury"),),
    )
    return replace(base, **changes)


META = DocumentMeta(title="Urkunden – Smart Country Startup Award", author="Smart Country Startup Award", lang="de")


@pytest.fixture(scope="module")
def winner_pdf() -> bytes:
    return render_pdf([context()], META)


def test_certificate_pdf_has_names_place_and_code(winner_pdf: bytes) -> None:
    [text] = page_texts(winner_pdf)
    flat = " ".join(text.split())
    assert "Straßenklar GmbH" in flat
    assert "1. Platz" in flat.upper().title() or "1. PLATZ" in flat
    assert "7KQ2-M9XD-4TZP-C8WA" in flat
    assert "Smart City" in flat
    assert "Dr. Anna Beispiel" in flat
    assert "Berlin, 3. Dezember 2026" in flat


def test_certificate_pdf_embeds_the_shipped_fonts_as_subsets(winner_pdf: bytes) -> None:
    used = fonts(winner_pdf)
    assert used and all(used.values()), used
    families = {name.split("+", 1)[1].split("-")[0] for name in used}
    assert families == {"AwardSerif", "AwardSans"}
    # subset tags (ABCDEF+Name) show the fonts are subsets, not whole files
    assert all(len(name.split("+", 1)[0]) == 7 for name in used)


def test_certificate_pdf_is_pdfa_3b_with_title_author_language(winner_pdf: bytes) -> None:
    meta = reader(winner_pdf).metadata
    assert meta is not None
    assert meta.title == META.title
    assert meta.author == META.author
    assert catalog(winner_pdf)["/Lang"] == "de"
    assert "/OutputIntents" in catalog(winner_pdf)
    packet = xmp(winner_pdf)
    assert 'pdfaid:part="3"' in packet and 'pdfaid:conformance="B"' in packet
    assert META.title in packet


def test_certificate_first_page_is_not_blank(winner_pdf: bytes) -> None:
    assert ink_ratio(winner_pdf) > 0.02


def test_certificate_is_a4_landscape_by_default_and_portrait_on_request(winner_pdf: bytes) -> None:
    box = reader(winner_pdf).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (297, 210)
    portrait = render_pdf([context(orientation="portrait")], replace(META, orientation="portrait"))
    box = reader(portrait).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)


def test_english_certificate_says_place_and_kind_in_english() -> None:
    pdf = render_pdf([context(lang="en", place=place_label(2, "en"))], replace(META, lang="en"))
    flat = " ".join(page_texts(pdf)[0].split()).lower()
    assert "2nd place" in flat and "certificate" in flat and "awarded to" in flat


def test_german_certificate_is_in_german() -> None:
    pdf = render_pdf([context(kind="finalist", place="")], META)
    flat = " ".join(page_texts(pdf)[0].split()).lower()
    assert "urkunde" in flat and "finalist" in flat


def test_many_certificates_one_a_page_and_merged_parts_keep_pdfa_identity() -> None:
    names = [f"Startup {i}" for i in range(5)]
    first = render_pdf([context(startup=n) for n in names[:3]], META)
    second = render_pdf([context(startup=n) for n in names[3:]], META)
    merged = merge_pdfs([first, second])
    texts = page_texts(merged)
    assert len(texts) == 5
    assert [n in t for n, t in zip(names, texts, strict=True)] == [True] * 5
    assert 'pdfaid:part="3"' in xmp(merged)
    assert catalog(merged)["/Lang"] == "de"
    assert reader(merged).metadata.title == META.title  # type: ignore[union-attr]
    assert all(fonts(merged).values())


def test_preview_carries_a_watermark() -> None:
    pdf = render_pdf([context(preview=True)], META)
    assert "VORSCHAU" in page_texts(pdf)[0]


# -- security ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_startup_name_and_text_are_printed_as_text_and_fetch_nothing(payload: str) -> None:
    fetcher = StaticOnlyFetcher()
    html = render_html([context(startup=payload, text=payload, award=payload)], META)
    pdf = write_pdf(html_document(html, fetcher))
    assert "root:" not in pdf.decode("latin-1")
    assert "/EmbeddedFiles" not in pdf.decode("latin-1")
    assert "passwd" in " ".join(page_texts(pdf)[0].split()) or "127.0.0.1" in page_texts(pdf)[0]
    assert fetcher.refused == []
    assert all(u.startswith("data:") or u.startswith(STATIC_DIR.resolve().as_uri()) for u in fetcher.seen)


@pytest.mark.parametrize("payload", HOSTILE)
def test_fetcher_refuses_hostile_markup_even_if_it_reached_the_html(payload: str) -> None:
    """Defence in depth: were a value ever printed unescaped, the fetcher still refuses."""
    fetcher = StaticOnlyFetcher()
    html = render_html([context()], META).replace("<body>", "<body>" + payload)
    pdf = html_to_pdf(html, fetcher)
    raw = pdf.decode("latin-1")
    assert "root:x:0:0" not in raw and "/EmbeddedFiles" not in raw
    assert fetcher.refused, fetcher.seen
    assert all(
        u.startswith("data:") or u.startswith(STATIC_DIR.resolve().as_uri())
        for u in fetcher.seen
        if u not in fetcher.refused
    )


def test_organiser_text_is_sandboxed_and_escaped() -> None:
    with pytest.raises(TextTemplateError):
        render_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    with pytest.raises(TextTemplateError):
        render_text("{% for x in range(10**9) %}{{ x }}{% endfor %}{{ undefined_name }}", {})
    text = render_text(f'Gratulation {{{{ startup }}}}! <img src="{PASSWD}">', {"startup": "<b>X</b>"})
    assert text == f'Gratulation <b>X</b>! <img src="{PASSWD}">'  # plain text; the template escapes it
    fetcher = StaticOnlyFetcher()
    pdf = write_pdf(html_document(render_html([context(text=text)], META), fetcher))
    assert "<b>X</b>" in page_texts(pdf)[0] and fetcher.refused == []


def test_fetcher_allows_only_static_files_and_data_uris(tmp_path: Path) -> None:
    fetcher = StaticOnlyFetcher()
    font = (STATIC_DIR / "fonts" / "Lato-Regular.ttf").resolve().as_uri()
    assert fetcher.fetch(font).read()[:4] == b"\x00\x01\x00\x00"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    traversal = (STATIC_DIR / "fonts").resolve().as_uri() + "/../../pyproject.toml"
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    link = STATIC_DIR / "fonts" / "link-for-test.txt"
    for url in [
        PASSWD,
        traversal,
        outside.as_uri(),
        "http://127.0.0.1:9/",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "file://otherhost/etc/passwd",
        "gopher://x",
        "javascript:alert(1)",
    ]:
        with pytest.raises((RefusedURLError, ValueError)):
            fetcher.fetch(url)
    try:
        link.symlink_to(outside)
        with pytest.raises(RefusedURLError):
            fetcher.fetch(link.resolve().as_uri() if False else link.absolute().as_uri())
    finally:
        link.unlink(missing_ok=True)


def test_rendering_makes_no_network_request(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    fetcher = StaticOnlyFetcher()
    hostile = " ".join(HOSTILE)
    html = render_html([context(startup=hostile)], META).replace("<body>", "<body>" + hostile)
    html_to_pdf(html, fetcher)
    assert attempts == []
    assert "http://127.0.0.1:9/x.png" in fetcher.refused


# -- fonts, codes, kinds ----------------------------------------------------------------------


def test_missing_characters_finds_emoji_but_not_german_or_latin() -> None:
    assert missing_characters("Straßenklar GmbH – Übermorgen, Łódź, Ærø, “quoted”") == []
    assert missing_characters("Rocket 🚀 GmbH 🚀") == ["🚀"]
    assert missing_characters("北京 AG") == ["北", "京"]
    assert missing_characters("Smile ☺️", "sans") == ["☺"]


def test_codes_are_unguessable_unique_and_forgiving() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    code = next(iter(codes))
    assert len(code.replace("-", "")) == LENGTH == 16  # 16 x 5 bits = 80 random bits
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code("7kq2m9xd4tzpc8wa") == "7KQ2-M9XD-4TZP-C8WA"
    assert normalise_code("OIL0-0000-0000-0000") == "0110-0000-0000-0000"
    assert normalise_code("too-short") is None
    assert normalise_code("UUUU-UUUU-UUUU-UUUU") is None
    assert normalise_code("<script>") is None


def test_place_labels_in_german_and_english() -> None:
    assert [place_label(n, "de") for n in (1, 2, 3)] == ["1. Platz", "2. Platz", "3. Platz"]
    assert [place_label(n, "en") for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == [
        "1st place",
        "2nd place",
        "3rd place",
        "4th place",
        "11th place",
        "12th place",
        "13th place",
        "21st place",
        "22nd place",
    ]


def document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"categories": [{"category": "smart-city", "entries": entries}]}


def test_kinds_follow_spec_in_first_and_later_rounds() -> None:
    doc = document(
        [
            {"ref": "A", "startup": "A", "rank": 1, "winner": True},
            {"ref": "B", "startup": "B", "rank": 2, "winner": False},
            {"ref": "C", "startup": "C", "rank": None, "winner": False},
        ]
    )
    first = {e.ref: (e.kind.value, e.rank) for e in earned_certificates(doc, first_round=True)}
    later = {e.ref: (e.kind.value, e.rank) for e in earned_certificates(doc, first_round=False)}
    assert first == {"A": ("winner", 1), "B": ("participant", None), "C": ("participant", None)}
    assert later == {"A": ("winner", 1), "B": ("finalist", 2), "C": ("participant", None)}
    assert [e.ref for e in select_kind(earned_certificates(doc, first_round=False), "finalist")] == ["B"]
    assert len(select_kind(earned_certificates(doc, first_round=False), "all")) == 3
