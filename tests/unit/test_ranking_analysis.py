"""The explanations of a ranking (award_jury.ranking.analysis), pure: spread of an entry's sheets,
juror calibration, stability under resampling, prize changes between methods, the offset chart."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal

import pytest

from award_jury.i18n import current_locale
from award_jury.ranking.analysis import (
    DISAGREEMENT_POINTS,
    METHODS,
    calibration,
    calibration_chart,
    prize_changes,
    ranks_by_method,
    spread,
    stability,
)
from award_jury.ranking.compute import CategorySpec, CriterionSpec, EntryRow, SheetRow, sheet_total
from award_jury.settings import TEMPLATES_DIR
from award_jury.web.templating import create_environment

# One criterion from 0 to 100: a sheet's total is its score, which keeps hand computations short.
X = [CriterionSpec("x", Decimal(1), Decimal(0), Decimal(100), 0)]
# Three criteria of equal weight from 0 to 10: totals in thirds (not exact as binary floats).
THIRDS = [CriterionSpec(key, Decimal(1), Decimal(0), Decimal(10), i) for i, key in enumerate(("a", "b", "c"))]
SVG = "{http://www.w3.org/2000/svg}"


def sheet(juror: str, entry: str, total: float | str) -> SheetRow:
    return SheetRow(juror, entry, {"x": Decimal(str(total))})


def rows(*refs: str, category: str = "c") -> list[EntryRow]:
    return [EntryRow(ref, category, f"Startup {ref}") for ref in refs]


# --- spread ------------------------------------------------------------------------------------


def test_spread_is_population_std_min_and_max() -> None:
    # mean 75; squared deviations 225 + 25 + 25 + 225 = 500; population variance 500 / 4 = 125
    result = spread([60.0, 70.0, 80.0, 90.0])
    assert result is not None
    assert result.std == pytest.approx(math.sqrt(125))
    assert (result.low, result.high) == (60.0, 90.0)
    assert not result.strong_disagreement  # 30 points apart


def test_spread_of_one_sheet_and_of_none() -> None:
    one = spread([72.5])
    assert one is not None
    assert (one.std, one.low, one.high, one.strong_disagreement) == (0.0, 72.5, 72.5, False)
    assert spread([]) is None


def test_spread_order_does_not_matter() -> None:
    a, b = spread([97.0, 75.5, 87.5, 84.5, 79.5]), spread([75.5, 79.5, 84.5, 87.5, 97.0])
    assert a is not None and b is not None
    # the demo's E005: mean 84.8, squared deviations 7.29 + 0.09 + 86.49 + 148.84 + 28.09 = 270.8
    assert a.std == pytest.approx(math.sqrt(270.8 / 5)) == b.std
    assert (a.low, a.high) == (b.low, b.high) == (75.5, 97.0)


@pytest.mark.parametrize(
    ("totals", "strong"),
    [
        ([50.0, 90.0], True),  # exactly 40 apart
        ([50.0, 70.0, 90.0], True),
        ([0.0, 100.0], True),
        ([50.0, 89.5], False),
        ([50.5, 90.0], False),
        ([10.0, 10.0], False),
    ],
)
def test_strong_disagreement_from_40_points_apart(totals: list[float], strong: bool) -> None:
    assert DISAGREEMENT_POINTS == 40
    result = spread(totals)
    assert result is not None
    assert result.strong_disagreement is strong


def test_strong_disagreement_at_exactly_40_points_with_totals_in_thirds() -> None:
    # Sheets (8, 7, 7) and (4, 3, 3) on three equal criteria: totals 2200/30 = 73.33… and
    # 1000/30 = 33.33…, exactly 40 points apart. As floats they differ by 39.99999999999999.
    high = sheet_total({"a": 8, "b": 7, "c": 7}, THIRDS)
    low = sheet_total({"a": 4, "b": 3, "c": 3}, THIRDS)
    assert high == pytest.approx(220 / 3) and low == pytest.approx(100 / 3)
    result = spread([high, low])
    assert result is not None
    assert result.strong_disagreement


# --- calibration -------------------------------------------------------------------------------


def test_calibration_offsets_by_hand() -> None:
    sheets = [
        sheet("j1", "A", 80),
        sheet("j2", "A", 60),
        sheet("j3", "A", 70),
        sheet("j1", "B", 50),
        sheet("j2", "B", 40),
        sheet("j3", "C", 90),  # j3 alone on C: no other sheets to compare with
        sheet("j4", "D", 55),  # j4 alone on every entry
    ]
    result = {c.juror: c for c in calibration(X, sheets)}
    assert [c.juror for c in calibration(X, sheets)] == ["j1", "j2", "j3", "j4"]
    # j1: A 80 - mean(60, 70) = +15; B 50 - 40 = +10; mean +12.5
    assert result["j1"].offset == pytest.approx(12.5)
    # j2: A 60 - mean(80, 70) = -15; B 40 - 50 = -10; mean -12.5
    assert result["j2"].offset == pytest.approx(-12.5)
    # j3: A 70 - mean(80, 60) = 0; C has no other sheet and does not count
    assert result["j3"].offset == pytest.approx(0.0)
    assert result["j4"].offset is None
    assert [(c.sheets, c.mean) for c in result.values()] == [(2, 65.0), (2, 50.0), (2, 80.0), (1, 55.0)]
    assert [c.std for c in result.values()] == pytest.approx([15.0, 10.0, 10.0, 0.0])


def test_calibration_uses_sheet_totals_over_every_criterion() -> None:
    # weights 30 and 10 on 0..10: T = (30 * s1 + 10 * s2) / 4
    criteria = [
        CriterionSpec("big", Decimal(30), Decimal(0), Decimal(10), 0),
        CriterionSpec("small", Decimal(10), Decimal(0), Decimal(10), 1),
    ]
    sheets = [
        SheetRow("ann", "E1", {"big": Decimal(8), "small": Decimal(4)}),  # (240 + 40) / 4 = 70
        SheetRow("bob", "E1", {"big": Decimal(6), "small": Decimal(2)}),  # (180 + 20) / 4 = 50
        SheetRow("cem", "E1", {"big": Decimal(4), "small": Decimal(8)}),  # (120 + 80) / 4 = 50
    ]
    result = {c.juror: c for c in calibration(criteria, sheets)}
    assert result["ann"].offset == pytest.approx(70 - 50)
    assert result["bob"].offset == pytest.approx(50 - 60)
    assert result["cem"].offset == pytest.approx(50 - 60)
    assert result["ann"].mean == pytest.approx(70)


def test_calibration_of_jurors_who_never_share_an_entry() -> None:
    sheets = [sheet("j1", "A", 80), sheet("j1", "B", 60), sheet("j2", "C", 30)]
    assert [(c.juror, c.offset) for c in calibration(X, sheets)] == [("j1", None), ("j2", None)]
    assert calibration(X, []) == []


# --- stability ---------------------------------------------------------------------------------


def coin_flip() -> tuple[list[EntryRow], list[SheetRow]]:
    """A: 90 and 10 (each draw 90/90, 90/10, 10/90, 10/10); B: 50 and 50; C: 20 and 30."""
    sheets = [
        sheet("j1", "A", 90),
        sheet("j2", "A", 10),
        sheet("j1", "B", 50),
        sheet("j2", "B", 50),
        sheet("j1", "C", 20),
        sheet("j2", "C", 30),
    ]
    return rows("A", "B", "C"), sheets


def test_stability_is_deterministic_for_the_same_seed() -> None:
    entries, sheets = coin_flip()
    cats = [CategorySpec("c", 1)]
    first = stability(X, cats, entries, sheets, "mean", 1, resamples=300, seed=7)
    again = stability(X, cats, entries, sheets, "mean", 1, resamples=300, seed=7)
    assert first == again
    assert set(first) == {"A", "B", "C"}
    assert all(0.0 <= share <= 1.0 for share in first.values())
    # A reaches the prize unless both its draws are the 10 (a quarter of the draws); at 50 it ties B
    # for rank 1. B reaches it unless A draws 90 twice. C never.
    assert first["A"] == pytest.approx(0.75, abs=0.1)
    assert first["B"] == pytest.approx(0.75, abs=0.1)
    assert first["C"] == 0.0
    # counts out of 300 draws
    assert all(math.isclose(share * 300, round(share * 300)) for share in first.values())


def test_an_entry_that_wins_every_resample_gets_one() -> None:
    entries = rows("A", "B")
    sheets = [sheet("j1", "A", 95), sheet("j2", "A", 90), sheet("j1", "B", 20), sheet("j2", "B", 30)]
    for method in METHODS:
        shares = stability(X, [CategorySpec("c", 1)], entries, sheets, method, 1, resamples=50, seed=1)
        assert shares == {"A": 1.0, "B": 0.0}, method


def test_a_category_without_prizes_gives_zero() -> None:
    entries = rows("A", "B") + rows("P", category="prized")
    sheets = [sheet("j1", "A", 95), sheet("j1", "B", 20), sheet("j1", "P", 10)]
    cats = [CategorySpec("c", 0), CategorySpec("prized", 1)]
    shares = stability(X, cats, entries, sheets, "mean", 1, resamples=20)
    assert shares == {"A": 0.0, "B": 0.0, "P": 1.0}


def test_entries_with_too_few_sheets_or_none_never_reach_a_prize() -> None:
    entries = rows("A", "B", "C")
    sheets = [sheet("j1", "A", 100), sheet("j1", "B", 10), sheet("j2", "B", 20)]
    shares = stability(X, [CategorySpec("c", 1)], entries, sheets, "mean", 2, resamples=20)
    assert shares == {"A": 0.0, "B": 1.0, "C": 0.0}


# --- ranks under every method and prize changes -------------------------------------------------


def by_method(**ranks: Sequence[tuple[str, int, bool]]) -> dict[str, dict[str, tuple[int | None, bool]]]:
    return {method: {ref: (rank, prize) for ref, rank, prize in rows_} for method, rows_ in ranks.items()}


def test_prize_changes_name_entries_whose_prize_differs_under_another_method() -> None:
    table = by_method(
        mean=[("A", 1, True), ("B", 2, False), ("C", 3, False)],
        median=[("A", 2, False), ("B", 1, True), ("C", 3, False)],
        trimmed=[("A", 1, True), ("B", 2, False), ("C", 3, False)],
        zscore=[("A", 1, True), ("B", 3, False), ("C", 2, False)],  # C moves up, but not to a prize
    )
    assert prize_changes(table, "mean") == {"A", "B"}
    assert prize_changes(table, "median") == {"A", "B"}
    assert prize_changes(table, "zscore") == {"A", "B"}


def test_no_prize_changes_when_every_method_agrees_on_the_prizes() -> None:
    same = [("A", 1, True), ("B", 2, False)]
    table = by_method(mean=same, median=same, trimmed=same, zscore=[("A", 1, True), ("B", 2, False)])
    assert prize_changes(table, "mean") == set()


def test_ranks_by_method_and_changes_from_the_engine() -> None:
    # A: 90, 90, 0 (mean 60, median 90); B: 70, 70, 70 (mean 70, median 70). Trimmed = mean (n < 5).
    # zscore: j1 and j2 give A +1 and B -1, j3 gives A -1 and B +1: A's z is 1/3, B's -1/3.
    sheets = [
        sheet("j1", "A", 90),
        sheet("j2", "A", 90),
        sheet("j3", "A", 0),
        sheet("j1", "B", 70),
        sheet("j2", "B", 70),
        sheet("j3", "B", 70),
    ]
    table = ranks_by_method(X, [CategorySpec("c", 1)], rows("A", "B"), sheets, 1, {})
    assert set(table) == set(METHODS)
    assert table["mean"] == {"A": (2, False), "B": (1, True)}
    assert table["trimmed"] == {"A": (2, False), "B": (1, True)}
    assert table["median"] == {"A": (1, True), "B": (2, False)}
    assert table["zscore"] == {"A": (1, True), "B": (2, False)}
    assert prize_changes(table, "mean") == {"A", "B"}


def test_ranks_by_method_counts_a_pending_tie_as_a_prize_position() -> None:
    sheets = [sheet("j1", "A", 80), sheet("j1", "B", 80), sheet("j1", "C", 20)]
    table = ranks_by_method(X, [CategorySpec("c", 1)], rows("A", "B", "C"), sheets, 1, {})
    assert table["mean"] == {"A": (1, True), "B": (1, True), "C": (3, False)}
    decided = ranks_by_method(X, [CategorySpec("c", 1)], rows("A", "B", "C"), sheets, 1, {"c": ["B", "A"]})
    assert decided["mean"] == {"B": (1, True), "A": (2, False), "C": (3, False)}


# --- the offset chart --------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    """Raises on anything that is not well-formed XML (the chart is our own output, not untrusted)."""
    return ET.fromstring(svg)  # noqa: S314


def calibration_svg(
    rows_: Sequence[tuple[str, float | None]], *, title: str, description: str, locale: str = "en"
) -> str:
    """The chart as the results page draws it: the geometry from the analysis, the markup from
    the ``offset_chart`` macro (escaped like any template text), numbers in ``locale``."""
    env = create_environment(TEMPLATES_DIR)
    template = env.from_string(
        '{% from "_macros/charts.html" import offset_chart %}{{ offset_chart(chart, title, description) }}'
    )
    token = current_locale.set(locale)
    try:
        return template.render(chart=calibration_chart(rows_), title=title, description=description)
    finally:
        current_locale.reset(token)


def test_calibration_svg_is_well_formed_and_accessible() -> None:
    rows_ = [("<script>alert(1)</script>", 12.5), ("Jörg & Söhne", -7.25), ("Nobody Else", None), ("Zero", 0.0)]
    svg = calibration_svg(rows_, title="Juror offsets <1>", description='How "harsh" & how lenient')
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert title.text == "Juror offsets <1>"
    assert desc.text == 'How "harsh" & how lenient'
    labelled_by = (root.get("aria-labelledby") or "").split()
    assert labelled_by == [title.get("id"), desc.get("id")]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts  # the name is text, not markup
    assert "Jörg & Söhne" in texts and "Nobody Else" in texts
    assert "<script>" not in svg
    assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 3  # one per juror with an offset (none for "Nobody Else")
    assert all(float(r.get("width", "0")) >= 1 for r in rects)
    positive, negative, _zero = rects
    axis = root.find(f"{SVG}line")
    assert axis is not None
    mid = float(axis.get("x1", "0"))
    assert float(positive.get("x", "0")) == pytest.approx(mid, abs=0.1)
    assert float(negative.get("x", "0")) + float(negative.get("width", "0")) == pytest.approx(mid, abs=0.1)
    assert positive.get("fill") != negative.get("fill")
    assert {"+12.5", "-7.2", "+0.0"} <= set(texts)


def test_calibration_svg_without_jurors_is_still_well_formed() -> None:
    root = parse(calibration_svg([], title="T", description="D"))
    assert root.get("role") == "img"
    assert not list(root.iter(f"{SVG}rect"))


def test_calibration_svg_writes_each_offset_in_the_pages_number_format() -> None:
    """The chart reads like its table ("+13,7" in German)."""
    svg = calibration_svg([("A", 13.66), ("B", -7.25)], title="T", description="D", locale="de")
    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert {"+13,7", "-7,2"} <= set(texts)
    assert "+13.7" not in texts
