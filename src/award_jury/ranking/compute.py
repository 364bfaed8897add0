"""The ranking of a round (SPEC §3). Pure: standard library only, one implementation for every database.

Sheet totals, means, medians and criterion means are exact (integers over the round's common
denominator, then ``Fraction``), so the result never depends on the order of the input, and scaling
every weight by the same factor changes nothing at all. Only ``zscore`` needs square roots and works
in floats from there on (sums by ``math.fsum``, which is correctly rounded and so order-free too).

Equal means "within 1e-9". That relation is not transitive; groups of equals are its closure: sorted
by value, neighbours within 1e-9 of each other share a group. Where a group's entries carry different
scores, the criteria decide among all of them, so a difference of 1e-9 never splits a tie by chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from award_jury.enums import Method

#: Two scores (or criterion means) this close are equal.
TOLERANCE = Fraction(1, 10**9)
RANKED = "ranked"
INSUFFICIENT = "insufficient"

Number = Decimal | float
_NO_DECISIONS: Mapping[str, Sequence[str]] = MappingProxyType({})


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    weight: Decimal | float
    min: Decimal | float
    max: Decimal | float
    #: Order in the round's list (breaks ties between criteria of equal weight).
    position: int


@dataclass(frozen=True)
class SheetRow:
    juror: str
    entry: str
    #: Criterion key -> value; a submitted sheet scores every criterion.
    scores: Mapping[str, Decimal | float]


@dataclass(frozen=True)
class EntryRow:
    ref: str
    category: str
    startup: str


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    prizes: int


@dataclass(frozen=True)
class RankedEntry:
    ref: str
    startup: str
    rank: int | None
    #: Full precision; ``round_score`` gives the reported value. None without any eligible sheet.
    score: float | None
    sheets: int
    tied: bool
    winner: bool
    decision_needed: bool
    status: str
    #: Criterion key -> mean over the eligible sheets of 100 * (s - min) / (max - min).
    criterion_means: dict[str, float]
    #: Every eligible sheet's total T, in input order.
    sheet_totals: list[float]


@dataclass(frozen=True)
class CategoryResult:
    category: str
    prizes: int
    entries: list[RankedEntry]


def tie_break_order(criteria: Sequence[CriterionSpec]) -> list[CriterionSpec]:
    """The criteria in the order that breaks equal scores: heaviest first, then the round's list order."""
    return sorted(criteria, key=lambda c: (-Fraction(c.weight), c.position, c.key))


class _Scales:
    """The round's criteria, checked, and the exact value of every score its sheets use.

    Sheet totals are kept as integers in units of ``1 / t_unit`` and each criterion's normalised
    scores in units of ``1 / n_unit[key]`` (common denominators of the round): exact, and fast to sum.
    """

    def __init__(self, criteria: Sequence[CriterionSpec], sheets: Sequence[tuple[str, Mapping[str, Number]]]) -> None:
        self.keys = [c.key for c in sorted(criteria, key=lambda c: (c.position, c.key))]
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"criterion keys repeat: {self.keys}")
        for c in criteria:
            if not Fraction(c.weight) > 0 or not Fraction(c.max) > Fraction(c.min):
                raise ValueError(f"criterion {c.key!r} needs weight > 0 and max > min")
        self.tie_keys = [c.key for c in tie_break_order(criteria)]
        if sheets and not criteria:
            raise ValueError("a round without criteria has no sheet totals")
        values: dict[str, set[Number]] = {key: set() for key in self.keys}
        for where, scores in sheets:
            missing = [key for key in self.keys if key not in scores]
            if missing:
                raise ValueError(f"sheet {where} lacks scores for {missing}")
            for key in self.keys:
                values[key].add(scores[key])
        total_weight = sum((Fraction(c.weight) for c in criteria), Fraction(0))
        norm: dict[tuple[str, Number], Fraction] = {}
        part: dict[tuple[str, Number], Fraction] = {}
        for c in criteria:
            lo, span, factor = Fraction(c.min), Fraction(c.max) - Fraction(c.min), Fraction(c.weight) / total_weight
            for value in values[c.key]:
                norm[c.key, value] = 100 * (Fraction(value) - lo) / span
                part[c.key, value] = factor * norm[c.key, value]
        self.t_unit = math.lcm(*(f.denominator for f in part.values()))
        self.n_unit = {key: math.lcm(*(norm[key, v].denominator for v in values[key])) for key in self.keys}
        self._part = {kv: int(f * self.t_unit) for kv, f in part.items()}
        self._norm = {kv: int(f * self.n_unit[kv[0]]) for kv, f in norm.items()}

    def total(self, scores: Mapping[str, Number]) -> int:
        """The sheet's total T, in units of ``1 / t_unit``."""
        return sum(self._part[key, scores[key]] for key in self.keys)

    def normalised(self, scores: Mapping[str, Number]) -> dict[str, int]:
        """100 * (s - min) / (max - min) per criterion, in units of ``1 / n_unit[key]``."""
        return {key: self._norm[key, scores[key]] for key in self.keys}


