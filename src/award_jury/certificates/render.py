"""Certificates as PDF: plain-value contexts → Jinja2 HTML (``templates/certificates/``) →
WeasyPrint, with the deny-by-default :class:`StaticOnlyFetcher`, the shipped fonts embedded as
subsets, and PDF/A-3b with title, author and language.

Organisers' texts are Jinja templates too, rendered in a :class:`SandboxedEnvironment` with
plain strings only; their output is then escaped like every other value.

This module runs inside the render processes as well: it keeps one font configuration per
process, so the fonts are loaded once, not once per document.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from award_jury import i18n
from award_jury.certificates.context import LANDSCAPE, CertificateContext
from award_jury.certificates.fetcher import StaticOnlyFetcher
from award_jury.settings import STATIC_DIR, TEMPLATES_DIR

PDF_VARIANT = "pdf/a-3b"
#: The families the certificate CSS uses, and their files in ``static/fonts``.
FONT_FILES = {
    "serif": ("EBGaramond12-Regular.ttf", "EBGaramond12-Italic.ttf"),
    "sans": ("Lato-Regular.ttf", "Lato-Bold.ttf"),
}
#: Organiser texts: at most this long, before and after rendering.
MAX_TEXT = 600
#: The names an organiser's text may use, e.g. ``{{ startup }}``.
TEXT_VARIABLES = ("award", "category", "startup", "place", "round", "date")


@dataclass(frozen=True)
class DocumentMeta:
    """PDF metadata: title, author (the award), language; and the page orientation."""

    title: str
    author: str
    lang: str
    orientation: str = LANDSCAPE


# -- Jinja ------------------------------------------------------------------------------------


@cache
def certificate_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    return i18n.template_environment(templates_dir, ("html", "xml", "css"))


@cache
def _sandbox() -> SandboxedEnvironment:
    # Plain text out: the certificate template escapes the result like any other value.
    return SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


class TextTemplateError(ValueError):
    """An organiser's text is not a valid template, or uses something it may not."""


#: What an organiser's text may be made of: text, the variables, constants, ``{% if %}`` and
#: conditions, ``~`` and a few string filters. No loops, macros, calls, attributes, ``{% set %}``
#: or arithmetic, so rendering one takes time and memory in proportion to its length (the
#: sandbox alone lets 600 characters loop for hours, recurse or build gigabytes).
_TEXT_NODES = (
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.Filter,
)
_TEXT_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d"})


def _check_text(source: str) -> None:
    for node in _sandbox().parse(source).find_all(nodes.Node):
        if not isinstance(node, _TEXT_NODES):
            raise TextTemplateError(f"not allowed in a certificate text: {type(node).__name__}")
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in TEXT_VARIABLES):
            raise TextTemplateError(f"unknown name: {node.name}")
        if isinstance(node, nodes.Filter) and node.name not in _TEXT_FILTERS:
            raise TextTemplateError(f"not allowed in a certificate text: |{node.name}")


def render_text(source: str, values: Mapping[str, str]) -> str:
    """An organiser's certificate text with ``{{ startup }}`` and friends filled in, in the
    sandbox. Only the names in :data:`TEXT_VARIABLES` exist, and only as plain strings."""
    plain = {name: str(values.get(name, "")) for name in TEXT_VARIABLES}
    try:
        _check_text(source[:MAX_TEXT])
        result = _sandbox().from_string(source[:MAX_TEXT]).render(plain)
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, LookupError) as exc:
        raise TextTemplateError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return result.strip()[: MAX_TEXT * 2]


def render_html(contexts: Sequence[CertificateContext], meta: DocumentMeta) -> str:
    """One HTML document with one certificate a page."""
    token = i18n.current_locale.set(meta.lang if meta.lang in ("de", "en") else "de")
    try:
        template = certificate_environment().get_template("certificates/certificate.html")
        return template.render(certificates=list(contexts), meta=meta)
    finally:
        i18n.current_locale.reset(token)


# -- WeasyPrint -------------------------------------------------------------------------------


@cache
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_document(html: str, fetcher: StaticOnlyFetcher | None = None) -> Any:
    """Lay out ``html`` (base URL: ``static/``) with the given or a fresh fetcher."""
    from weasyprint import HTML

    fetcher = fetcher or StaticOnlyFetcher()
    return HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher).render(
        font_config=_font_config(), pdf_variant=PDF_VARIANT
    )


def write_pdf(document: Any) -> bytes:
    data: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return data


def html_to_pdf(html: str, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    return write_pdf(html_document(html, fetcher))


def render_pdf(contexts: Sequence[CertificateContext], meta: DocumentMeta) -> bytes:
    """One PDF with one certificate a page."""
    return html_to_pdf(render_html(contexts, meta))


def merge_pdfs(parts: Sequence[bytes]) -> bytes:
    """Pages of several PDF/A parts (rendered in parallel) as one PDF, keeping the first part's
    PDF/A identity: its XMP metadata, output intent, language and document information."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    if len(parts) == 1:
        return parts[0]
    first = PdfReader(io.BytesIO(parts[0]))
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    source_root: Any = first.trailer["/Root"]
    target_root: Any = writer.root_object
    for key in ("/Metadata", "/OutputIntents", "/Lang", "/MarkInfo", "/ViewerPreferences"):
        if key in source_root:
            target_root[NameObject(key)] = source_root.raw_get(key).clone(writer)
    if first.metadata is not None:
        writer.add_metadata({k: v for k, v in first.metadata.items()})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# -- Glyph coverage ---------------------------------------------------------------------------


@cache
def _coverage(family: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for name in FONT_FILES[family]:
        with TTFont(STATIC_DIR / "fonts" / name, lazy=True) as font:
            covered |= set(font.getBestCmap())
    return frozenset(covered)


def missing_characters(text: str, family: str = "serif") -> list[str]:
    """Characters of ``text`` that the certificate's fonts cannot show (each once, in order):
    an emoji, a Chinese name. Whitespace and control characters do not count."""
    covered = _coverage(family)
    seen: list[str] = []
    for ch in text:
        if ch.isspace() or ord(ch) < 32 or ord(ch) in covered or ch in seen:
            continue
        if ch in ("\u200d", "\ufe0f", "\ufe0e"):  # joiners and variation selectors draw nothing
            continue
        seen.append(ch)
    return seen
