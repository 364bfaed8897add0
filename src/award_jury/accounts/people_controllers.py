"""The organiser's people page for an award (organisers, jurors, startup contacts,
invitations) and the invitation link a person follows."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import invitations, roles
from award_jury.accounts.controllers import signed_in_redirect
from award_jury.accounts.invitations import INVITABLE_ROLES
from award_jury.accounts.models import Person
from award_jury.accounts.services import people_of_award
from award_jury.awards.models import Award
from award_jury.db import utcnow
from award_jury.enums import Role
from award_jury.errors import ConflictError, FormError, TokenInvalidError
from award_jury.i18n import gettext as _
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


async def people_context(session: AsyncSession, award: Award) -> dict[str, Any]:
    people = await people_of_award(session, award)
    return {
        "award": award,
        "by_role": people.by_role,
        "categories_of": people.categories_of,
        "invitations": people.invitations,
        "now": utcnow(),
        "roles": INVITABLE_ROLES,
    }


class PeopleController(Controller):
    path = "/awards/{slug:str}"

    @get("/people", name="people.list")
    async def people(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
        context = await people_context(db_session, award)
        return Template("accounts/people.html", context={**context, "errors": {}, "form": {}})

    @post("/invitations", name="invitations.create")
    async def create_invitation(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, mailer: Mailer
    ) -> Template | Redirect:
        award, inviter = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
        form = await read_form(request)
        email, name, role = form.get("email", max_length=320), form.get("name", max_length=500), form.get("role")
        chosen = form.getall("categories")
        try:
            mails = await invitations.invite_person(
                db_session,
                mailer,
                award,
                email=email,
                name=name,
                role=role,
                categories=chosen,
                inviter=inviter,
                now=utcnow(),
            )
        except FormError as exc:
            context = await people_context(db_session, award)
            form_values = {"email": email, "name": name, "role": role, "categories": chosen}
            return Template(
                "accounts/people.html", context={**context, "errors": exc.errors, "form": form_values}, status_code=400
            )
        task = send_after_response(mailer, mails)
        return Redirect(url_for("people.list", slug=award.slug, query={"invited": 1}), status_code=303, background=task)

    @post("/invitations/{invitation_id:int}/resend", name="invitations.resend")
    async def resend_invitation(
        self, slug: str, invitation_id: int, viewer: Viewer, db_session: AsyncSession, mailer: Mailer
    ) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
        invitation = await invitations.get_invitation(db_session, award, invitation_id)
        try:
            mails = await invitations.resend_invitation(db_session, mailer, award, invitation, actor, utcnow())
        except ConflictError:
            return Redirect(url_for("people.list", slug=award.slug, query={"not_open": 1}), status_code=303)
        task = send_after_response(mailer, mails)
        return Redirect(url_for("people.list", slug=award.slug, query={"resent": 1}), status_code=303, background=task)

    @post("/invitations/{invitation_id:int}/revoke", name="invitations.revoke")
    async def revoke_invitation(
        self, slug: str, invitation_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
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
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
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
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
        if role not in (Role.JUROR.value, Role.ORGANISER.value):
            return Redirect(url_for("people.list", slug=award.slug), status_code=303)
        person, check = await roles.remove_role_check(db_session, award, person_id, Role(role), actor)
        return confirm_page(role_confirmation(award, person, Role(role)), check, award=award)

    @post("/people/{person_id:int}/remove-role", name="people.remove_role")
    async def remove_role(
        self, request: Req, slug: str, person_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_AWARD_PEOPLE)
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


class InvitationController(Controller):
    @get("/invitations/{token:str}", name="invitations.page")
    async def invitation_page(self, token: str, db_session: AsyncSession) -> Template:
        try:
            invitation, award, person = await invitations.invitation_and_award(db_session, token, utcnow())
        except TokenInvalidError as exc:
            return Template("accounts/link_invalid.html", context={"reason": exc.reason}, status_code=400)
        return Template(
            "accounts/invitation.html",
            context={"token": token, "invitation": invitation, "inv_award": award, "person": person},
        )

    @post("/invitations/{token:str}", name="invitations.accept")
    async def accept_invitation(
        self, request: Req, token: str, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        try:
            person, award = await invitations.accept_invitation(db_session, token, utcnow())
        except TokenInvalidError as exc:
            return Template("accounts/link_invalid.html", context={"reason": exc.reason}, status_code=400)
        return await signed_in_redirect(
            request,
            settings,
            db_session,
            person,
            url_for("account.detail", query={"welcome": award.slug}),
            method="invitation",
        )
