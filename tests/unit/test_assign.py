"""Automatic assignment (pure): categories and conflicts respected, k reached where possible,
shortfalls reported, loads balanced, deterministic."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from award_jury.judging.assign import Plan, Shortfall, plan_assignments


@st.composite
def awards(draw: st.DrawFn, max_entries: int = 500, max_jurors: int = 60) -> tuple:
    n_categories = draw(st.integers(1, 3))
    n_entries = draw(st.integers(0, max_entries))
    n_jurors = draw(st.integers(1, max_jurors))
    seed = draw(st.integers(0, 2**32))
    rng = random.Random(seed)
    entries = [(e, rng.randrange(n_categories)) for e in range(1, n_entries + 1)]
    jurors = {j: rng.sample(range(n_categories), rng.randint(1, n_categories)) for j in range(1000, 1000 + n_jurors)}
    rate = draw(st.sampled_from([0.0, 0.05, 0.3]))
    conflicts = {(j, e) for e, c in entries for j, cats in jurors.items() if c in cats and rng.random() < rate}
    k = draw(st.integers(1, 6))
    return entries, jurors, conflicts, k


def eligible(entries: list, jurors: dict, conflicts: set) -> dict[int, set[int]]:
    return {e: {j for j, cats in jurors.items() if c in cats and (j, e) not in conflicts} for e, c in entries}


def check_plan(plan: Plan, entries: list, jurors: dict, conflicts: set, k: int) -> None:
    allowed = eligible(entries, jurors, conflicts)
    per_entry = Counter(e for _j, e in plan.pairs)
    for juror, entry in plan.pairs:
        assert juror in allowed[entry], "a juror outside the entry's category, or with a conflict"
    for entry, _category in entries:
        assert per_entry[entry] == min(k, len(allowed[entry]))
    expected_short = [Shortfall(e, c, k, len(allowed[e])) for e, c in entries if len(allowed[e]) < k]
    assert plan.shortfalls == sorted(expected_short, key=lambda s: (s.category_id, s.entry_id))
    assert plan.loads == {j: sum(1 for jj, _e in plan.pairs if jj == j) for j in jurors}
    # No single move to a juror with two sheets less is left.
    assigned: dict[int, set[int]] = {}
    for juror, entry in plan.pairs:
        assigned.setdefault(entry, set()).add(juror)
    for juror, entry in plan.new_pairs:
        lighter = [j for j in allowed[entry] - assigned[entry] if plan.loads[j] <= plan.loads[juror] - 2]
        assert lighter == [], f"entry {entry} could move from juror {juror} to {lighter}"


@settings(max_examples=60, deadline=None)
@given(awards())
def test_generated_awards_respect_every_rule(award: tuple) -> None:
    entries, jurors, conflicts, k = award
    check_plan(plan_assignments(entries, jurors, conflicts, k), entries, jurors, conflicts, k)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 500), st.integers(1, 60), st.integers(1, 6))
def test_one_pool_without_conflicts_is_balanced_within_one(n_entries: int, n_jurors: int, k: int) -> None:
    entries = [(e, 7) for e in range(n_entries)]
    jurors = {j: [7] for j in range(n_jurors)}
    plan = plan_assignments(entries, jurors, set(), k)
    assert plan.spread <= 1
    assert len(plan.pairs) == n_entries * min(k, n_jurors)


def test_same_input_in_another_order_gives_the_same_plan() -> None:
    rng = random.Random(5)
    entries = [(e, rng.randrange(2)) for e in range(300)]
    jurors = {j: rng.sample([0, 1], rng.randint(1, 2)) for j in range(40)}
    conflicts = {(j, e) for e, _c in entries for j in jurors if rng.random() < 0.05}
    first = plan_assignments(entries, jurors, conflicts, 4)
    shuffled_entries = entries[::-1]
    shuffled_jurors = dict(reversed(list(jurors.items())))
    second = plan_assignments(shuffled_entries, shuffled_jurors, list(conflicts)[::-1], 4)
    assert first.pairs == second.pairs


def test_too_few_jurors_in_a_category_is_reported_not_hidden() -> None:
    entries = [(1, 0), (2, 0), (3, 1)]
    jurors = {10: [0], 11: [0], 12: [1]}
    plan = plan_assignments(entries, jurors, {(11, 2)}, 3)
    assert plan.shortfalls == [Shortfall(1, 0, 3, 2), Shortfall(2, 0, 3, 1), Shortfall(3, 1, 3, 1)]
    assert plan.pairs == {(10, 1), (11, 1), (10, 2), (12, 3)}


def test_existing_assignments_are_kept_and_counted() -> None:
    entries = [(1, 0), (2, 0)]
    jurors = {10: [0], 11: [0], 12: [0]}
    plan = plan_assignments(entries, jurors, set(), 2, existing=[(12, 1), (12, 2)])
    assert {(12, 1), (12, 2)} <= plan.pairs
    assert plan.new_pairs == plan.pairs - {(12, 1), (12, 2)}
    assert sorted(plan.loads.values()) == [1, 1, 2]


def test_conflicted_existing_assignment_is_dropped() -> None:
    plan = plan_assignments([(1, 0)], {10: [0], 11: [0]}, {(10, 1)}, 1, existing=[(10, 1)])
    assert plan.pairs == {(11, 1)}


def test_largest_generated_award_respects_every_rule() -> None:
    rng = random.Random(500)
    entries = [(e, rng.randrange(3)) for e in range(1, 501)]
    jurors = {j: rng.sample(range(3), rng.randint(1, 3)) for j in range(1000, 1060)}
    conflicts = {(j, e) for e, c in entries for j, cats in jurors.items() if c in cats and rng.random() < 0.05}
    plan = plan_assignments(entries, jurors, conflicts, 5)
    check_plan(plan, entries, jurors, conflicts, 5)
    assert plan.spread <= 1
