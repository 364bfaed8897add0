"""The pure ranking engine against SPEC §3: hand-worked examples for every rule, and properties."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from award_jury.ranking.compute import (
    CategoryResult,
    CategorySpec,
    CriterionSpec,
    EntryRow,
    RankedEntry,
    SheetRow,
    rank_round,
    results_document,
    round_score,
    sheet_total,
    tie_break_order,
)

# One criterion from 0 to 100: a sheet's total T is its score, which keeps hand computations short.
X = [CriterionSpec("x", Decimal(1), Decimal(0), Decimal(100), 0)]


def rows(*refs: str, category: str = "c") -> list[EntryRow]:
    return [EntryRow(ref, category, f"Startup {ref}") for ref in refs]


def xs(juror: str, **totals: float | str) -> list[SheetRow]:
    """One sheet of ``juror`` per entry, on the single criterion X: ``xs("j1", A=60, B="12.5")``."""
    return [SheetRow(juror, ref, {"x": Decimal(str(value))}) for ref, value in totals.items()]


def ranking(
    sheets: Sequence[SheetRow],
    refs: Sequence[str],
    *,
    method: str = "mean",
    min_sheets: int = 1,
    prizes: int = 1,
    criteria: Sequence[CriterionSpec] = X,
    decisions: Mapping[str, Sequence[str]] | None = None,
) -> list[RankedEntry]:
    [result] = rank_round(
        criteria, [CategorySpec("c", prizes)], rows(*refs), sheets, method, min_sheets, decisions or {}
    )
    return result.entries


def by_ref(entries: Sequence[RankedEntry]) -> dict[str, RankedEntry]:
    return {e.ref: e for e in entries}


def summary(entries: Sequence[RankedEntry]) -> list[tuple[str, int | None, bool, bool, bool]]:
    """(ref, rank, tied, winner, decision_needed), in output order."""
    return [(e.ref, e.rank, e.tied, e.winner, e.decision_needed) for e in entries]


# --- 2. Sheet total --------------------------------------------------------------------------------


def test_sheet_total_weighted_with_min_not_zero() -> None:
    criteria = [
        CriterionSpec("team", Decimal(3), Decimal(1), Decimal(5), 0),
        CriterionSpec("idea", Decimal(1), Decimal(0), Decimal(10), 1),
    ]
    # team: (4 - 1) / (5 - 1) = 0.75, idea: 5 / 10 = 0.5; T = 100 * (3 * 0.75 + 1 * 0.5) / 4 = 68.75
    assert sheet_total({"team": Decimal(4), "idea": Decimal(5)}, criteria) == 68.75


def test_sheet_total_bounds_at_min_and_max() -> None:
    criteria = [CriterionSpec("a", 2.0, 1.0, 5.0, 0), CriterionSpec("b", 1.0, -2.0, 2.0, 1)]
    assert sheet_total({"a": 1.0, "b": -2.0}, criteria) == 0.0
    assert sheet_total({"a": 5.0, "b": 2.0}, criteria) == 100.0


def test_sheet_total_missing_criterion_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks scores"):
        sheet_total({"team": Decimal(4)}, [*X, CriterionSpec("team", 1, 0, 5, 1)])


def test_criterion_invalid_range_is_refused() -> None:
    with pytest.raises(ValueError, match="max > min"):
        sheet_total({"x": 1}, [CriterionSpec("x", 1, 5, 5, 0)])


# --- 3. Methods ------------------------------------------------------------------------------------


def test_mean_of_totals() -> None:
    sheets = xs("j1", A=70) + xs("j2", A=80) + xs("j3", A=95)
    [a] = ranking(sheets, ["A"])
    assert (a.score, a.sheets, a.sheet_totals) == (245 / 3, 3, [70.0, 80.0, 95.0])


def test_median_odd_number_of_sheets() -> None:
    sheets = xs("j1", A=10) + xs("j2", A=90) + xs("j3", A=40)
    [a] = ranking(sheets, ["A"], method="median")
    assert a.score == 40.0


def test_median_even_number_of_sheets_averages_the_middle_two() -> None:
    sheets = xs("j1", A=10) + xs("j2", A=90) + xs("j3", A=40) + xs("j4", A=60)
    [a] = ranking(sheets, ["A"], method="median")
    assert a.score == 50.0


def test_trimmed_with_four_sheets_is_the_mean() -> None:
    sheets = xs("j1", A=10) + xs("j2", A=20) + xs("j3", A=40) + xs("j4", A=90)
    [a] = ranking(sheets, ["A"], method="trimmed")
    assert a.score == 40.0


def test_trimmed_with_five_sheets_drops_one_highest_and_one_lowest() -> None:
    sheets = xs("j1", A=10) + xs("j2", A=20) + xs("j3", A=40) + xs("j4", A=90) + xs("j5", A=100)
    [a] = ranking(sheets, ["A"], method="trimmed")
    assert a.score == 50.0  # (20 + 40 + 90) / 3; the plain mean would be 52


def test_trimmed_with_repeated_extremes_drops_only_one_of_each() -> None:
    sheets = xs("j1", A=10) + xs("j2", A=10) + xs("j3", A=50) + xs("j4", A=90) + xs("j5", A=90)
    [a] = ranking(sheets, ["A"], method="trimmed")
    assert a.score == 50.0  # (10 + 50 + 90) / 3


def test_zscore_normal_case_by_hand() -> None:
    # j1 is lenient on A and B (64, 84: mu 74, sigma 10), j2 harsh on A and C (16, 36: mu 26, sigma 10).
    # z: A = mean(-1, -1) = -1, B = +1, C = +1. All T: 64, 84, 16, 36 -> M = 50, S = sqrt(676) = 26.
    sheets = xs("j1", A=64, B=84) + xs("j2", A=16, C=36)
    entries = by_ref(ranking(sheets, ["A", "B", "C"], method="zscore"))
    assert {ref: e.score for ref, e in entries.items()} == {"A": 24.0, "B": 76.0, "C": 76.0}
    # B and C are equal on the score; the criterion means (84 against 36) put B first.
    assert [(ref, entries[ref].rank, entries[ref].tied) for ref in "ABC"] == [
        ("A", 3, False),
        ("B", 1, False),
        ("C", 2, False),
    ]


def test_zscore_juror_with_one_sheet_gives_z_zero() -> None:
    # j1: A 0, B 40 (mu 20, sigma 20: z -1, +1); j2 only scores A (30) and j3 only B (70): z = 0.
    # A: z = -0.5, B: z = +0.5. All T: 0, 40, 30, 70 -> M = 35, S = sqrt(625) = 25.
    sheets = xs("j1", A=0, B=40) + xs("j2", A=30) + xs("j3", B=70)
    entries = by_ref(ranking(sheets, ["A", "B"], method="zscore"))
    assert (entries["A"].score, entries["B"].score) == (22.5, 47.5)


def test_zscore_juror_with_identical_totals_gives_z_zero() -> None:
    # j1 gives both 20 (sigma 0: z = 0); j2: A 10, B 50 (mu 30, sigma 20: z -1, +1).
    # A: z = -0.5, B: z = +0.5. All T: 20, 20, 10, 50 -> M = 25, S = sqrt(225) = 15.
    sheets = xs("j1", A=20, B=20) + xs("j2", A=10, B=50)
    entries = by_ref(ranking(sheets, ["A", "B"], method="zscore"))
    assert (entries["A"].score, entries["B"].score) == (17.5, 32.5)


def test_zscore_calibrates_over_every_category() -> None:
    # j1 scores A (category p) 64 and B (category q) 84; j2 scores C (p) 36 and D (q) 16.
    # z: A -1, B +1, C +1, D -1; M = 50, S = 26. In p the mean puts A (64) before C (36); zscore turns it round.
    sheets = xs("j1", A=64, B=84) + xs("j2", C=36, D=16)
    entries = rows("A", "C", category="p") + rows("B", "D", category="q")
    categories = [CategorySpec("p", 1), CategorySpec("q", 1)]
    p, q = rank_round(X, categories, entries, sheets, "zscore", 1)
    assert [(e.ref, e.rank, e.score) for e in p.entries] == [("C", 1, 76.0), ("A", 2, 24.0)]
    assert [(e.ref, e.rank, e.score) for e in q.entries] == [("B", 1, 76.0), ("D", 2, 24.0)]
    mean_p, _ = rank_round(X, categories, entries, sheets, "mean", 1)
    assert [(e.ref, e.rank, e.score) for e in mean_p.entries] == [("A", 1, 64.0), ("C", 2, 36.0)]


def test_zscore_only_listed_categories_are_reported_but_all_calibrate() -> None:
    sheets = xs("j1", A=64, B=84) + xs("j2", C=36, D=16)
    entries = rows("A", "C", category="p") + rows("B", "D", category="q")
    [p] = rank_round(X, [CategorySpec("p", 1)], entries, sheets, "zscore", 1)
    assert [(e.ref, e.score) for e in p.entries] == [("C", 76.0), ("A", 24.0)]


def test_zscore_raising_a_score_can_lower_the_rank() -> None:
    # Every juror scores every entry (0..10). Raising j1's score for B from 4 to 5 widens j1's spread
    # (sigma 8.16 -> 12.47), which shrinks C's negative z from j1 more than it lifts B:
    # before B z = (1.2247 - 1.1355) / 2 = 0.0446 > C (-1.2247 + 1.2977) / 2 = 0.0365;
    # after  B z = (1.3363 - 1.1355) / 2 = 0.1004 < C (-1.0690 + 1.2977) / 2 = 0.1144.
    criteria = [CriterionSpec("x", Decimal(1), Decimal(0), Decimal(10), 0)]

    def sheets(b_by_j1: int) -> list[SheetRow]:
        marks = {("j1", "A"): 3, ("j1", "B"): b_by_j1, ("j1", "C"): 2, ("j2", "A"): 6, ("j2", "B"): 4, ("j2", "C"): 9}
        return [SheetRow(j, e, {"x": Decimal(v)}) for (j, e), v in marks.items()]

    before = ranking(sheets(4), ["A", "B", "C"], method="zscore", criteria=criteria)
    after = ranking(sheets(5), ["A", "B", "C"], method="zscore", criteria=criteria)
    assert [(e.ref, e.rank) for e in before] == [("B", 1), ("C", 2), ("A", 3)]
    assert [(e.ref, e.rank) for e in after] == [("C", 1), ("B", 2), ("A", 3)]


def test_method_unknown_is_refused() -> None:
    with pytest.raises(ValueError, match="'best'"):
        ranking(xs("j1", A=1), ["A"], method="best")


# --- 1 and 4. Eligibility and too few sheets -------------------------------------------------------


def test_min_sheets_too_few_is_insufficient_with_score() -> None:
    sheets = xs("j1", A=60, B=80, C=70) + xs("j2", A=70, B=90)
    entries = ranking(sheets, ["A", "B", "C"], min_sheets=2)
    assert [(e.ref, e.rank, e.score, e.sheets, e.status, e.winner) for e in entries] == [
        ("B", 1, 85.0, 2, "ranked", True),
        ("A", 2, 65.0, 2, "ranked", False),
        ("C", None, 70.0, 1, "insufficient", False),
    ]


def test_entry_without_sheets_has_no_score_and_is_insufficient() -> None:
    entries = ranking(xs("j1", A=60), ["A", "B"], min_sheets=0)
    b = by_ref(entries)["B"]
    assert (b.rank, b.score, b.sheets, b.status, b.criterion_means, b.sheet_totals) == (
        None,
        None,
        0,
        "insufficient",
        {},
        [],
    )
    assert by_ref(entries)["A"].status == "ranked"


def test_sheets_of_entries_not_taking_part_are_ignored() -> None:
    # W was withdrawn: its sheet is not eligible, so it counts neither for W nor in zscore's calibration.
    sheets = xs("j1", A=64, B=84, W=0) + xs("j2", A=16, C=36)
    entries = by_ref(ranking(sheets, ["A", "B", "C"], method="zscore"))
    assert {ref: e.score for ref, e in entries.items()} == {"A": 24.0, "B": 76.0, "C": 76.0}


def test_criterion_means_and_sheet_totals_explain_the_rank() -> None:
    criteria = [
        CriterionSpec("a", Decimal(1), Decimal(0), Decimal(10), 0),
        CriterionSpec("b", Decimal(1), Decimal(1), Decimal(5), 1),
    ]
    sheets = [SheetRow("j1", "A", {"a": Decimal(5), "b": Decimal(3)}), SheetRow("j2", "A", {"a": 10.0, "b": 1.0})]
    [a] = ranking(sheets, ["A"], criteria=criteria)
    # sheet 1: a 50, b 50 -> T 50; sheet 2: a 100, b 0 -> T 50
    assert (a.criterion_means, a.sheet_totals, a.score) == ({"a": 75.0, "b": 25.0}, [50.0, 50.0], 50.0)


# --- 5. Order and ties -----------------------------------------------------------------------------


def test_tie_broken_by_heaviest_criterion() -> None:
    criteria = [
        CriterionSpec("a", Decimal(1), Decimal(0), Decimal(10), 0),
        CriterionSpec("b", Decimal(3), Decimal(0), Decimal(10), 1),
    ]
    # T = 2.5 * a + 7.5 * b: A (a 3, b 1) and B (a 0, b 2) both 15. b weighs most: B (20) before A (10),
    # although the list order (a first) would have put A first.
    sheets = [SheetRow("j1", "A", {"a": Decimal(3), "b": Decimal(1)}), SheetRow("j1", "B", {"a": 0, "b": 2})]
    entries = ranking(sheets, ["A", "B"], criteria=criteria)
    assert [(e.ref, e.score, e.rank, e.tied) for e in entries] == [("B", 15.0, 1, False), ("A", 15.0, 2, False)]


def test_tie_with_equal_weights_broken_by_list_order() -> None:
    y = CriterionSpec("y", Decimal(2), Decimal(0), Decimal(10), 1)
    x = CriterionSpec("x", Decimal(2), Decimal(0), Decimal(10), 0)
    # A (x 6, y 2) and B (x 2, y 6) both 40; x comes first in the round's list (position 0).
    sheets = [SheetRow("j1", "A", {"x": 6, "y": 2}), SheetRow("j1", "B", {"x": 2, "y": 6})]
    entries = ranking(sheets, ["A", "B"], criteria=[y, x])
    assert [(e.ref, e.score, e.rank) for e in entries] == [("A", 40.0, 1), ("B", 40.0, 2)]
    assert tie_break_order([y, x]) == [x, y]


def test_tie_break_compares_later_criteria_when_the_first_is_equal() -> None:
    criteria = [CriterionSpec(k, Decimal(1), Decimal(0), Decimal(10), i) for i, k in enumerate("pqr")]
    # A (p 5, q 6, r 4) and B (p 5, q 4, r 6) both 50; equal weights: p first (equal), then q decides.
    sheets = [SheetRow("j1", "A", {"p": 5, "q": 6, "r": 4}), SheetRow("j1", "B", {"p": 5, "q": 4, "r": 6})]
    assert summary(ranking(sheets, ["A", "B"], criteria=criteria)) == [
        ("A", 1, False, True, False),
        ("B", 2, False, False, False),
    ]


def test_median_raising_a_score_off_the_middle_wins_the_tie_break() -> None:
    # E (40, 50, 60) and F (40, 50, 70): both median 50; F's mean (53.33) beats E's (50). Raising E's
    # 60 to 80 leaves its median at 50 but lifts its mean to 56.67: E moves up, never down.
    before = xs("j1", E=40, F=40) + xs("j2", E=50, F=50) + xs("j3", E=60, F=70)
    after = xs("j1", E=40, F=40) + xs("j2", E=50, F=50) + xs("j3", E=80, F=70)
    assert [(e.ref, e.rank, e.score) for e in ranking(before, ["E", "F"], method="median")] == [
        ("F", 1, 50.0),
        ("E", 2, 50.0),
    ]
    assert [(e.ref, e.rank, e.score) for e in ranking(after, ["E", "F"], method="median")] == [
        ("E", 1, 50.0),
        ("F", 2, 50.0),
    ]


def test_full_tie_shares_a_rank_and_skips_the_next() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=70)
    assert summary(ranking(sheets, ["A", "B", "C", "D"])) == [
        ("A", 1, False, True, False),
        ("B", 2, True, False, False),
        ("C", 2, True, False, False),
        ("D", 4, False, False, False),
    ]


def test_scores_within_tolerance_are_equal() -> None:
    # 80.0000000005 and 80 differ by 5e-10 <= 1e-9: equal scores, equal criteria, so tied.
    sheets = xs("j1", A="80.0000000005", B=80, C="80.000000002")
    assert summary(ranking(sheets, ["A", "B", "C"], prizes=0)) == [
        ("C", 1, False, False, False),
        ("A", 2, True, False, False),
        ("B", 2, True, False, False),
    ]


# --- 6. Winners and decisions ----------------------------------------------------------------------


def test_tie_across_the_prize_line_needs_a_decision() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=70)
    assert summary(ranking(sheets, ["A", "B", "C", "D"], prizes=2)) == [
        ("A", 1, False, True, False),
        ("B", 2, True, False, True),
        ("C", 2, True, False, True),
        ("D", 4, False, False, False),
    ]


def test_tie_for_the_only_prize_needs_a_decision() -> None:
    sheets = xs("j1", A=90, B=90, C=70)
    assert summary(ranking(sheets, ["A", "B", "C"], prizes=1)) == [
        ("A", 1, True, False, True),
        ("B", 1, True, False, True),
        ("C", 3, False, False, False),
    ]


def test_tie_inside_the_prizes_are_all_winners() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=70)
    assert summary(ranking(sheets, ["A", "B", "C", "D"], prizes=3)) == [
        ("A", 1, False, True, False),
        ("B", 2, True, True, False),
        ("C", 2, True, True, False),
        ("D", 4, False, False, False),
    ]


def test_prizes_zero_has_no_winner_and_no_decision() -> None:
    sheets = xs("j1", A=90, B=90)
    assert summary(ranking(sheets, ["A", "B"], prizes=0)) == [
        ("A", 1, True, False, False),
        ("B", 1, True, False, False),
    ]


def test_decision_resolves_a_tie_across_the_prize_line() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=70)
    entries = ranking(sheets, ["A", "B", "C", "D"], prizes=2, decisions={"c": ["D", "C", "B"]})
    assert summary(entries) == [
        ("A", 1, False, True, False),
        ("C", 2, True, True, False),
        ("B", 3, True, False, False),
        ("D", 4, False, False, False),
    ]


def test_decision_naming_part_of_the_group_resolves_nothing() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=80)
    entries = ranking(sheets, ["A", "B", "C", "D"], prizes=2, decisions={"c": ["C", "B"]})
    assert [(e.rank, e.decision_needed, e.winner) for e in entries] == [
        (1, False, True),
        (2, True, False),
        (2, True, False),
        (2, True, False),
    ]


def test_decision_of_another_category_or_without_tie_changes_nothing() -> None:
    sheets = xs("j1", A=90, B=80, C=80, D=70)
    plain = ranking(sheets, ["A", "B", "C", "D"], prizes=3)
    assert ranking(sheets, ["A", "B", "C", "D"], prizes=3, decisions={"c": ["C", "B"]}) == plain
    across = ranking(sheets, ["A", "B", "C", "D"], prizes=2, decisions={"other": ["C", "B"]})
    assert [e.decision_needed for e in across] == [False, True, True, False]


# --- Output ----------------------------------------------------------------------------------------


def test_output_by_rank_then_unranked_by_ref_and_categories_in_given_order() -> None:
    entries = rows("E3", "E1", "E2", "E4", category="p")
    sheets = xs("j1", E3=50, E1=70, E2=70) + xs("j2", E1=70, E2=70, E3=50, E4=99)
    categories = [CategorySpec("q", 1), CategorySpec("p", 1)]
    q, p = rank_round(X, categories, entries, sheets, "mean", 2)
    assert (q.category, q.prizes, q.entries) == ("q", 1, [])
    assert [(e.ref, e.rank) for e in p.entries] == [("E1", 1), ("E2", 1), ("E3", 3), ("E4", None)]


def test_results_document_matches_the_spec_example() -> None:
    entries = [EntryRow("E002", "smart-city", "Beispiel GmbH")]
    sheets = [SheetRow(f"j{i}", "E002", {"x": Decimal(v)}) for i, v in enumerate(["75", "80", "85", "85"])]
    results = rank_round(X, [CategorySpec("smart-city", 1)], entries, sheets, "mean", 3)
    assert results_document("sccon-startup-award-2023", "pre-selection", "mean", results) == {
        "award": "sccon-startup-award-2023",
        "round": "pre-selection",
        "method": "mean",
        "categories": [
            {
                "category": "smart-city",
                "prizes": 1,
                "entries": [
                    {
                        "ref": "E002",
                        "startup": "Beispiel GmbH",
                        "rank": 1,
                        "score": 81.25,
                        "sheets": 4,
                        "tied": False,
                        "winner": True,
                        "decision_needed": False,
                        "status": "ranked",
                    }
                ],
            }
        ],
    }


def test_results_document_rounds_scores_to_four_decimals_and_keeps_null() -> None:
    sheets = xs("j1", A=70, B="12.3456", C=0) + xs("j2", A=80, B="12.3457", C=0) + xs("j3", A=80, C=1)
    results = rank_round(X, [CategorySpec("c", 1)], rows("A", "B", "C", "D"), sheets, "mean", 1)
    document = results_document("a", "r", "mean", results)
    assert [(e["ref"], e["score"]) for e in document["categories"][0]["entries"]] == [
        ("A", 76.6667),  # 230 / 3
        ("B", 12.3457),  # 12.34565, half away from zero
        ("C", 0.3333),  # 1 / 3
        ("D", None),
    ]


def test_round_score_half_away_from_zero() -> None:
    assert [round_score(v) for v in (81.25, 12.34565, 0.00004, -0.00004, 99.99995, 2 / 3)] == [
        81.25,
        12.3457,
        0.0,
        0.0,
        100.0,
        0.6667,
    ]


def test_duplicate_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        rank_round(X, [CategorySpec("c", 1)], rows("A", "A"), [], "mean", 1)


# --- Properties ------------------------------------------------------------------------------------

METHODS = ("mean", "median", "trimmed", "zscore")
RANGES = ((0, 10), (1, 5), (0, 4))
WEIGHTS = ("1", "2", "3", "0.5", "1.5")


@dataclass(frozen=True)
class Round:
    criteria: list[CriterionSpec]
    categories: list[CategorySpec]
    entries: list[EntryRow]
    sheets: list[SheetRow]
    method: str
    min_sheets: int

    def rank(self, **changes: Any) -> list[CategoryResult]:
        r = replace(self, **changes)
        return rank_round(r.criteria, r.categories, r.entries, r.sheets, r.method, r.min_sheets)


@st.composite
def rounds(draw: st.DrawFn, methods: Sequence[str] = METHODS, complete: bool = False, headroom: int = 0) -> Round:
    """A small round: 1-3 criteria, up to 7 entries in two categories, up to 4 jurors, coarse scores
    (so ties are common). ``complete``: every juror scores every entry. ``headroom``: scores stay that
    far below each criterion's max."""
    criteria = [
        CriterionSpec(f"c{i}", Decimal(draw(st.sampled_from(WEIGHTS))), Decimal(lo), Decimal(hi), i)
        for i, (lo, hi) in enumerate(draw(st.lists(st.sampled_from(RANGES), min_size=1, max_size=3)))
    ]
    entries = [EntryRow(f"E{i}", draw(st.sampled_from("pq")), f"S{i}") for i in range(draw(st.integers(1, 7)))]
    sheets = [
        SheetRow(
            f"j{j}",
            e.ref,
            {c.key: Decimal(draw(st.integers(int(c.min), int(c.max) - headroom))) for c in criteria},
        )
        for j in range(draw(st.integers(1, 4)))
        for e in entries
        if complete or draw(st.booleans())
    ]
    categories = [CategorySpec("p", draw(st.integers(0, 3))), CategorySpec("q", draw(st.integers(0, 3)))]
    return Round(criteria, categories, entries, sheets, draw(st.sampled_from(methods)), draw(st.integers(0, 3)))


