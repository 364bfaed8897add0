"""Explaining a ranking: spread of the sheets, ranks under every method, stability under
resampling, and how harsh or lenient each juror scores. Pure: standard library only."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from award_jury.ranking.compute import (
    CategoryResult,
    CategorySpec,
    CriterionSpec,
    EntryRow,
    SheetRow,
    rank_round,
    sheet_total,
)

METHODS = ("mean", "median", "trimmed", "zscore")
#: Sheets of one entry this far apart (points of 100) are flagged as a strong disagreement.
DISAGREEMENT_POINTS = 40.0


@dataclass(frozen=True)
class Spread:
    std: float
    low: float
    high: float

    @property
    def strong_disagreement(self) -> bool:
        return self.high - self.low >= DISAGREEMENT_POINTS - 1e-9  # totals in thirds are not exact floats


def spread(totals: Sequence[float]) -> Spread | None:
    if not totals:
        return None
    mean = math.fsum(totals) / len(totals)
    std = math.sqrt(math.fsum((t - mean) ** 2 for t in totals) / len(totals))
    return Spread(std, min(totals), max(totals))


def ranks_by_method(
    criteria: Sequence[CriterionSpec],
    categories: Sequence[CategorySpec],
    entries: Sequence[EntryRow],
    sheets: Sequence[SheetRow],
    min_sheets: int,
    decisions: Mapping[str, Sequence[str]],
) -> dict[str, dict[str, tuple[int | None, bool]]]:
    """method -> entry ref -> (rank, wins a prize)."""
    out: dict[str, dict[str, tuple[int | None, bool]]] = {}
    for method in METHODS:
        results = rank_round(criteria, categories, entries, sheets, method, min_sheets, decisions)
        out[method] = {e.ref: (e.rank, e.winner or e.decision_needed) for c in results for e in c.entries}
    return out


def stability(
    criteria: Sequence[CriterionSpec],
    categories: Sequence[CategorySpec],
    entries: Sequence[EntryRow],
    sheets: Sequence[SheetRow],
    method: str,
    min_sheets: int,
    *,
    resamples: int = 1000,
    seed: int = 2026,
) -> dict[str, float]:
    """How often (0..1) each entry reaches a prize position when every entry's sheets are drawn
    again with replacement (same number, same jurors' sheets), ``resamples`` times, seeded."""
    rng = random.Random(seed)
    by_entry: dict[str, list[SheetRow]] = defaultdict(list)
    for sheet in sheets:
        by_entry[sheet.entry].append(sheet)
    prizes = {c.slug: c.prizes for c in categories}
    category_of = {e.ref: e.category for e in entries}
    hits: dict[str, int] = dict.fromkeys(category_of, 0)
    for _ in range(resamples):
        drawn = [rng.choice(own) for own in by_entry.values() for _n in range(len(own))]
        for result in rank_round(criteria, categories, entries, drawn, method, min_sheets):
            for entry in result.entries:
                if entry.rank is not None and entry.rank <= prizes.get(category_of[entry.ref], 0):
                    hits[entry.ref] += 1
    return {ref: count / resamples for ref, count in hits.items()}


@dataclass(frozen=True)
class JurorCalibration:
    juror: str
    sheets: int
    mean: float
    std: float
    #: Mean difference between this juror's totals and the other jurors' mean for the same entry.
    offset: float | None


def calibration(criteria: Sequence[CriterionSpec], sheets: Sequence[SheetRow]) -> list[JurorCalibration]:
    totals = [(s.juror, s.entry, sheet_total(s.scores, criteria)) for s in sheets]
    per_entry: dict[str, list[tuple[str, float]]] = defaultdict(list)
    per_juror: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for juror, entry, total in totals:
        per_entry[entry].append((juror, total))
        per_juror[juror].append((entry, total))
    out = []
    for juror in sorted(per_juror):
        own = [t for _e, t in per_juror[juror]]
        diffs = []
        for entry, total in per_juror[juror]:
            others = [t for j, t in per_entry[entry] if j != juror]
            if others:
                diffs.append(total - math.fsum(others) / len(others))
        stats = spread(own)
        assert stats is not None
        mean = math.fsum(own) / len(own)
        out.append(JurorCalibration(juror, len(own), mean, stats.std, math.fsum(diffs) / len(diffs) if diffs else None))
    return out


@dataclass(frozen=True)
class OffsetBar:
    """One juror's row of the offset chart: the label, and (with an offset) its bar and number."""

    label: str
    offset: float | None
    #: Baseline of the row's texts.
    text_y: float
    bar_x: float = 0.0
    bar_y: float = 0.0
    bar_width: float = 0.0
    positive: bool = True
    number_x: float = 0.0
    number_anchor: str = "start"


@dataclass(frozen=True)
class OffsetChart:
    """Where everything of the offset chart goes (a horizontal bar per juror around a middle
    axis); ``templates/_macros/charts.html`` draws it. No chart library, nothing drawn here."""

    width: int
    height: int
    label_x: int
    axis_x: float
    axis_top: int
    axis_bottom: int
    bar_height: int
    bars: list[OffsetBar]


def calibration_chart(rows: Sequence[tuple[str, float | None]]) -> OffsetChart:
    """The geometry of a bar chart of offsets (points): bars grow right of the axis for a
    positive offset and left for a negative one, scaled to the largest (at least 10 points)."""
    width, label_w, row_h, pad = 640, 200, 28, 8
    values = [abs(v) for _label, v in rows if v is not None]
    scale_max = max([10.0, *values])
    mid = label_w + (width - label_w - pad) / 2
    half = (width - label_w - pad) / 2 - 40
    height = pad * 2 + row_h * max(1, len(rows)) + 20
    bars = []
    for i, (label, value) in enumerate(rows):
        y = pad + i * row_h
        if value is None:
            bars.append(OffsetBar(label, None, y + 18))
            continue
        length = half * abs(value) / scale_max
        x = mid if value >= 0 else mid - length
        anchor, tx = ("start", x + length + 4) if value >= 0 else ("end", x - 4)
        bars.append(
            OffsetBar(
                label,
                value,
                y + 18,
                bar_x=round(x, 1),
                bar_y=y + 6,
                bar_width=round(max(length, 1), 1),
                positive=value >= 0,
                number_x=round(tx, 1),
                number_anchor=anchor,
            )
        )
    return OffsetChart(width, height, label_w - 8, mid, pad, height - 20, row_h - 12, bars)


def prize_changes(by_method: Mapping[str, Mapping[str, tuple[int | None, bool]]], method: str) -> set[str]:
    """Refs whose prize position differs under some other method than ``method``."""
    base = by_method[method]
    return {
        ref
        for other in by_method.values()
        for ref, (_rank, prize) in other.items()
        if base.get(ref, (None, False))[1] != prize
    }


def winners(results: Sequence[CategoryResult]) -> dict[str, list[str]]:
    return {c.category: [e.ref for e in c.entries if e.winner] for c in results}
