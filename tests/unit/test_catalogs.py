"""Every user-facing string goes through gettext and has a German translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment
from jinja2.lexer import TOKEN_BLOCK_BEGIN, TOKEN_BLOCK_END, TOKEN_DATA, TOKEN_NAME

from award_jury.settings import TEMPLATES_DIR
from award_jury.web.catalogs import extract_catalog, read_catalog

TEMPLATES = sorted(p for p in TEMPLATES_DIR.rglob("*.html"))
# Visible text in attributes a person reads or hears.
TEXT_ATTRIBUTES = re.compile(r'\b(?:alt|title|placeholder|aria-label|aria-description)="([^"{]*[A-Za-zÄÖÜäöüß][^"{]*)"')
TAGS = re.compile(r"<[^>]*>")
ENTITIES = re.compile(r"&[a-z]+;|&#\d+;")
# Text that is the same in every language: our product's name and typographic marks.
ALLOWED = {"award_jury"}


def test_german_catalog_translates_every_message() -> None:
    german = read_catalog("de")
    missing = []
    for message in extract_catalog():
        if not message.id:
            continue
        translated = german.get(message.id, context=message.context)
        strings = translated.string if translated is not None else None
        ok = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if not ok or (translated is not None and translated.fuzzy):
            missing.append(message.id)
    assert missing == [], "run `make messages` and translate these in locale/de: " + repr(missing)


def untranslated_text(path: Path) -> list[str]:
    """Literal template text outside {% trans %} blocks and _() calls that contains letters."""
    source = path.read_text(encoding="utf-8")
    lexed = Environment(extensions=["jinja2.ext.i18n"], autoescape=True).lex(source)
    tokens = [t for t in lexed if t[1] != "whitespace"]
    literal = []  # the template's own text; every Jinja construct becomes a NUL
    depth = 0
    for i, (_lineno, kind, value) in enumerate(tokens):
        if kind == TOKEN_NAME and i > 0 and tokens[i - 1][1] == TOKEN_BLOCK_BEGIN:
            depth += {"trans": 1, "endtrans": -1}.get(value, 0)
        literal.append(value if kind == TOKEN_DATA and not depth else "\x00")
    text = "".join(literal)
    found = TEXT_ATTRIBUTES.findall(text)
    visible = ENTITIES.sub(" ", TAGS.sub(" ", text))
    found += [w for w in re.findall(r"[A-Za-zÄÖÜäöüß][\w'’-]*", visible) if w not in ALLOWED]
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES])
def test_template_has_no_untranslated_text(path: Path) -> None:
    assert untranslated_text(path) == []


def test_untranslated_text_detector_finds_plain_words(tmp_path: Path) -> None:
    sample = tmp_path / "sample.html"
    sample.write_text('<p>{{ _("Fine") }}</p><p>Hello there</p><img alt="A logo" src="x">{% trans %}Ok{% endtrans %}')
    assert untranslated_text(sample) == ["A logo", "Hello", "there"]


def test_tokens_used_by_detector_exist() -> None:
    assert (TOKEN_BLOCK_BEGIN, TOKEN_BLOCK_END) == ("block_begin", "block_end")


def test_translations_keep_every_placeholder_and_escape_percent_signs() -> None:
    """Jinja's new-style gettext always %-formats: a bare % breaks the page at run time."""
    placeholder = re.compile(r"%\((\w+)\)[sd]|%%")
    problems = []
    for message in read_catalog("de"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for text in (*ids, *strings):
            if "%" in placeholder.sub("", text or ""):
                problems.append(f"bare % in {text!r}")
        expected = sorted(placeholder.findall(ids[0]))
        for text in strings:
            if text and sorted(placeholder.findall(text)) != expected and not isinstance(message.id, tuple):
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    assert problems == []
