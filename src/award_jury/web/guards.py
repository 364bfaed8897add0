"""The prelude of every award-scoped page: load the award, ask the policy, fetch the acting person."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.awards.models import Award
from award_jury.awards.services import get_award
from award_jury.policy import Action, Viewer, require


async def award_for(session: AsyncSession, slug: str, viewer: Viewer, action: Action) -> tuple[Award, Person]:
    """The award (404 if unknown) and the viewer's Person, once the policy allows ``action`` on it."""
    award = await get_award(session, slug)
    require(viewer, action, award_id=award.id)
    actor = await session.get(Person, viewer.person_id)
    assert actor is not None  # require() lets only a signed-in person through
    return award, actor
