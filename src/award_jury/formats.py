"""Rules about the shape of data that the set-up forms (``awards/validators.py``), bundles
(``bundle/validate.py``) and score sheets (``judging/sheets.py``) share, written once: slugs,
keys and colours, how precise a number may be, and what makes a criterion's scale and a value on
it. Each caller words the problems its own way (translated for people, technical with a JSON path
for bundles), so the rules here answer with codes. Pure: imports nothing of ours."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: Scores, weights and scale bounds carry at most this many decimal places (the columns' scale).
MAX_DECIMALS = 4
#: Numbers must be smaller than this in magnitude (the columns' precision).
MAX_MAGNITUDE = 10**7


def too_precise(number: Decimal) -> bool:
    """More decimal places than :data:`MAX_DECIMALS` as written (``7.00000`` counts five)."""
    return number.as_tuple().exponent < -MAX_DECIMALS  # type: ignore[operator]


class ScaleProblem(StrEnum):
    MAX_NOT_ABOVE_MIN = "max_not_above_min"
    STEP_NOT_POSITIVE = "step_not_positive"
    STEP_NOT_DIVIDING = "step_not_dividing"


def scale_problems(lo: Decimal, hi: Decimal, step: Decimal) -> list[ScaleProblem]:
    """A criterion's scale: the maximum above the minimum, a positive step that divides the range."""
    problems = []
    if lo >= hi:
        problems.append(ScaleProblem.MAX_NOT_ABOVE_MIN)
    if step <= 0:
        problems.append(ScaleProblem.STEP_NOT_POSITIVE)
    elif lo < hi and (hi - lo) % step != 0:
        problems.append(ScaleProblem.STEP_NOT_DIVIDING)
    return problems


class ValueProblem(StrEnum):
    BELOW = "below"
    ABOVE = "above"
    BETWEEN_STEPS = "between_steps"


def value_problem(value: Decimal, lo: Decimal, hi: Decimal, step: Decimal) -> ValueProblem | None:
    """A value on a scale (SPEC §2): ``lo <= value <= hi`` and ``(value - lo) / step`` whole."""
    if value < lo:
        return ValueProblem.BELOW
    if value > hi:
        return ValueProblem.ABOVE
    if (value - lo) % step != 0:
        return ValueProblem.BETWEEN_STEPS
    return None
