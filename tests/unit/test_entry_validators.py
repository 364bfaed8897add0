"""The application form's checks and the pitch deck's content check, without a database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from award_jury.entries.validators import FIELDS, REQUIRED, check_values, pdf_problem, safe_file_name
from award_jury.i18n import current_locale
from tests.support.entries import PNG, complete_values, make_pdf

NOW = datetime(2026, 11, 29, tzinfo=UTC)
CATEGORIES = frozenset({"smart-city", "govtech"})


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    token = current_locale.set("en")
    yield
    current_locale.reset(token)


def test_a_complete_form_has_no_problem_and_an_empty_draft_neither() -> None:
    assert check_values(complete_values(), categories=CATEGORIES, now=NOW, for_submission=True, has_deck=True) == {}
    assert check_values({}, categories=CATEGORIES, now=NOW, for_submission=False, has_deck=False) == {}


def test_submission_names_every_missing_field_at_once() -> None:
    errors = check_values({}, categories=CATEGORIES, now=NOW, for_submission=True, has_deck=False)
    assert set(errors) == set(REQUIRED)
    assert {f.name for f in FIELDS if not f.required}.isdisjoint(errors)


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("founded", "2026", True),
        ("founded", "2027", False),  # not founded in the future
        ("founded", "1799", False),
        ("founded", "２０２０", False),  # full-width digits are not ASCII digits
        ("employees", "0", True),
        ("employees", "-1", False),
        ("employees", "12345678", False),
        ("website", "https://example.org/x", True),
        ("website", "http://example.org", True),
        ("website", "javascript:alert(1)", False),
        ("website", "https://localhost", False),
        ("video_url", "https://video.example/v", True),
        ("video_url", "http://video.example/v", False),
        ("video_url", "https://video.example/a b", False),
        ("contact_email", "a@b.example", True),
        ("contact_email", "a@b", False),
        ("category", "govtech", True),
        ("category", "space", False),
        ("stage", "pilot", True),
        ("stage", "moon", False),
        ("consent", "yes", True),
        ("consent", "on", False),
        ("pitch", "x" * 600, True),
        ("pitch", "x" * 601, False),
    ],
)
def test_each_kind_of_value_is_checked(field: str, value: str, ok: bool) -> None:
    errors = check_values({field: value}, categories=CATEGORIES, now=NOW, for_submission=False, has_deck=False)
    assert (field not in errors) is ok, errors


@given(st.text(max_size=300))
def test_a_safe_file_name_never_leaves_its_folder_and_ends_in_pdf(name: str) -> None:
    safe = safe_file_name(name)
    assert safe.endswith(".pdf") and "/" not in safe and "\\" not in safe and ".." not in safe.removesuffix(".pdf")
    assert 4 < len(safe) <= 124
    assert all(ch.isascii() and (ch.isalnum() or ch in "._ -") for ch in safe)


def test_pdf_checks_look_at_the_content() -> None:
    pdf = make_pdf(2)
    assert pdf_problem(pdf, 10_000_000) is None
    assert "not a PDF" in (pdf_problem(PNG, 10_000_000) or "")
    assert "incomplete" in (pdf_problem(pdf[:-200], 10_000_000) or "")
    assert "larger than" in (pdf_problem(pdf, len(pdf) - 1) or "")
    assert "empty" in (pdf_problem(b"", 100) or "")
    # A header and an end marker around garbage still does not open.
    assert "cannot be opened" in (pdf_problem(b"%PDF-1.4\n" + b"\xff" * 300 + b"\n%%EOF", 100_000) or "")


@pytest.mark.parametrize(
    ("text", "value"),
    [("7,5", "7.5"), ("7.00000", "7"), ("7.50000", "7.5"), ("0E+999999999", "0"), ("1.2345", "1.2345")],
)
def test_typed_numbers_count_only_decimal_places_that_carry_a_digit(text: str, value: str) -> None:
    from decimal import Decimal

    from award_jury.awards.validators import parse_decimal

    number, problem = parse_decimal(text)
    assert problem is None and number == Decimal(value)
    assert parse_decimal("1.23456")[1] is not None
