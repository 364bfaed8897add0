"""The policy's rule for awards that require two-factor sign-in of their organisers."""

from __future__ import annotations

import pytest

from award_jury.enums import Role
from award_jury.errors import NotAuthorizedError, TwoFactorRequiredError
from award_jury.policy import Action, Viewer, can, require

ORGANISER_ACTIONS = [
    Action.MANAGE_AWARD_PEOPLE,
    Action.SET_UP_AWARD,
    Action.MANAGE_RESULTS,
    Action.REVIEW_ENTRIES,
    Action.MANAGE_CERTIFICATES,
    Action.RUN_LIVE,
    Action.VIEW_PUBLISHED_RANKING,
    Action.VIEW_ENTRY,
]


def organiser(*, blocked: frozenset[int] = frozenset(), platform: bool = False) -> Viewer:
    return Viewer(
        person_id=1,
        platform_roles=frozenset({Role.ORGANISER}) if platform else frozenset(),
        award_roles={} if platform else {7: frozenset({Role.ORGANISER}), 8: frozenset({Role.ORGANISER})},
        needs_two_factor_for=blocked,
    )


@pytest.mark.parametrize("action", ORGANISER_ACTIONS)
@pytest.mark.parametrize("platform", [False, True])
def test_organiser_without_two_factor_may_not_act_on_an_award_that_requires_it(action: Action, platform: bool) -> None:
    viewer = organiser(blocked=frozenset({7}), platform=platform)
    assert not can(viewer, action, award_id=7)
    with pytest.raises(TwoFactorRequiredError) as raised:
        require(viewer, action, award_id=7)
    assert raised.value.award_id == 7
    assert can(viewer, action, award_id=8)  # another award without the rule
    assert can(organiser(platform=platform), action, award_id=7)  # with two-factor sign-in on


def test_other_roles_in_the_same_award_are_not_affected() -> None:
    viewer = Viewer(
        person_id=1,
        award_roles={7: frozenset({Role.ORGANISER, Role.JUROR})},
        needs_two_factor_for=frozenset({7}),
    )
    assert can(viewer, Action.SCORE, award_id=7)
    assert can(viewer, Action.MANAGE_OWN_ACCOUNT)
    assert not can(viewer, Action.APPLY, award_id=7)  # a juror still never applies


def test_someone_who_is_no_organiser_gets_the_usual_refusal() -> None:
    viewer = Viewer(person_id=2, award_roles={7: frozenset({Role.JUROR})}, needs_two_factor_for=frozenset())
    with pytest.raises(NotAuthorizedError) as raised:
        require(viewer, Action.SET_UP_AWARD, award_id=7)
    assert not isinstance(raised.value, TwoFactorRequiredError)
