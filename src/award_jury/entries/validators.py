"""The application form's fields and their checks, and the pitch deck's content check.

Saving a draft checks only what was filled in (a year must be a year); submitting also needs
every required field. Each check returns a translated message for the field, so the form can
show it beside the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.entries.pdf_structure import MAX_DECK_PAGES, pdf_structure_problem
from award_jury.i18n import format_size
from award_jury.i18n import gettext as _

#: The pitch summary's limit, shown beside the field.
PITCH_LIMIT = 600
LONG_TEXT_LIMIT = 3000
STAGES = ("idea", "prototype", "pilot", "market", "scaling")


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    max_length: int
    kind: str = "text"  # text, long, year, count, url, https, email, category, stage, consent


#: Every field of the form, in the form's order. ``deck`` (the PDF) is checked separately.
FIELDS: tuple[Field, ...] = (
    Field("startup_name", True, 200),
    Field("legal_form", False, 80),
    Field("city", True, 120),
    Field("founded", True, 4, "year"),
    Field("employees", True, 7, "count"),
    Field("website", False, 500, "url"),
    Field("contact_name", True, 200),
    Field("contact_email", True, 320, "email"),
    Field("category", True, 80, "category"),
    Field("title", True, 300),
    Field("pitch", True, PITCH_LIMIT, "long"),
    Field("problem", True, LONG_TEXT_LIMIT, "long"),
    Field("solution", True, LONG_TEXT_LIMIT, "long"),
    Field("benefit", True, LONG_TEXT_LIMIT, "long"),
    Field("stage", True, 20, "stage"),
    Field("investors", False, LONG_TEXT_LIMIT, "long"),
    Field("video_url", False, 500, "https"),
    Field("consent", True, 3, "consent"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
#: Fields shown as one line (an ``<input>``): a line break in them is a space.
ONE_LINE = tuple(f.name for f in FIELDS if f.kind != "long")
REQUIRED = (*(f.name for f in FIELDS if f.required), "deck")


def _url_ok(value: str, schemes: tuple[str, ...]) -> bool:
    if len(value) > 500 or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in schemes and bool(parts.hostname) and "." in (parts.hostname or "")


def field_problem(field: Field, value: str, *, categories: frozenset[str], this_year: int) -> str | None:
    """What is wrong with a filled-in value (None when fine or empty)."""
    if not value:
        return None
    if len(value) > field.max_length and field.kind not in ("year", "count"):
        return _("Use at most %(n)d characters.") % {"n": field.max_length}
    if field.kind == "year":
        if not (value.isascii() and value.isdigit()) or not 1800 <= int(value) <= this_year:
            return _("Enter the year the company was founded, like 2021.")
    elif field.kind == "count":
        if not (value.isascii() and value.isdigit()) or len(value) > field.max_length:
            return _("Enter a whole number, like 12.")
    elif field.kind == "url":
        if not _url_ok(value, ("http", "https")):
            return _("Enter a web address starting with https://, like https://example.org.")
    elif field.kind == "https":
        if not _url_ok(value, ("https",)):
            return _("Enter a secure link starting with https://, like https://video.example.org/pitch.")
    elif field.kind == "email":
        if not is_valid_email(normalise_email(value)):
            return _("Enter a valid e-mail address, like name@example.org.")
    elif field.kind == "category":
        if value not in categories:
            return _("Choose one of the categories.")
    elif field.kind == "stage":
        if value not in STAGES:
            return _("Choose one of the stages.")
    elif field.kind == "consent" and value != "yes":
        return _("Please confirm that you have read the privacy notice.")
    return None


def missing_message(name: str) -> str:
    messages = {
        "category": _("Choose a category."),
        "stage": _("Choose your stage."),
        "consent": _("Please confirm that you have read the privacy notice."),
        "deck": _("Upload your pitch deck as a PDF."),
        "founded": _("Enter the year the company was founded."),
        "employees": _("Enter the number of employees (0 is fine)."),
    }
    return messages.get(name, _("This field is required."))


def check_values(
    values: dict[str, str], *, categories: frozenset[str], now: datetime, for_submission: bool, has_deck: bool
) -> dict[str, str]:
    """Every problem of the form, by field name (empty when the values can be saved or submitted)."""
    errors: dict[str, str] = {}
    for field in FIELDS:
        value = values.get(field.name, "")
        problem = field_problem(field, value, categories=categories, this_year=now.year)
        if problem:
            errors[field.name] = problem
        elif for_submission and field.required and not value:
            errors[field.name] = missing_message(field.name)
    if for_submission and not has_deck and "deck" not in errors:
        errors["deck"] = missing_message("deck")
    return errors


# -- the pitch deck -------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str) -> str:
    """A file name for downloads: the uploaded name's letters, digits and ``._ -``, ending in .pdf."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE_NAME.sub("_", base).strip(" ._")[:120]
    if not base.lower().endswith(".pdf"):
        base = (base or "pitch-deck") + ".pdf"
    return base


def pdf_quick_problem(data: bytes, limit: int) -> str | None:
    """The cheap part of the deck check (size, header, end-of-file marker), or None: fine to run
    on the event loop. The name and the browser's media type are not trusted."""
    if len(data) > limit:
        message = _("The file is larger than %(size)s. Please make it smaller, for example with compressed images.")
        return message % {"size": format_size(limit)}
    if not data:
        return _("The file is empty.")
    if b"%PDF-" not in data[:1024]:
        return _("This file is not a PDF. Please upload your pitch deck as a PDF.")
    if b"%%EOF" not in data[-2048:]:
        return _("The PDF is incomplete (it may have been cut off while uploading). Please upload it again.")
    return None


def deck_message(code: str, max_pages: int = MAX_DECK_PAGES) -> str:
    """The message beside the deck field for a code of ``pdf_structure_problem`` (or "too-slow",
    "too-large-to-check": the check ran out of time or memory, in ``deck_check``)."""
    if code == "encrypted":
        return _("The PDF is protected by a password. Please upload it without a password.")
    if code == "no-pages":
        return _("The PDF has no pages.")
    if code == "too-many-pages":
        return _("The PDF has more than %(pages)s pages. Please upload a shorter pitch deck.") % {"pages": max_pages}
    if code in ("too-slow", "too-large-to-check"):
        return _(
            "The PDF is too complex to check (its structure is unusually large). Please export it again, "
            "for example with “Save as PDF”, and upload the new file."
        )
    return _("The PDF cannot be opened. Please export it again and upload the new file.")


def pdf_problem(data: bytes, limit: int, max_pages: int = MAX_DECK_PAGES) -> str | None:
    """Why ``data`` is not an acceptable pitch deck, or None: the quick checks, then the PDF must
    open with 1 to ``max_pages`` pages. Runs the parser here, without a time limit: the web app
    uses ``deck_check.deck_problem`` instead."""
    problem = pdf_quick_problem(data, limit)
    if problem:
        return problem
    code = pdf_structure_problem(data, max_pages)
    return deck_message(code, max_pages) if code else None
