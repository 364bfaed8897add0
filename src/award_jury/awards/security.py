"""An award's sign-in rule for its organisers: "Organisers of this award must use two-factor
sign-in". The rule is enforced by policy.py (through the Viewer of each request); this module
changes it and says who it concerns."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person, TwoFactor
from award_jury.accounts.twofactor import two_factor_of
from award_jury.audit.services import record_event
from award_jury.awards.models import Award
from award_jury.enums import Role
from award_jury.errors import FormError
from award_jury.i18n import gettext as _


@dataclass(frozen=True)
class OrganiserSignIn:
    name: str
    email: str
    two_factor: bool


async def organisers_sign_in(session: AsyncSession, award: Award) -> list[OrganiserSignIn]:
    """The award's own organisers (not the platform-wide ones), each with whether two-factor
    sign-in is on, by name."""
    rows = await session.execute(
        sa.select(Person.name, Person.email, TwoFactor.person_id.is_not(None))
        .join(AwardRole, AwardRole.person_id == Person.id)
        .outerjoin(TwoFactor, TwoFactor.person_id == Person.id)
        .where(AwardRole.award_id == award.id, AwardRole.role == Role.ORGANISER)
        .order_by(Person.name, Person.email)
    )
    return [OrganiserSignIn(name, email, bool(on)) for name, email, on in rows]


async def set_two_factor_requirement(session: AsyncSession, award: Award, required: bool, actor: Person) -> None:
    """Require (or stop requiring) two-factor sign-in of the award's organisers. Requiring it
    needs it on for the organiser who asks, so that nobody locks themself out in one click."""
    if required == award.organisers_need_two_factor:
        return
    if required and await two_factor_of(session, actor.id) is None:
        raise FormError({"required": _("Turn on two-factor sign-in for your own account first.")})
    record_event(
        session,
        "award.two_factor_requirement",
        actor_id=actor.id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        before={"organisers_need_two_factor": award.organisers_need_two_factor},
        after={"organisers_need_two_factor": required},
    )
    award.organisers_need_two_factor = required
    await session.flush()
