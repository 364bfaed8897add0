"""Award colours: WCAG 2.1 contrast and the readable text colour on a brand colour."""

from __future__ import annotations

import pytest

from award_jury.awards.branding import DEFAULT_BRAND, contrast, luminance, text_on

WHITE, DARK = "#ffffff", "#111111"


def test_contrast_white_on_black_is_21() -> None:
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)


def test_contrast_is_symmetric_and_one_for_same_colour() -> None:
    assert contrast("#0b5394", "#ffffff") == pytest.approx(contrast("#ffffff", "#0b5394"))
    assert contrast("#777777", "#777777") == pytest.approx(1.0)


def test_luminance_extremes() -> None:
    assert luminance("#000000") == pytest.approx(0.0)
    assert luminance("#ffffff") == pytest.approx(1.0)
    assert luminance("#FFFFFF") == pytest.approx(1.0)


def test_contrast_known_wcag_value() -> None:
    # #767676 on white is the classic "just passes AA" grey: 4.54:1.
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_text_on_default_brand_is_white() -> None:
    assert DEFAULT_BRAND == "#0b5394"
    assert text_on("#0b5394") == WHITE


def test_text_on_yellow_is_near_black() -> None:
    assert text_on("#ffeb3b") == DARK


@pytest.mark.parametrize(
    "brand",
    ["#0b5394", "#ffeb3b", "#2e7d32", "#ff9800", "#6a1b9a", "#000000", "#ffffff", "#00bcd4", "#c62828", "#808080"],
)
def test_text_on_brand_colour_reaches_aa_contrast(brand: str) -> None:
    assert contrast(brand, text_on(brand)) >= 4.5


@pytest.mark.parametrize("brand", ["#777777", "#e53935"])
def test_text_on_brand_colour_without_aa_option_picks_better(brand: str) -> None:
    best = max(contrast(brand, WHITE), contrast(brand, DARK))
    assert best < 4.5  # neither option reaches AA on these colours
    assert contrast(brand, text_on(brand)) == pytest.approx(best)
