"""The prelude of every award-scoped page: load the award (and the round), ask the policy, fetch
the acting person. :func:`award_for` is the one name for that opening step."""

from __future__ import annotations

from typing import overload

from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.awards.models import Award, Round
from award_jury.awards.services import get_award
from award_jury.awards.setup import find_round
from award_jury.entries.models import Entry
from award_jury.entries.services import is_member, load_entry
from award_jury.errors import NotFoundError, SignInRequiredError
from award_jury.policy import Action, Viewer, can, require


@overload
async def award_for(session: AsyncSession, slug: str, viewer: Viewer, action: Action) -> tuple[Award, Person]: ...


@overload
async def award_for(
    session: AsyncSession, slug: str, viewer: Viewer, action: Action, *, round_slug: str
) -> tuple[Award, Round, Person]: ...


async def award_for(
    session: AsyncSession, slug: str, viewer: Viewer, action: Action, *, round_slug: str | None = None
) -> tuple[Award, Person] | tuple[Award, Round, Person]:
    """The award (404 if unknown) and the viewer's Person, once the policy allows ``action`` on it;
    with ``round_slug`` also that round of the award (404 if it has none of that name), in the
    middle: ``award, rnd, actor``."""
    award = await get_award(session, slug)
    require(viewer, action, award_id=award.id)
    actor = await session.get(Person, viewer.person_id)
    assert actor is not None  # require() lets only a signed-in person through
    if round_slug is None:
        return award, actor
    return award, find_round(award, round_slug), actor


async def entry_for(session: AsyncSession, entry_id: int, viewer: Viewer, action: Action) -> Entry:
    """The entry, once the policy lets the viewer do ``action`` on it. An entry the viewer may not
    even see answers 404 (sign-in first for anonymous visitors), so ids reveal nothing."""
    entry = await load_entry(session, entry_id)
    member = is_member(entry, viewer.person_id)
    if not can(viewer, Action.VIEW_ENTRY, award_id=entry.award_id, entry_member=member):
        if not viewer.authenticated:
            raise SignInRequiredError(action.value)
        raise NotFoundError(f"entry {entry_id}")
    require(viewer, action, award_id=entry.award_id, entry_member=member)
    return entry
