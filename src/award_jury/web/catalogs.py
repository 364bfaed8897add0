"""Maintaining the Babel catalogs: extract messages from ``src/`` and ``templates/``, update
``de`` and ``en``, compile them. ``make messages`` and ``make catalogs`` call this; the tests use
:func:`extract_catalog` to find template text the German catalog does not translate."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from award_jury.settings import LOCALE_DIR, PACKAGE_DIR, SUPPORTED_LOCALES, TEMPLATES_DIR

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def _extract(root: Path, method: str | Callable[..., Iterable[Any]], pattern: str, options: dict[str, str]) -> Any:
    return extract_from_dir(
        str(root),
        method_map=[(pattern, method)],  # type: ignore[list-item]
        options_map={pattern: options},
        keywords=KEYWORDS,
        strip_comment_tags=True,
        directory_filter=lambda path: not Path(path).name.startswith((".", "__pycache__")),
    )


def extract_catalog() -> Catalog:
    catalog = Catalog(project="award_jury", fuzzy=False)
    sources: list[tuple[Path, str | Callable[..., Iterable[Any]], str, dict[str, str]]] = [
        (PACKAGE_DIR, "python", "**.py", {}),
        *(
            (TEMPLATES_DIR, babel_extract, pattern, {"extensions": "jinja2.ext.i18n", "trimmed": "true"})
            for pattern in ("**.html", "**.txt", "**.subject")
        ),
    ]
    for root, method, pattern, options in sources:
        for filename, lineno, message, comments, context in _extract(root, method, pattern, options):
            location = (str(Path(root.name) / filename), lineno)
            catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def update_catalogs() -> None:
    template = extract_catalog()
    for locale in SUPPORTED_LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = read_catalog(locale)
            catalog.update(template, no_fuzzy_matching=True)
        else:
            catalog = Catalog(locale=locale, project="award_jury")
            catalog.update(template)
        catalog.fuzzy = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, omit_header=False, sort_output=True, include_lineno=False, ignore_obsolete=True)


def compile_catalogs() -> None:
    for locale in SUPPORTED_LOCALES:
        catalog = read_catalog(locale)
        with po_path(locale).with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        update_catalogs()
    elif sys.argv[1:] == ["compile"]:
        compile_catalogs()
    else:
        sys.exit("usage: python -m award_jury.web.catalogs update|compile")