def sheet_total(scores: Mapping[str, Number], criteria: Sequence[CriterionSpec]) -> float:
    """T = 100 * sum_c(w_c * (s_c - min_c) / (max_c - min_c)) / sum_c(w_c), from 0 to 100."""
    scales = _Scales(criteria, [("given", scores)])
    return float(Fraction(scales.total(scores), scales.t_unit))


def round_score(score: float) -> float:
    """The reported score: 4 decimals, halves away from zero, as written (so 12.34565 gives 12.3457)."""
    rounded = Decimal(repr(score)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return float(rounded) or 0.0


@dataclass
class _Entry:
    row: EntryRow
    #: Sheet totals in units of ``1 / t_unit``.
    totals: list[int] = field(default_factory=list)
    norm_sums: dict[str, int] = field(default_factory=dict)
    #: Criterion key -> the unit of its normalised sums (``n_unit`` of the round's scales).
    units: Mapping[str, int] = field(default_factory=dict)
    score: Fraction | None = None
    rank: int | None = None
    tied: bool = False
    winner: bool = False
    decision_needed: bool = False


# Aggregates of integer totals, in the same units.
def _mean(values: Sequence[int]) -> Fraction:
    return Fraction(sum(values), len(values))


def _median(values: Sequence[int]) -> Fraction:
    ordered, mid = sorted(values), len(values) // 2
    return Fraction(ordered[mid]) if len(ordered) % 2 else Fraction(ordered[mid - 1] + ordered[mid], 2)


def _trimmed(values: Sequence[int]) -> Fraction:
    return _mean(sorted(values)[1:-1]) if len(values) >= 5 else _mean(values)


def _std(values: Sequence[int]) -> float:
    """Population standard deviation."""
    n, total = len(values), sum(values)
    return math.sqrt(Fraction(n * sum(v * v for v in values) - total * total, n * n))


def _zscores(entries: Sequence[_Entry], sheets: Sequence[tuple[str, _Entry, int]], unit: int) -> None:
    """Score every entry with sheets by ``M + S * z`` (SPEC §3, zscore)."""
    by_juror: dict[str, list[int]] = {}
    for juror, _entry, total in sheets:
        by_juror.setdefault(juror, []).append(total)
    calibration: dict[str, tuple[Fraction, float] | None] = {}
    for juror, totals in by_juror.items():
        sigma = _std(totals) if len(totals) >= 2 else 0.0
        calibration[juror] = (_mean(totals), sigma) if sigma / unit >= 1e-9 else None
    z_of: dict[str, list[float]] = {entry.row.ref: [] for entry in entries}
    for juror, entry, total in sheets:
        cal = calibration[juror]
        z_of[entry.row.ref].append(float(total - cal[0]) / cal[1] if cal else 0.0)
    all_totals = [total for _juror, _entry, total in sheets]
    big_m = float(_mean(all_totals) / unit) if all_totals else 0.0
    big_s = _std(all_totals) / unit if all_totals else 0.0
    for entry in entries:
        zs = z_of[entry.row.ref]
        if zs:
            entry.score = Fraction(big_m + big_s * (math.fsum(zs) / len(zs)))


def _groups(items: list[_Entry], keys: Sequence[Callable[[_Entry], Fraction]]) -> list[list[_Entry]]:
    """Groups of equals, best first: by each key in turn, highest first, neighbours within TOLERANCE equal."""
    groups = [items]
    for key in keys:
        split: list[list[_Entry]] = []
        for group in groups:
            if len(group) == 1:  # nothing to break
                split.append(group)
                continue
            previous: Fraction | None = None
            # Sort on (float, exact) pairs: floats decide almost every comparison quickly and
            # round monotonically, the exact value settles the rest.
            keyed = sorted(((float(key(item)), key(item), i, item) for i, item in enumerate(group)), reverse=True)
            for _approx, value, _i, item in keyed:
                if previous is not None and previous - value <= TOLERANCE:
                    split[-1].append(item)
                else:
                    split.append([item])
                previous = value
        groups = split
    return groups


def _score_key(entry: _Entry) -> Fraction:
    assert entry.score is not None
    return entry.score


def _criterion_mean(entry: _Entry, key: str) -> Fraction:
    """Mean over the entry's eligible sheets of 100 * (s - min) / (max - min), exactly."""
    return Fraction(entry.norm_sums[key], len(entry.totals) * entry.units[key])


def _criterion_key(key: str) -> Callable[[_Entry], Fraction]:
    return lambda entry: _criterion_mean(entry, key)


def _rank_category(ranked: list[_Entry], tie_keys: Sequence[str], prizes: int, decided: Sequence[str] | None) -> None:
    keys = [_score_key, *(_criterion_key(key) for key in tie_keys)]
    position = 1
    order = {ref: i for i, ref in reversed(list(enumerate(decided or ())))}
    for group in _groups(ranked, keys):
        last = position + len(group) - 1
        across = position <= prizes < last
        resolved = across and all(e.row.ref in order for e in group)
        if resolved:
            group.sort(key=lambda e: order[e.row.ref])
        for i, entry in enumerate(group):
            entry.rank = position + i if resolved else position
            entry.tied = len(group) > 1
            entry.decision_needed = across and not resolved
            entry.winner = not entry.decision_needed and entry.rank <= prizes
        position = last + 1


def rank_round(
    criteria: Sequence[CriterionSpec],
    categories: Sequence[CategorySpec],
    entries: Sequence[EntryRow],
    sheets: Sequence[SheetRow],
    method: str,
    min_sheets: int,
    decisions: Mapping[str, Sequence[str]] = _NO_DECISIONS,
) -> list[CategoryResult]:
    """Rank every category of one round (SPEC §3).

    ``entries``: the submitted entries taking part in the round, of every category (zscore calibrates
    over the whole round, so pass them all even when reporting one category; only ``categories`` are
    reported, in the order given). ``sheets``: the round's submitted sheets; sheets of other entries
    are not eligible and ignored. ``decisions``: category slug -> refs in the organiser's order; it
    resolves a group that needs a decision when it names all of the group's entries.
    """
    how = Method(method)
    slugs = [c.slug for c in categories]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"category slugs repeat: {slugs}")
    state: dict[str, _Entry] = {}
    for row in entries:
        if row.ref in state:
            raise ValueError(f"entry {row.ref!r} given twice")
        state[row.ref] = _Entry(row)
    eligible = [sheet for sheet in sheets if sheet.entry in state]
    scales = _Scales(criteria, [(f"of {s.juror} on {s.entry}", s.scores) for s in eligible])
    calibration: list[tuple[str, _Entry, int]] = []
    for sheet in eligible:
        entry = state[sheet.entry]
        total = scales.total(sheet.scores)
        entry.totals.append(total)
        for key, value in scales.normalised(sheet.scores).items():
            entry.norm_sums[key] = entry.norm_sums.get(key, 0) + value
        calibration.append((sheet.juror, entry, total))
    for entry in state.values():
        entry.units = scales.n_unit
    if how is Method.ZSCORE:
        _zscores(list(state.values()), calibration, scales.t_unit)
    else:
        aggregate = {Method.MEAN: _mean, Method.MEDIAN: _median, Method.TRIMMED: _trimmed}[how]
        for entry in state.values():
            if entry.totals:
                entry.score = aggregate(entry.totals) / scales.t_unit
    results = []
    for category in categories:
        members = [e for e in state.values() if e.row.category == category.slug]
        ranked = [e for e in members if e.totals and len(e.totals) >= min_sheets]
        _rank_category(ranked, scales.tie_keys, category.prizes, decisions.get(category.slug))
        ranked.sort(key=lambda e: (e.rank, e.row.ref))
        unranked = sorted((e for e in members if e.rank is None), key=lambda e: e.row.ref)
        listed = [_public(e, scales.t_unit) for e in ranked + unranked]
        results.append(CategoryResult(category.slug, category.prizes, listed))
    return results


