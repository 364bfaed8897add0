"""Removing a person's role in an award, after a confirmation page that says what it changes
(:class:`~award_jury.consequences.Consequences`). Never one's own organiser role, and never
the award's last organiser."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.consequences import Consequences
from award_jury.enums import Role, SheetStatus
from award_jury.errors import NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.judging.models import Assignment, ScoreSheet


async def _grant(session: AsyncSession, award: Award, person_id: int, role: Role) -> AwardRole:
    grant = (
        await session.execute(
            sa.select(AwardRole).where(
                AwardRole.person_id == person_id, AwardRole.award_id == award.id, AwardRole.role == role
            )
        )
    ).scalar_one_or_none()
    if grant is None:
        raise NotFoundError("role")
    return grant


async def remove_role_check(
    session: AsyncSession, award: Award, person_id: int, role: Role, actor: Person
) -> tuple[Person, Consequences]:
    """The person and what removing their ``role`` in ``award`` would change (NotFoundError: no such role)."""
    grant = await _grant(session, award, person_id, role)
    person = await session.get(Person, grant.person_id)
    assert person is not None
    check = Consequences(numbers={"role": role.value, "person": person_id})
    if role == Role.ORGANISER:
        others = list(
            (
                await session.execute(
                    sa.select(Person.name)
                    .join(AwardRole, AwardRole.person_id == Person.id)
                    .where(AwardRole.award_id == award.id, AwardRole.role == Role.ORGANISER, Person.id != person_id)
                    .order_by(Person.name)
                )
            ).scalars()
        )
        check.numbers["others"] = len(others)
        check.facts.append(_("%(name)s can no longer manage this award.") % {"name": person.name})
        check.facts.append(
            ngettext("%(num)d organiser remains: %(names)s.", "%(num)d organisers remain: %(names)s.", len(others))
            % {"num": len(others), "names": ", ".join(others)}
            if others
            else _("No organiser remains.")
        )
        if person_id == actor.id:
            check.refusals.append(_("You cannot remove your own organiser role."))
        elif not others:
            check.refusals.append(
                _("%(name)s is the award's last organiser. Invite another organiser first.") % {"name": person.name}
            )
    elif role == Role.JUROR:
        rounds = sa.select(Round.id).where(Round.award_id == award.id)
        sheets = dict(
            (
                await session.execute(
                    sa.select(ScoreSheet.status, sa.func.count())
                    .where(ScoreSheet.juror_id == person_id, ScoreSheet.round_id.in_(rounds))
                    .group_by(ScoreSheet.status)
                )
            ).all()
        )
        open_rounds = sa.select(Round.id).where(Round.award_id == award.id, Round.finalised_at.is_(None))
        unscored = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(Assignment)
                .where(
                    Assignment.juror_id == person_id,
                    Assignment.round_id.in_(open_rounds),
                    ~sa.exists().where(
                        ScoreSheet.juror_id == person_id,
                        ScoreSheet.entry_id == Assignment.entry_id,
                        ScoreSheet.round_id == Assignment.round_id,
                        ScoreSheet.status == SheetStatus.SUBMITTED,
                    ),
                )
            )
        ).scalar_one()
        submitted, drafts = sheets.get(SheetStatus.SUBMITTED, 0), sheets.get(SheetStatus.DRAFT, 0)
        check.numbers |= {"submitted": submitted, "drafts": drafts, "unscored": unscored}
        check.facts.append(_("%(name)s can no longer open this award's score sheets.") % {"name": person.name})
        check.facts.append(
            ngettext("%(num)d submitted sheet stays and counts.", "%(num)d submitted sheets stay and count.", submitted)
            % {"num": submitted}
        )
        if drafts:
            check.facts.append(
                ngettext(
                    "%(num)d draft sheet stays a draft and does not count.",
                    "%(num)d draft sheets stay drafts and do not count.",
                    drafts,
                )
                % {"num": drafts}
            )
        if unscored:
            check.facts.append(
                ngettext(
                    "%(num)d assigned entry is not scored yet: release it on the assignments page so that "
                    "another juror can score it.",
                    "%(num)d assigned entries are not scored yet: release them on the assignments page so that "
                    "another juror can score them.",
                    unscored,
                )
                % {"num": unscored}
            )
    else:
        check.facts.append(_("%(name)s loses this role in the award.") % {"name": person.name})
    return person, check


async def remove_role(
    session: AsyncSession, award: Award, person_id: int, role: Role, actor: Person, *, state: str | None = None
) -> None:
    """Remove the role after :func:`remove_role_check` allows it (``state``: the confirmation page's). Audited."""
    _person, check = await remove_role_check(session, award, person_id, role, actor)
    check.require(state=state, override_reason="")
    await session.delete(await _grant(session, award, person_id, role))
    record_event(
        session,
        "role.revoked",
        actor_id=actor.id,
        award_id=award.id,
        object_type="person",
        object_id=person_id,
        before={"role": role.value},
    )
    await session.flush()
