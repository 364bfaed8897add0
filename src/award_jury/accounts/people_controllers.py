"""The organiser's people page for an award (organisers, jurors, startup contacts,
invitations) and the invitation link a person follows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import invitations, roles
from award_jury.accounts.controllers import signed_in_redirect
from award_jury.accounts.models import AwardRole, Invitation, Person
from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.awards.models import Award, Category
from award_jury.db import utcnow
from award_jury.enums import Role
from award_jury.errors import ConflictError, TokenInvalidError
from award_jury.i18n import gettext as _
from award_jury.judging.models import JurorCategory
from award_jury.policy import Action, Viewer
from award_jury.urls import absolute_url, url_for
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import mail_task

Req = Request[Any, Any, Any]
INVITABLE_ROLES = (Role.JUROR, Role.ORGANISER)


async def people_context(session: AsyncSession, award: Award) -> dict[str, Any]:
    """Everything the people page shows, in a fixed number of queries."""
    members = (
        await session.execute(
            sa.select(Person, AwardRole.role)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(AwardRole.award_id == award.id)
            .order_by(Person.name)
        )
    ).all()
    categories_of: dict[int, list[str]] = {}
    for person_id, name in await session.execute(
        sa.select(JurorCategory.person_id, Category.name)
        .join(Category, Category.id == JurorCategory.category_id)
        .where(Category.award_id == award.id)
        .order_by(Category.position)
    ):
        categories_of.setdefault(person_id, []).append(name)
    invites = (
        await session.execute(
            sa.select(Invitation, Person)
            .join(Person, Person.id == Invitation.person_id)
            .where(Invitation.award_id == award.id)
            .order_by(Invitation.created_at.desc())
        )
    ).all()
    by_role: dict[str, list[Person]] = {r.value: [] for r in Role}
    for person, role in members:
        by_role[role.value].append(person)
    return {
        "award": award,
        "by_role": by_role,
        "categories_of": categories_of,
        "invitations": invites,
        "now": utcnow(),
        "roles": INVITABLE_ROLES,
    }


async def managed_award(session: AsyncSession, slug: str, viewer: Viewer) -> tuple[Award, Person]:
    """The award whose people ``viewer`` manages (or the policy's refusal), and the viewer's Person."""
    return await award_for(session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)


class PeopleController(Controller):
    path = "/awards/{slug:str}"

    @get("/people", name="people.list")
    async def people(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await managed_award(db_session, slug, viewer)
        context = await people_context(db_session, award)
        return Template("accounts/people.html", context={**context, "errors": {}, "form": {}})

    @post("/invitations", name="invitations.create")
    async def create_invitation(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, inviter = await managed_award(db_session, slug, viewer)
        form = await read_form(request)
        email, name, role = form.get("email", max_length=320), form.get("name", max_length=500), form.get("role")
        chosen = form.getall("categories")
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
        if any(c not in valid_slugs for c in chosen):
            errors["categories"] = _("Choose categories of this award.")
        if not errors:
            try:
                invitation, token = await invitations.invite(
                    db_session,
                    award,
                    email=email,
                    name=name,
                    role=Role(role),
                    categories=chosen if role == Role.JUROR else [],
                    invited_by=inviter,
                    now=utcnow(),
                )
            except ConflictError:
                errors["email"] = _("This person already has this role in the award.")
            else:
                invitee = await db_session.get(Person, invitation.person_id)
                assert invitee is not None
                task = invitation_mail(request, award, invitee, invitation, token, inviter.name)
                return Redirect(
                    url_for("people.list", slug=award.slug, query={"invited": 1}), status_code=303, background=task
                )
        context = await people_context(db_session, award)
        form_values = {"email": email, "name": name, "role": role, "categories": chosen}
        return Template(
            "accounts/people.html", context={**context, "errors": errors, "form": form_values}, status_code=400
        )

    @post("/invitations/{invitation_id:int}/resend", name="invitations.resend")
    async def resend_invitation(
        self, request: Req, slug: str, invitation_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await managed_award(db_session, slug, viewer)
        invitation = await invitations.get_invitation(db_session, award, invitation_id)
        try:
            token = await invitations.resend(db_session, invitation, actor, utcnow())
        except ConflictError:
            return Redirect(url_for("people.list", slug=award.slug, query={"not_open": 1}), status_code=303)
        invitee = await db_session.get(Person, invitation.person_id)
        assert invitee is not None
        task = invitation_mail(request, award, invitee, invitation, token, actor.name)
        return Redirect(url_for("people.list", slug=award.slug, query={"resent": 1}), status_code=303, background=task)

    @post("/invitations/{invitation_id:int}/revoke", name="invitations.revoke")
    async def revoke_invitation(
        self, slug: str, invitation_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await managed_award(db_session, slug, viewer)
        invitation = await invitations.get_invitation(db_session, award, invitation_id)
        try:
            await invitations.revoke(db_session, invitation, actor, utcnow())
        except ConflictError:
            return Redirect(url_for("people.list", slug=award.slug, query={"not_open": 1}), status_code=303)
        return Redirect(url_for("people.list", slug=award.slug, query={"revoked": 1}), status_code=303)

    @post("/people/{person_id:int}/categories", name="people.juror_categories")
    async def juror_categories(
        self, request: Req, slug: str, person_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await managed_award(db_session, slug, viewer)
        form = await read_form(request)
        try:
            await invitations.set_juror_categories(db_session, award, person_id, form.getall("categories"), actor)
        except ConflictError:
            return Redirect(url_for("people.list", slug=award.slug), status_code=303)
        return Redirect(url_for("people.list", slug=award.slug, query={"categories": 1}), status_code=303)

    @get("/people/{person_id:int}/remove-role", name="people.confirm_remove_role")
    async def confirm_remove_role(
        self, slug: str, person_id: int, viewer: Viewer, db_session: AsyncSession, role: str = ""
    ) -> Template | Redirect:
        award, actor = await managed_award(db_session, slug, viewer)
        if role not in (Role.JUROR.value, Role.ORGANISER.value):
            return Redirect(url_for("people.list", slug=award.slug), status_code=303)
        person, check = await roles.remove_role_check(db_session, award, person_id, Role(role), actor)
        return confirm_page(role_confirmation(award, person, Role(role)), check, award=award)

    @post("/people/{person_id:int}/remove-role", name="people.remove_role")
    async def remove_role(
        self, request: Req, slug: str, person_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await managed_award(db_session, slug, viewer)
        form = await read_form(request)
        role = form.get("role")
        if role not in (Role.JUROR.value, Role.ORGANISER.value):
            return Redirect(url_for("people.list", slug=award.slug), status_code=303)
        person, check = await roles.remove_role_check(db_session, award, person_id, Role(role), actor)
        confirmation = role_confirmation(award, person, Role(role))

        async def act(answer: Confirmed) -> str:
            await roles.remove_role(db_session, award, person_id, Role(role), actor, state=answer.state)
            return url_for("people.list", slug=award.slug, query={"removed": 1})

        return await confirmed_action(request, confirmation, check, act, award=award)


def role_confirmation(award: Award, person: Person, role: Role) -> Confirmation:
    title = (_("Remove %(name)s as organiser?") if role == Role.ORGANISER else _("Remove %(name)s as juror?")) % {
        "name": person.name
    }
    return Confirmation(
        title=title,
        action=url_for("people.remove_role", slug=award.slug, person_id=person.id),
        back=url_for("people.list", slug=award.slug),
        button=_("Remove role"),
        fields={"role": role.value},
    )


def invitation_mail(
    request: Req, award: Award, invitee: Person, invitation: Invitation, token: str, inviter_name: str
) -> Any:
    return mail_task(
        request,
        "invitation",
        to=invitee.email,
        locale=invitee.locale,
        name=invitee.name,
        award_name=award.name,
        role=invitation.role.value,
        inviter=inviter_name,
        expires_at=invitation.expires_at,
        time_zone=award.time_zone,
        link=absolute_url(request.app.state.settings.base_url, "invitations.page", token=token),
    )


class InvitationController(Controller):
    @get("/invitations/{token:str}", name="invitations.page")
    async def invitation_page(self, token: str, db_session: AsyncSession) -> Template:
        try:
            invitation = await invitations.find_open_invitation(db_session, token, utcnow())
        except TokenInvalidError as exc:
            return Template("accounts/link_invalid.html", context={"reason": exc.reason}, status_code=400)
        award = await db_session.get(Award, invitation.award_id)
        person = await db_session.get(Person, invitation.person_id)
        return Template(
            "accounts/invitation.html",
            context={"token": token, "invitation": invitation, "inv_award": award, "person": person},
        )

    @post("/invitations/{token:str}", name="invitations.accept")
    async def accept_invitation(self, request: Req, token: str, db_session: AsyncSession) -> Template | Redirect:
        try:
            invitation, person = await invitations.accept(db_session, token, utcnow())
        except TokenInvalidError as exc:
            return Template("accounts/link_invalid.html", context={"reason": exc.reason}, status_code=400)
        award = await db_session.get(Award, invitation.award_id)
        assert award is not None
        return await signed_in_redirect(
            request, db_session, person, url_for("account.detail", query={"welcome": award.slug}), method="invitation"
        )