@st.composite
def dense_rounds(draw: st.DrawFn, methods: Sequence[str] = METHODS) -> Round:
    """A crowded category: 2-4 entries that 3-5 jurors all score from 0 to 4 on one or two criteria, so
    equal scores, and ties broken by the criteria, come up in most examples."""
    criteria = [
        CriterionSpec(f"c{i}", Decimal(draw(st.sampled_from(("1", "2")))), Decimal(0), Decimal(4), i)
        for i in range(draw(st.integers(1, 2)))
    ]
    entries = [EntryRow(f"E{i}", "p", f"S{i}") for i in range(draw(st.integers(2, 4)))]
    sheets = [
        SheetRow(f"j{j}", e.ref, {c.key: Decimal(draw(st.integers(0, 4))) for c in criteria})
        for j in range(draw(st.integers(3, 5)))
        for e in entries
    ]
    categories = [CategorySpec("p", draw(st.integers(0, 2)))]
    return Round(criteria, categories, entries, sheets, draw(st.sampled_from(methods)), 0)


def any_round(methods: Sequence[str] = METHODS) -> st.SearchStrategy[Round]:
    return st.one_of(rounds(methods), dense_rounds(methods))


def raise_one_score(game: Round, data: st.DataObject) -> tuple[str, list[SheetRow]] | None:
    """Some sheet with one score raised (staying <= the criterion's max): (its entry, the new sheets)."""
    if not game.sheets:
        return None
    i = data.draw(st.integers(0, len(game.sheets) - 1))
    criterion = data.draw(st.sampled_from(game.criteria))
    sheet = game.sheets[i]
    old = int(sheet.scores[criterion.key])
    if old == int(criterion.max):
        return None
    raised = list(game.sheets)
    new = data.draw(st.integers(old + 1, int(criterion.max)))
    raised[i] = replace(sheet, scores={**sheet.scores, criterion.key: Decimal(new)})
    return sheet.entry, raised


