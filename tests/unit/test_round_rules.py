"""The one rule for "scoring is closed" (``Round.scoring_closed``), at its edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from award_jury.awards.models import Round, scoring_closed

DEADLINE = datetime(2026, 5, 31, 21, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("finalised_at", "scoring_close", "now", "closed"),
    [
        (None, DEADLINE, DEADLINE - SECOND, False),
        (None, DEADLINE, DEADLINE, False),  # the deadline itself still counts as open
        (None, DEADLINE, DEADLINE + SECOND, True),
        (None, None, DEADLINE + timedelta(days=3650), False),  # no deadline: open until finalised
        (DEADLINE - timedelta(days=1), DEADLINE, DEADLINE - timedelta(days=2), True),  # finalised early
        (DEADLINE, None, DEADLINE, True),  # finalised, no deadline
    ],
)
def test_scoring_closed_at_the_edges(
    finalised_at: datetime | None, scoring_close: datetime | None, now: datetime, closed: bool
) -> None:
    rnd = Round(slug="r1", name="Round 1", finalised_at=finalised_at, scoring_close=scoring_close)

    assert rnd.scoring_closed(now) is closed
    assert rnd.scoring_open(now) is not closed
    assert scoring_closed(finalised_at, scoring_close, now) is closed


def test_a_new_round_is_open_for_scoring() -> None:
    rnd = Round(slug="r1", name="Round 1")

    assert rnd.scoring_open(DEADLINE)
