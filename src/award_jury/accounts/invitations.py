"""Invitations to an award: an e-mail with a link that signs the person in and grants the role."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Invitation, Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import hash_token, new_token
from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category
from award_jury.enums import Role
from award_jury.errors import ConflictError, FormError, NotFoundError, TokenInvalidError
from award_jury.i18n import gettext as _
from award_jury.judging.models import JurorCategory
from award_jury.mail import Mail, Mailer

INVITATION_LIFETIME = timedelta(days=14)
#: The roles an organiser may invite someone to.
INVITABLE_ROLES = (Role.JUROR, Role.ORGANISER)


def invitation_mail(
    mailer: Mailer, award: Award, invitee: Person, invitation: Invitation, token: str, inviter_name: str
) -> Mail:
    """The invitation, to the person invited, in their language."""
    return mailer.compose(
        "invitation",
        to=invitee.email,
        locale=invitee.locale,
        name=invitee.name,
        award_name=award.name,
        role=invitation.role.value,
        inviter=inviter_name,
        expires_at=invitation.expires_at,
        time_zone=award.time_zone,
        link=mailer.url("invitations.page", token=token),
    )


async def invite_person(
    session: AsyncSession,
    mailer: Mailer,
    award: Award,
    *,
    email: str,
    name: str,
    role: str,
    categories: list[str],
    inviter: Person,
    now: datetime,
) -> list[Mail]:
    """The people page's invitation: check the fields (FormError with a message per field, also
    when the person has the role already), :func:`invite`, and the mail to send after the commit."""
    valid_slugs = {c.slug for c in award.categories}
    errors: dict[str, str] = {}
    if not is_valid_email(normalise_email(email)):
        errors["email"] = _("Enter a valid e-mail address, like name@example.org.")
    if not name:
        errors["name"] = _("Enter the person's name.")
    elif len(name) > 200:
        errors["name"] = _("Use at most 200 characters.")
    if role not in [r.value for r in INVITABLE_ROLES]:
        errors["role"] = _("Choose a role.")
    if any(c not in valid_slugs for c in categories):
        errors["categories"] = _("Choose categories of this award.")
    if errors:
        raise FormError(errors)
    try:
        invitation, token = await invite(
            session,
            award,
            email=email,
            name=name,
            role=Role(role),
            categories=categories if role == Role.JUROR else [],
            invited_by=inviter,
            now=now,
        )
    except ConflictError:
        raise FormError({"email": _("This person already has this role in the award.")}) from None
    invitee = await session.get(Person, invitation.person_id)
    assert invitee is not None
    return [invitation_mail(mailer, award, invitee, invitation, token, inviter.name)]


async def resend_invitation(
    session: AsyncSession, mailer: Mailer, award: Award, invitation: Invitation, actor: Person, now: datetime
) -> list[Mail]:
    """:func:`resend` (ConflictError when it is no longer open) and the new mail to send."""
    token = await resend(session, invitation, actor, now)
    invitee = await session.get(Person, invitation.person_id)
    assert invitee is not None
    return [invitation_mail(mailer, award, invitee, invitation, token, actor.name)]


async def invite(
    session: AsyncSession,
    award: Award,
    *,
    email: str,
    name: str,
    role: Role,
    categories: list[str],
    invited_by: Person,
    now: datetime,
) -> tuple[Invitation, str]:
    """Invite a person (created if new) to ``role`` in ``award``; a pending invitation for the
    same person and role is renewed instead of duplicated. Returns the invitation and its token."""
    person = await get_or_create_person(session, email, name, award.locale)
    existing_role = (
        await session.execute(
            sa.select(AwardRole.id).where(
                AwardRole.person_id == person.id, AwardRole.award_id == award.id, AwardRole.role == role
            )
        )
    ).scalar_one_or_none()
    if existing_role is not None:
        raise ConflictError(f"{person.email} already has this role")
    token = new_token()
    pending = (
        await session.execute(
            sa.select(Invitation).where(
                Invitation.award_id == award.id,
                Invitation.person_id == person.id,
                Invitation.role == role,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if pending is None:
        pending = Invitation(
            award_id=award.id,
            person_id=person.id,
            role=role,
            categories=categories,
            token_hash=hash_token(token),
            invited_by_id=invited_by.id,
            created_at=now,
            sent_at=now,
            send_count=1,
            expires_at=now + INVITATION_LIFETIME,
        )
        session.add(pending)
    else:
        pending.token_hash = hash_token(token)
        pending.categories = categories
        pending.sent_at = now
        pending.send_count += 1
        pending.expires_at = now + INVITATION_LIFETIME
    await session.flush()
    record_event(
        session,
        "invitation.created",
        actor_id=invited_by.id,
        award_id=award.id,
        object_type="invitation",
        object_id=pending.id,
        after={"email": person.email, "role": role.value, "categories": categories},
    )
    return pending, token


async def get_invitation(session: AsyncSession, award: Award, invitation_id: int) -> Invitation:
    found = (
        await session.execute(
            sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.award_id == award.id)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError("invitation")
    return found


async def resend(session: AsyncSession, invitation: Invitation, actor: Person, now: datetime) -> str:
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ConflictError("this invitation is no longer open")
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.sent_at = now
    invitation.send_count += 1
    invitation.expires_at = now + INVITATION_LIFETIME
    record_event(
        session,
        "invitation.resent",
        actor_id=actor.id,
        award_id=invitation.award_id,
        object_type="invitation",
        object_id=invitation.id,
    )
    await session.flush()
    return token


async def revoke(session: AsyncSession, invitation: Invitation, actor: Person, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise ConflictError("this invitation was accepted already; remove the role instead")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        record_event(
            session,
            "invitation.revoked",
            actor_id=actor.id,
            award_id=invitation.award_id,
            object_type="invitation",
            object_id=invitation.id,
        )


async def find_open_invitation(session: AsyncSession, token: str, now: datetime) -> Invitation:
    found = (
        await session.execute(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    ).scalar_one_or_none()
    if found is None:
        raise TokenInvalidError("unknown")
    status = found.status(now)
    if status != "pending":
        raise TokenInvalidError({"accepted": "used"}.get(status, status))
    return found


async def invitation_and_award(session: AsyncSession, token: str, now: datetime) -> tuple[Invitation, Award, Person]:
    """The open invitation named by ``token`` (TokenInvalidError otherwise), its award and person."""
    invitation = await find_open_invitation(session, token, now)
    award = await session.get(Award, invitation.award_id)
    person = await session.get(Person, invitation.person_id)
    assert award is not None
    assert person is not None
    return invitation, award, person


async def accept(session: AsyncSession, token: str, now: datetime) -> tuple[Invitation, Person]:
    invitation = await find_open_invitation(session, token, now)
    person = await session.get(Person, invitation.person_id)
    if person is None or not person.is_active:
        raise TokenInvalidError("unknown")
    invitation.accepted_at = now
    await grant_role(session, person, invitation.role, invitation.award_id)
    if invitation.role == Role.JUROR and invitation.categories:
        categories = (
            await session.execute(
                sa.select(Category).where(
                    Category.award_id == invitation.award_id, Category.slug.in_(invitation.categories)
                )
            )
        ).scalars()
        for category in categories:
            exists = (
                await session.execute(
                    sa.select(JurorCategory.id).where(
                        JurorCategory.person_id == person.id, JurorCategory.category_id == category.id
                    )
                )
            ).scalar_one_or_none()
            if exists is None:
                session.add(JurorCategory(person_id=person.id, category_id=category.id))
    record_event(
        session,
        "invitation.accepted",
        actor_id=person.id,
        award_id=invitation.award_id,
        object_type="invitation",
        object_id=invitation.id,
    )
    record_event(
        session,
        "role.granted",
        actor_id=person.id,
        award_id=invitation.award_id,
        object_type="person",
        object_id=person.id,
        after={"role": invitation.role.value, "via": "invitation"},
    )
    await session.flush()
    return invitation, person


async def set_juror_categories(
    session: AsyncSession, award: Award, person_id: int, slugs: list[str], actor: Person
) -> list[str]:
    """The categories a juror of ``award`` judges (none chosen: every category). Audited."""
    grant = (
        await session.execute(
            sa.select(AwardRole.id).where(
                AwardRole.person_id == person_id, AwardRole.award_id == award.id, AwardRole.role == Role.JUROR
            )
        )
    ).first()
    if grant is None:
        raise NotFoundError("juror")
    by_slug = {c.slug: c for c in award.categories}
    if any(s not in by_slug for s in slugs):
        raise ConflictError("unknown category")
    ids = [c.id for c in award.categories]
    before = [
        c.slug
        for c in award.categories
        if c.id
        in set(
            (
                await session.execute(
                    sa.select(JurorCategory.category_id).where(
                        JurorCategory.person_id == person_id, JurorCategory.category_id.in_(ids)
                    )
                )
            ).scalars()
        )
    ]
    await session.execute(
        sa.delete(JurorCategory).where(JurorCategory.person_id == person_id, JurorCategory.category_id.in_(ids))
    )
    chosen = [c.slug for c in award.categories if c.slug in slugs]
    session.add_all(JurorCategory(person_id=person_id, category_id=by_slug[s].id) for s in chosen)
    record_event(
        session,
        "juror.categories",
        actor_id=actor.id,
        award_id=award.id,
        object_type="person",
        object_id=person_id,
        before={"categories": before},
        after={"categories": chosen},
    )
    await session.flush()
    return chosen


async def accept_invitation(session: AsyncSession, token: str, now: datetime) -> tuple[Person, Award]:
    """:func:`accept`, with the award the person now has a role in."""
    invitation, person = await accept(session, token, now)
    award = await session.get(Award, invitation.award_id)
    assert award is not None
    return person, award