def comparable(results: Sequence[CategoryResult]) -> list[Any]:
    """Everything of the results; each entry's sheet totals as a multiset (they follow the input order)."""
    return [
        (r.category, r.prizes, [replace(e, sheet_totals=sorted(e.sheet_totals)) for e in r.entries]) for r in results
    ]


def ranks(results: Sequence[CategoryResult]) -> dict[str, int | None]:
    return {e.ref: e.rank for r in results for e in r.entries}


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(any_round(), st.randoms(use_true_random=False))
def test_property_result_independent_of_input_order(game: Round, rng: random.Random) -> None:
    sheets, entries = list(game.sheets), list(game.entries)
    rng.shuffle(sheets)
    rng.shuffle(entries)
    assert comparable(game.rank(sheets=sheets, entries=entries)) == comparable(game.rank())


@PROPERTY
@given(any_round(), st.sampled_from([Decimal("0.5"), Decimal(2), Decimal(3), Decimal("7.5"), Decimal("0.01")]))
def test_property_scaling_every_weight_changes_nothing(game: Round, factor: Decimal) -> None:
    scaled = [replace(c, weight=Decimal(c.weight) * factor) for c in game.criteria]
    assert game.rank(criteria=scaled) == game.rank()


@settings(max_examples=400, deadline=None)
@given(any_round(("mean", "median", "trimmed")), st.data())
def test_property_raising_a_score_never_lowers_the_rank(game: Round, data: st.DataObject) -> None:
    change = raise_one_score(game, data)
    if change is None:
        return
    ref, raised = change
    before, after = ranks(game.rank())[ref], ranks(game.rank(sheets=raised))[ref]
    assert (before is None) == (after is None)
    assert after is None or before is None or after <= before