def _public(entry: _Entry, unit: int) -> RankedEntry:
    return RankedEntry(
        ref=entry.row.ref,
        startup=entry.row.startup,
        rank=entry.rank,
        score=None if entry.score is None else float(entry.score),
        sheets=len(entry.totals),
        tied=entry.tied,
        winner=entry.winner,
        decision_needed=entry.decision_needed,
        status=RANKED if entry.rank is not None else INSUFFICIENT,
        criterion_means={key: entry.norm_sums[key] / (len(entry.totals) * entry.units[key]) for key in entry.norm_sums},
        sheet_totals=[t / unit for t in entry.totals],  # int / int: correctly rounded, like float(Fraction)
    )


def results_document(
    award_slug: str, round_slug: str, method: str, results: Sequence[CategoryResult]
) -> dict[str, Any]:
    """The JSON document of ``award-jury results --format json`` (SPEC §3)."""
    return {
        "award": award_slug,
        "round": round_slug,
        "method": str(method),
        "categories": [
            {
                "category": result.category,
                "prizes": result.prizes,
                "entries": [
                    {
                        "ref": e.ref,
                        "startup": e.startup,
                        "rank": e.rank,
                        "score": None if e.score is None else round_score(e.score),
                        "sheets": e.sheets,
                        "tied": e.tied,
                        "winner": e.winner,
                        "decision_needed": e.decision_needed,
                        "status": e.status,
                    }
                    for e in result.entries
                ],
            }
            for result in results
        ],
    }
