"""Checks for the organiser's set-up forms. Each returns a translated message or None, so the
form can show it beside its field."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from award_jury import formats
from award_jury.awards.branding import contrast
from award_jury.formats import COLOR, KEY, MAX_DECIMALS, MAX_MAGNITUDE, SLUG, ScaleProblem, too_precise
from award_jury.i18n import gettext as _

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slugify(text: str, separator: str = "-") -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", separator, ascii_text.lower()).strip(separator)[:64]


def required_text(value: str, max_length: int = 200) -> str | None:
    if not value.strip():
        return _("This field is required.")
    if len(value) > max_length:
        return _("Use at most %(n)d characters.") % {"n": max_length}
    return None


def slug_problem(value: str) -> str | None:
    if not SLUG.match(value) or len(value) > 80:
        return _("Use lower-case letters, digits and dashes, like smart-city.")
    return None


def key_problem(value: str) -> str | None:
    if not KEY.match(value) or len(value) > 64:
        return _("Use lower-case letters, digits and underscores, starting with a letter.")
    return None


def time_zone_problem(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return _("Choose a time zone from the list, like Europe/Berlin.")
    return None


def colour_problem(value: str) -> str | None:
    if not value:
        return None
    if not COLOR.match(value):
        return _("Use a colour like #0b5394.")
    if max(contrast(value, "#ffffff"), contrast(value, "#111111")) < 4.5:
        return _("Text on this colour would be hard to read. Choose a darker or a lighter colour.")
    return None


def parse_int(value: str, lo: int, hi: int) -> tuple[int | None, str | None]:
    try:
        number = int(value.strip())
    except ValueError:
        return None, _("Enter a whole number.")
    if not lo <= number <= hi:
        return None, _("Enter a number from %(lo)d to %(hi)d.") % {"lo": lo, "hi": hi}
    return number, None


def parse_decimal(value: str) -> tuple[Decimal | None, str | None]:
    """A number typed by a person: ``7,5`` and ``7.5`` both mean seven and a half."""
    text = value.strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, _("Enter a number, like 7.5.")
    if not number.is_finite() or abs(number) >= MAX_MAGNITUDE:
        return None, _("Enter a number, like 7.5.")
    if too_precise(number):
        number = number.normalize()  # "7.00000" is seven: only places that carry a digit count
        if too_precise(number):
            return None, _("Use at most %(n)d decimal places.") % {"n": MAX_DECIMALS}
    if number.as_tuple().exponent > 0:  # type: ignore[operator]
        # "0E+999999999" is a small number with an exponent PostgreSQL's numeric cannot take
        number = Decimal(int(number))
    return number, None


def parse_local_datetime(value: str, time_zone: str) -> tuple[datetime | None, str | None]:
    """A ``datetime-local`` field's value in the award's time zone; empty means none."""
    if not value.strip():
        return None, None
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, _("Enter a date and time, like 2026-08-31 23:59.")
    if not 1970 <= naive.year <= 2200:
        return None, _("Enter a date between the years 1970 and 2200.")
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=ZoneInfo(time_zone))
    return naive, None


def scale_problems(lo: Decimal, hi: Decimal, step: Decimal) -> dict[str, str]:
    """The set-up form's words for :func:`award_jury.formats.scale_problems`, by field."""
    errors: dict[str, str] = {}
    for problem in formats.scale_problems(lo, hi, step):
        if problem is ScaleProblem.MAX_NOT_ABOVE_MIN:
            errors["max_value"] = _("The maximum must be greater than the minimum.")
        elif problem is ScaleProblem.STEP_NOT_POSITIVE:
            errors["step"] = _("The step must be greater than 0.")
        else:
            errors["step"] = _("The step must divide the range from the minimum to the maximum.")
    return errors


def parse_levels(
    text: str, lo: Decimal | None, hi: Decimal | None
) -> tuple[list[tuple[Decimal, Decimal, str]], str | None]:
    """Value descriptions, one per line: ``0-2: no innovation`` or ``10: changes the market``.
    Bands lie within the scale and do not overlap."""
    levels: list[tuple[Decimal, Decimal, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = re.match(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(?:[-–]\s*([0-9]+(?:[.,][0-9]+)?))?\s*:\s*(.+)$", line)
        if not match:
            return [], _("Line %(n)d: write “0-2: what these values mean”.") % {"n": number}
        first, problem = parse_decimal(match.group(1))
        last, problem_last = parse_decimal(match.group(2) or match.group(1))
        if problem or problem_last or first is None or last is None:
            return [], _("Line %(n)d: use numbers with at most %(places)d decimal places.") % {
                "n": number,
                "places": MAX_DECIMALS,
            }
        if first > last or (lo is not None and first < lo) or (hi is not None and last > hi):
            return [], _("Line %(n)d: the values must lie within the scale, the smaller first.") % {"n": number}
        if any(first <= b and a <= last for a, b, _text in levels):
            return [], _("Line %(n)d: this band overlaps another one.") % {"n": number}
        levels.append((first, last, match.group(3).strip()[:2000]))
    return levels, None