def entry_z(results: Sequence[CategoryResult], ref: str) -> float | None:
    """An entry's z read back from the zscore result: (score - M) / S, M and S over every sheet total."""
    totals = [t for r in results for e in r.entries for t in e.sheet_totals]
    spread = statistics.pstdev(totals)
    [score] = [e.score for r in results for e in r.entries if e.ref == ref]
    return None if score is None or spread < 1e-6 else (score - statistics.fmean(totals)) / spread


@PROPERTY
@given(any_round(("zscore",)), st.data())
def test_property_zscore_raising_a_score_never_lowers_the_entrys_z(game: Round, data: st.DataObject) -> None:
    # The rank can drop (see test_zscore_raising_a_score_can_lower_the_rank); the entry's own z cannot:
    # a sheet's z rises with its T for a fixed juror (the juror's mu and sigma move with it, but
    # (T - mu) / sigma is increasing in T), and the entry's other sheets are by other jurors.
    change = raise_one_score(game, data)
    if change is None:
        return
    ref, raised = change
    before, after = entry_z(game.rank(), ref), entry_z(game.rank(sheets=raised), ref)
    if before is not None and after is not None:
        assert after >= before - 1e-9


@PROPERTY
@given(rounds(methods=("zscore",), complete=True, headroom=2), st.data())
def test_property_zscore_a_juror_scoring_uniformly_higher_changes_no_rank(game: Round, data: st.DataObject) -> None:
    # What zscore is for: when every juror scores every entry, one juror giving every sheet the same
    # amount more on each criterion (T shifts by a constant for that juror) changes no rank.
    juror = data.draw(st.sampled_from(sorted({s.juror for s in game.sheets})))
    shift = {c.key: data.draw(st.integers(0, 2)) for c in game.criteria}
    shifted = [
        replace(s, scores={k: v + shift[k] for k, v in s.scores.items()}) if s.juror == juror else s
        for s in game.sheets
    ]
    assert ranks(game.rank(sheets=shifted)) == ranks(game.rank())
