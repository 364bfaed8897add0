"""Explaining a ranking: spread of the sheets, ranks under every method, stability under
resampling, and how harsh or lenient each juror scores. Pure: standard library only."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

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


def calibration_svg(
    rows: Sequence[tuple[str, float | None]], *, title: str, description: str, number: Callable[[float], str]
) -> str:
    """A small horizontal bar chart of offsets (points), drawn on the server: no chart library.
    ``number`` writes an offset beside its bar (the page's own format, so chart and table agree)."""
    width, label_w, row_h, pad = 640, 200, 28, 8
    values = [abs(v) for _label, v in rows if v is not None]
    scale_max = max([10.0, *values])
    mid = label_w + (width - label_w - pad) / 2
    half = (width - label_w - pad) / 2 - 40
    height = pad * 2 + row_h * max(1, len(rows)) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="cal-title cal-desc" class="chart">',
        f'<title id="cal-title">{escape(title)}</title><desc id="cal-desc">{escape(description)}</desc>',
        f'<line x1="{mid}" y1="{pad}" x2="{mid}" y2="{height - 20}" stroke="#4a5561" stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(rows):
        y = pad + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="13" fill="#1b1f24">'
            f"{escape(label)}</text>"
        )
        if value is None:
            continue
        length = half * abs(value) / scale_max
        x = mid if value >= 0 else mid - length
        colour = "#0b5394" if value >= 0 else "#a4161a"
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 6}" width="{max(length, 1):.1f}" height="{row_h - 12}" fill="{colour}"/>'
        )
        anchor, tx = ("start", x + length + 4) if value >= 0 else ("end", x - 4)
        parts.append(
            f'<text x="{tx:.1f}" y="{y + 18}" text-anchor="{anchor}" font-size="12" fill="#1b1f24">'
            f"{escape(number(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


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
