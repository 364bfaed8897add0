"""Benchmark: automatic assignment of 2,000 entries to 200 jurors with k = 5.

Run: uv run python bench/assignment.py [--entries N] [--jurors N] [--k K] [--repeat R]
Generates a reproducible award (fixed seed): two categories, jurors in one or both,
2 % of juror-entry pairs in the same category conflicted. Prints the best of R runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from award_jury.judging.assign import plan_assignments


def generate(
    entries: int, jurors: int, seed: int = 2026
) -> tuple[list[tuple[int, int]], dict[int, list[int]], set[tuple[int, int]]]:
    rng = random.Random(seed)
    entry_list = [(e, rng.choice((1, 2))) for e in range(1, entries + 1)]
    juror_cats = {j: rng.choice(([1], [2], [1, 2])) for j in range(1, jurors + 1)}
    conflicts = {
        (j, e) for e, cat in entry_list for j, cats in juror_cats.items() if cat in cats and rng.random() < 0.02
    }
    return entry_list, juror_cats, conflicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--jurors", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    entries, jurors, conflicts = generate(args.entries, args.jurors)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        plan = plan_assignments(entries, jurors, conflicts, args.k)
        times.append(time.perf_counter() - start)
    print(
        f"{args.entries} entries, {args.jurors} jurors, k={args.k}, {len(conflicts)} conflicts: "
        f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms; "
        f"{len(plan.pairs)} assignments, loads {min(plan.loads.values())}..{max(plan.loads.values())}, "
        f"{len(plan.shortfalls)} short entries"
    )


if __name__ == "__main__":
    main()
