"""Language negotiation, translations and locale-aware formatting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from award_jury.i18n import current_locale, format_datetime, format_number, gettext, negotiate, plain_number

DEADLINE = datetime(2023, 8, 31, 21, 59, tzinfo=UTC)


@pytest.fixture
def de() -> Iterator[None]:
    token = current_locale.set("de")
    yield
    current_locale.reset(token)


@pytest.fixture
def en() -> Iterator[None]:
    token = current_locale.set("en")
    yield
    current_locale.reset(token)


# ---------------------------------------------------------------- negotiate


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("en", "de-DE,de;q=0.9", "en"),
        ("de", "en-GB,en;q=0.9", "de"),
        ("fr", "en-GB,en;q=0.9", "en"),  # unsupported cookie: the browser's choice
        (None, "en-GB,en;q=0.9,de;q=0.8", "en"),
        (None, "de;q=0.5, en;q=0.9", "en"),  # by weight, not by position
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "en"),
        (None, "fr", "de"),
        (None, "", "de"),
        (None, None, "de"),
        (None, ";;q=x,,,\x00garbage", "de"),
        ("", "zz", "de"),
    ],
)
def test_negotiate_picks_cookie_then_browser_then_german(cookie: str | None, accept: str | None, expected: str) -> None:
    assert negotiate(cookie, accept) == expected


def test_negotiate_language_with_q_zero_is_not_acceptable() -> None:
    # RFC 9110 §12.4.2: "a value of 0 means not acceptable".
    assert negotiate(None, "en;q=0") == "de"
    assert negotiate(None, "en;q=0, de;q=0.1") == "de"


# ---------------------------------------------------------------- formatting


def test_format_datetime_german_uses_berlin_time_and_uhr(de: None) -> None:
    assert format_datetime(DEADLINE, "Europe/Berlin") == "31.08.2023, 23:59 Uhr"


def test_format_datetime_english(en: None) -> None:
    assert format_datetime(DEADLINE, "Europe/Berlin") == "31 Aug 2023, 23:59"


def test_format_datetime_winter_time_is_one_hour_ahead_of_utc(de: None) -> None:
    assert format_datetime(datetime(2023, 12, 31, 22, 59, tzinfo=UTC)) == "31.12.2023, 23:59 Uhr"


def test_format_datetime_none_is_empty(de: None) -> None:
    assert format_datetime(None) == ""


def test_format_number_german_uses_decimal_comma(de: None) -> None:
    assert format_number(Decimal("87.5"), 1) == "87,5"
    assert format_number(Decimal("12345.5"), 1) == "12.345,5"
    assert format_number(None) == ""


def test_format_number_english_uses_decimal_point(en: None) -> None:
    assert format_number(Decimal("87.5"), 1) == "87.5"
    assert format_number(Decimal("12345.5"), 1) == "12,345.5"


def test_format_number_fixed_places_pads_and_rounds(de: None) -> None:
    assert format_number(Decimal("87"), 2) == "87,00"
    assert format_number(Decimal("87.4"), 0) == "87"


def test_format_number_signed_shows_the_sign_in_the_locales_format(de: None) -> None:
    assert format_number(13.66, 1, signed=True) == "+13,7"
    assert format_number(Decimal("-7.25"), 1, signed=True) == "-7,2"  # halves to even, as the tables do
    assert format_number(0.0, 1, signed=True) == "+0,0"
    assert format_number(Decimal("1234.5"), 1, signed=True) == "+1.234,5"
    assert format_number(None, 1, signed=True) == ""


def test_format_number_signed_english(en: None) -> None:
    assert format_number(13.66, 1, signed=True) == "+13.7"
    assert format_number(-7.25, 1, signed=True) == "-7.2"


def test_current_locale_defaults_to_german() -> None:
    assert current_locale.get() == "de"


# ---------------------------------------------------------------- translations


def test_gettext_german_translates(de: None) -> None:
    assert gettext("Skip to content") == "Zum Inhalt springen"


def test_gettext_english_keeps_message(en: None) -> None:
    assert gettext("Skip to content") == "Skip to content"


def test_gettext_unknown_message_is_returned_unchanged(de: None) -> None:
    assert gettext("No such message 4711") == "No such message 4711"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("7.50"), "7.5"),
        (Decimal("10.000"), "10"),
        (Decimal("1E+1"), "10"),
        (Decimal("0.0001"), "0.0001"),
        (3, "3"),
    ],
)
def test_plain_number_is_data_the_same_in_every_language(value: Decimal | int, text: str) -> None:
    for locale in ("de", "en"):
        token = current_locale.set(locale)
        try:
            assert plain_number(value) == text
        finally:
            current_locale.reset(token)
