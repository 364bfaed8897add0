"""Automatic assignment of jurors to entries. Pure: standard library only.

Each entry gets ``k`` jurors of its category; conflicts are respected; assignments that exist
already are kept; loads are balanced. The result is deterministic for the same input.

Method: in k passes over the entries (in a fixed shuffled order), each entry takes one more
juror: the least-loaded eligible one (ties broken by a fixed hash of entry and juror, so no
juror is favoured by id). A repair pass then moves single assignments from a juror to an
eligible one with at least two sheets less, until no such move exists. Entries with fewer than ``k``
eligible jurors get all of them and are reported, never silently short.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shortfall:
    entry_id: int
    category_id: int
    wanted: int
    assigned: int


@dataclass
class Plan:
    #: Every (juror_id, entry_id) pair of the round after the plan: kept and new ones.
    pairs: set[tuple[int, int]]
    #: Only the pairs the plan adds.
    new_pairs: set[tuple[int, int]]
    loads: dict[int, int]
    shortfalls: list[Shortfall] = field(default_factory=list)

    @property
    def spread(self) -> int:
        return (max(self.loads.values()) - min(self.loads.values())) if self.loads else 0


def _tie(entry_id: int, juror_id: int) -> int:
    """A fixed pseudo-random order of jurors per entry (Knuth's multiplicative hash)."""
    return ((entry_id * 2654435761) ^ (juror_id * 40503 + 0x9E3779B9)) & 0xFFFFFFFF


def plan_assignments(
    entries: Iterable[tuple[int, int]],
    juror_categories: Mapping[int, Iterable[int]],
    conflicts: Iterable[tuple[int, int]],
    k: int,
    existing: Iterable[tuple[int, int]] = (),
) -> Plan:
    """``entries``: (entry_id, category_id); ``juror_categories``: juror_id → category ids;
    ``conflicts`` and ``existing``: (juror_id, entry_id) pairs."""
    entry_list = sorted(set(entries))
    blocked = set(conflicts)
    by_category: dict[int, list[int]] = defaultdict(list)
    for juror, cats in sorted(juror_categories.items()):
        for cat in set(cats):
            by_category[cat].append(juror)
    loads = dict.fromkeys(juror_categories, 0)
    assigned: dict[int, set[int]] = defaultdict(set)  # entry -> jurors
    pairs: set[tuple[int, int]] = set()
    for juror, entry in existing:
        if juror in loads and (juror, entry) not in blocked:
            pairs.add((juror, entry))
            assigned[entry].add(juror)
            loads[juror] += 1

    def eligible(entry: int, category: int) -> list[int]:
        return [j for j in by_category.get(category, ()) if (j, entry) not in blocked]

    candidates = {entry: eligible(entry, cat) for entry, cat in entry_list}
    # Entries take one juror per pass, in a fixed shuffled order: every category's demand then
    # grows at the same time, so jurors of several categories are shared out evenly.
    order = sorted(entry_list, key=lambda ec: (_tie(ec[0], 0), ec[0]))
    new_pairs: set[tuple[int, int]] = set()
    for _pass in range(k):
        for entry, _category in order:
            if len(assigned[entry]) >= k:
                continue
            pick = min(
                (j for j in candidates[entry] if j not in assigned[entry]),
                key=lambda j: (loads[j], _tie(entry, j)),
                default=None,
            )
            if pick is None:
                continue
            assigned[entry].add(pick)
            loads[pick] += 1
            pairs.add((pick, entry))
            new_pairs.add((pick, entry))
    shortfalls = [
        Shortfall(entry, category, k, len(assigned[entry]))
        for entry, category in entry_list
        if len(assigned[entry]) < k
    ]
    _repair(candidates, assigned, loads, pairs, new_pairs)
    shortfalls.sort(key=lambda s: (s.category_id, s.entry_id))
    return Plan(pairs=pairs, new_pairs=new_pairs, loads=loads, shortfalls=shortfalls)


def _repair(
    candidates: dict[int, list[int]],
    assigned: dict[int, set[int]],
    loads: dict[int, int],
    pairs: set[tuple[int, int]],
    new_pairs: set[tuple[int, int]],
) -> None:
    """Move new assignments from a juror to an eligible one with at least two sheets less,
    until no such move exists. Each move lowers the sum of squared loads, so this ends."""
    entries_of: dict[int, set[int]] = defaultdict(set)
    for juror, entry in new_pairs:
        entries_of[juror].add(entry)
    moved = True
    while moved:
        moved = False
        lowest = min(loads.values(), default=0)
        for juror in sorted((j for j in loads if loads[j] >= lowest + 2), key=lambda j: (-loads[j], j)):
            for entry in sorted(entries_of[juror]):
                if loads[juror] < lowest + 2:
                    break
                target = min(
                    (j for j in candidates[entry] if loads[j] <= loads[juror] - 2 and j not in assigned[entry]),
                    key=lambda j: (loads[j], _tie(entry, j)),
                    default=None,
                )
                if target is None:
                    continue
                pairs.discard((juror, entry))
                new_pairs.discard((juror, entry))
                assigned[entry].discard(juror)
                entries_of[juror].discard(entry)
                pairs.add((target, entry))
                new_pairs.add((target, entry))
                assigned[entry].add(target)
                entries_of[target].add(entry)
                loads[juror] -= 1
                loads[target] += 1
                moved = True
