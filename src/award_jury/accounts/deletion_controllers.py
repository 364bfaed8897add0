"""Deleting one's own account (GDPR Art. 17): the confirmation page with what happens in numbers
(accounts/deletion.py), re-authentication by the current password or, for an account without
one, by a link sent to the address, and a goodbye e-mail to the address before it is erased."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTasks
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.deletion import delete_account, deletion_check, deletion_token, deletion_token_problem
from award_jury.accounts.models import Person
from award_jury.accounts.passwords import verify_password_async
from award_jury.consequences import ConfirmationError, Consequences
from award_jury.db import utcnow
from award_jury.entries.storage import Storage
from award_jury.i18n import gettext as _
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer, require
from award_jury.settings import Settings
from award_jury.urls import absolute_url, url_for
from award_jury.web.auth import expired_session_cookie
from award_jury.web.confirm import (
    Confirmation,
    Confirmed,
    confirm_page,
    confirmed_action,
    read_confirmation,
    refused_page,
    unconfirmed_page,
)
from award_jury.web.forms import read_form
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


def _confirmation(person: Person, *, token: str = "") -> Confirmation:
    by_password = bool(person.password_hash) and not token
    if by_password:
        button = _("Delete my account")
    elif token:
        button = _("Delete my account now")
    else:
        button = _("Send me the confirmation link")
    lead = _(
        "Your account and the personal data in it are deleted. Records the awards need stay, without "
        "your name and e-mail address. If you want to keep a copy of your data, download it from your "
        "account page first."
    )
    if not person.password_hash and not token:
        lead += " " + _(
            "You sign in without a password, so we confirm by e-mail: we send a link to %(email)s, "
            "and the account is deleted once you open it and confirm."
        ) % {"email": person.email}
    return Confirmation(
        title=_("Delete your account?"),
        action=url_for("account.delete_by_link", token=token) if token else url_for("account.delete"),
        back=url_for("account.detail"),
        button=button,
        lead=lead,
        password_label=_("Your current password") if by_password else "",
    )


async def _me(viewer: Viewer, session: AsyncSession) -> Person:
    require(viewer, Action.DELETE_OWN_ACCOUNT)
    person = await session.get(Person, viewer.person_id)
    assert person is not None
    return person


class AccountDeletionController(Controller):
    path = "/account"

    @get("/delete", name="account.delete_form")
    async def delete_page(self, viewer: Viewer, db_session: AsyncSession) -> Template:
        person = await _me(viewer, db_session)
        return confirm_page(_confirmation(person), await deletion_check(db_session, person))

    @post("/delete", name="account.delete")
    async def delete(
        self,
        request: Req,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        storage: Storage,
        mailer: Mailer,
    ) -> Template | Redirect:
        person = await _me(viewer, db_session)
        check = await deletion_check(db_session, person)
        c = _confirmation(person)
        if not person.password_hash:
            return await _send_link(request, settings, mailer, person, c, check)
        answer = await read_confirmation(request)
        password = (await read_form(request)).raw("current_password", max_length=300)
        if answer is not None and not await verify_password_async(person.password_hash, password):
            return confirm_page(c, check, status=400, password_error=_("This is not your current password."))
        return await _delete(request, settings, storage, mailer, db_session, person, c, check)

    @get("/deletion-link", name="account.deletion_link_sent")
    async def link_sent(self, viewer: Viewer, db_session: AsyncSession) -> Template:
        person = await _me(viewer, db_session)
        return Template("accounts/deletion_link_sent.html", context={"email": person.email})

    @get("/delete/{token:str}", name="account.delete_link")
    async def link_page(self, token: str, viewer: Viewer, db_session: AsyncSession, settings: Settings) -> Template:
        person = await _me(viewer, db_session)
        problem = deletion_token_problem(str(settings.secret_key), token, person, utcnow())
        if problem:
            return _link_invalid(problem)
        return confirm_page(_confirmation(person, token=token), await deletion_check(db_session, person))

    @post("/delete/{token:str}", name="account.delete_by_link")
    async def use_link(
        self,
        request: Req,
        token: str,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        storage: Storage,
        mailer: Mailer,
    ) -> Template | Redirect:
        person = await _me(viewer, db_session)
        problem = deletion_token_problem(str(settings.secret_key), token, person, utcnow())
        if problem:
            return _link_invalid(problem)
        c = _confirmation(person, token=token)
        check = await deletion_check(db_session, person)
        return await _delete(request, settings, storage, mailer, db_session, person, c, check)


class AccountDeletedController(Controller):
    @get("/account/deleted", name="account.deleted")
    async def deleted(self) -> Template:
        return Template("accounts/deleted.html")


def _link_invalid(reason: str) -> Template:
    return Template("accounts/deletion_link_invalid.html", context={"reason": reason}, status_code=400)


async def _send_link(
    request: Req, settings: Settings, mailer: Mailer, person: Person, c: Confirmation, check: Consequences
) -> Template | Redirect:
    """An account without a password confirms by e-mail: after this page, a link to the address."""
    answer = await read_confirmation(request)
    if answer is None:
        return unconfirmed_page(c, check)
    try:
        check.require(state=answer.state, override_reason="")
    except ConfirmationError as exc:
        return refused_page(c, check, exc, answer)
    token = deletion_token(str(settings.secret_key), person, utcnow())
    response = Redirect(url_for("account.deletion_link_sent"), status_code=303)
    mail = mailer.compose(
        "account_delete_link",
        to=person.email,
        locale=person.locale,
        name=person.name,
        link=absolute_url(settings.base_url, "account.delete_link", token=token),
    )
    response.background = send_after_response(mailer, [mail])
    return response


async def _delete(
    request: Req,
    settings: Settings,
    storage: Storage,
    mailer: Mailer,
    session: AsyncSession,
    person: Person,
    c: Confirmation,
    check: Consequences,
) -> Template | Redirect:
    goodbye: list[BackgroundTasks | None] = []

    async def act(answer: Confirmed) -> str:
        address, name, locale = person.email, person.name, person.locale
        await delete_account(session, person, storage=storage, now=utcnow(), state=answer.state)
        goodbye.append(
            send_after_response(mailer, [mailer.compose("account_deleted", to=address, locale=locale, name=name)])
        )
        return url_for("account.deleted")

    response = await confirmed_action(request, c, check, act)
    if goodbye and isinstance(response, Redirect):
        response.background = goodbye[0]
        response.cookies.append(expired_session_cookie(settings))
    return response
