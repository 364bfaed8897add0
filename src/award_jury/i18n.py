"""Translations (Babel catalogs in ``award_jury/locale``) and locale-aware formatting.

The request's language lives in a context variable set by :class:`LocaleMiddleware`, so
templates, error pages and e-mails all speak the same language without passing it around.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from award_jury.settings import LOCALE_DIR, SUPPORTED_LOCALES

DEFAULT_LOCALE = "de"
current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog; compiled in memory from the ``.po`` when no fresh ``.mo`` exists."""
    base = LOCALE_DIR / locale / "LC_MESSAGES"
    po, mo = base / "messages.po", base / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return Translations(fh, domain="messages")
    if not po.exists():
        return Translations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain="messages")


def gettext(message: str) -> str:
    return translations(current_locale.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current_locale.get()).upgettext(context, message)


_ = gettext


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language for a request: the visitor's choice (cookie), else the browser's, else German."""
    if cookie in SUPPORTED_LOCALES:
        return cookie
    if accept_language:
        ranked = []
        for part in accept_language.split(","):
            lang, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((weight, lang.strip().lower()[:2]))
        for weight, lang in sorted(ranked, key=lambda item: -item[0]):
            if weight > 0 and lang in SUPPORTED_LOCALES:  # q=0 means "not acceptable"
                return lang
    return DEFAULT_LOCALE


def format_datetime(value: datetime | None, time_zone: str = "Europe/Berlin") -> str:
    """``31.08.2023, 23:59 Uhr`` in German, ``31 Aug 2023, 23:59`` in English, in the award's zone."""
    if value is None:
        return ""
    locale = current_locale.get()
    local = value.astimezone(ZoneInfo(time_zone))
    if locale == "de":
        return dates.format_datetime(local, "dd.MM.yyyy, HH:mm 'Uhr'", locale="de")
    return dates.format_datetime(local, "d MMM yyyy, HH:mm", locale="en")


def format_date(value: datetime | None, time_zone: str = "Europe/Berlin") -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(time_zone))
    return dates.format_date(local, "long", locale=current_locale.get())


def format_number(value: Decimal | float | int | None, places: int | None = None, *, signed: bool = False) -> str:
    """``87,5`` in German, ``87.5`` in English: the one number format of pages, charts and mails.

    ``places`` fixes the decimals (rounding halves to even); ``signed`` writes ``+`` before
    positive numbers and zero (an offset: ``+13,7``)."""
    if value is None:
        return ""
    pattern = "#,##0.####" if places is None else "#,##0." + "0" * places if places else "#,##0"
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return numbers.format_decimal(value, format=pattern, locale=current_locale.get())


def plain_number(value: Decimal | int) -> str:
    """A number as data, the same in every language: ``7.5``, ``10`` (no exponent, no grouping,
    no trailing zeros). For form values the page's scripts read, audit snapshots and messages
    about bundles; for people use :func:`format_number`."""
    return format(Decimal(value).normalize(), "f")


def format_size(size: int | None) -> str:
    """A file size for people: ``850 KB``, ``2,4 MB`` (in the locale's number format)."""
    if size is None:
        return ""
    if size < 1024 * 1024:
        return f"{format_number(max(1, round(size / 1024)), 0)} KB"
    return f"{format_number(size / (1024 * 1024), 1)} MB"


def language_name(code: str) -> str:
    """A language's own name ("Deutsch", "English")."""
    name: str = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def input_datetime(value: datetime | None, time_zone: str = "Europe/Berlin") -> str:
    """The value of a ``datetime-local`` field, in the award's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def input_number(value: Decimal | float | int | None) -> str:
    """A number as a form field shows it: no grouping, the locale's decimal sign (``7,5``)."""
    if value is None:
        return ""
    return numbers.format_decimal(value, format="0.####", locale=current_locale.get())


def template_environment(templates_dir: Path, escape: tuple[str, ...]) -> Environment:
    """A Jinja environment over ``templates_dir`` that speaks the request's language: autoescape
    for files ending in ``escape``, strict undefined, gettext installed (new-style)."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(list(escape), default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )
    return env
