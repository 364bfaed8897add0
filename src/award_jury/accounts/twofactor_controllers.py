"""Two-factor sign-in pages: the set-up and management on the account page, and the second
step of signing in (after the password or an e-mail link)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import segno
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTasks
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import totp
from award_jury.accounts.controllers import second_factor_message, signed_in_redirect
from award_jury.accounts.models import Person
from award_jury.accounts.passwords import verify_password_async
from award_jury.accounts.twofactor import (
    check_second_factor,
    disable,
    enable,
    end_pending,
    load_pending,
    new_setup,
    read_setup,
    recovery_codes_left,
    regenerate_recovery_codes,
    two_factor_of,
)
from award_jury.awards.models import Award
from award_jury.db import utcnow
from award_jury.errors import RateLimitedError, SecondFactorFailedError
from award_jury.i18n import gettext as _
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer, require
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.auth import client_ip, pending_signin_cookie, pending_signin_name
from award_jury.web.controllers import safe_next
from award_jury.web.forms import Form, read_form
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


def issuer(settings: Settings) -> str:
    """How authenticator apps name this service: the host of the base URL."""
    return urlsplit(settings.base_url).hostname or "award_jury"


def setup_context(settings: Settings, person: Person, secret: str, sealed: str) -> dict[str, Any]:
    uri = totp.provisioning_uri(secret, account=person.email, issuer=issuer(settings))
    return {
        "setup": sealed,
        "secret_grouped": totp.grouped(secret),
        "qr_data_uri": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        "issuer": issuer(settings),
    }


def changed_mail(mailer: Mailer, person: Person, change: str) -> BackgroundTasks | None:
    """The notification of a change to the person's two-factor sign-in ("on", "off", "codes")."""
    mail = mailer.compose(
        "two_factor_changed",
        to=person.email,
        locale=person.locale,
        name=person.name,
        change=change,
        link=mailer.url("account.two_factor"),
    )
    return send_after_response(mailer, [mail])


async def acting_person(session: AsyncSession, viewer: Viewer) -> Person:
    require(viewer, Action.MANAGE_OWN_ACCOUNT)
    person = await session.get(Person, viewer.person_id)
    assert person is not None
    return person


class TwoFactorController(Controller):
    path = "/account/two-factor"

    async def _page(
        self,
        settings: Settings,
        session: AsyncSession,
        viewer: Viewer,
        person: Person,
        *,
        errors: dict[str, str] | None = None,
        form_id: str = "",
        setup: tuple[str, str] | None = None,
        next_target: str = "",
        award_id: int | None = None,
        status: int = 200,
    ) -> Template:
        row = await two_factor_of(session, person.id)
        context: dict[str, Any] = {
            "person": person,
            "two_factor": row,
            "errors": errors or {},
            "form_id": form_id,
            "next": safe_next(next_target) if next_target else "",
            "required_by": None,
        }
        if award_id is not None and 0 < award_id < 2**31 and viewer.holds_organiser_role(award_id):
            context["required_by"] = await session.get(Award, award_id)
        if row is not None:
            context["codes_left"] = await recovery_codes_left(session, person.id)
        elif person.password_hash:
            secret, sealed = setup or new_setup(str(settings.secret_key), person.id, utcnow())
            context |= setup_context(settings, person, secret, sealed)
        return Template("accounts/two_factor.html", context=context, status_code=status)

    @get("", name="account.two_factor")
    async def overview(
        self,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        award: int | None = None,
        next: str = "",
    ) -> Template:
        person = await acting_person(db_session, viewer)
        return await self._page(settings, db_session, viewer, person, next_target=next, award_id=award)

    async def _password_and_code(
        self, request: Req, settings: Settings, session: AsyncSession, person: Person, form: Form, where: str
    ) -> tuple[dict[str, str], int]:
        """Check the password, then (only then) the code; the errors by field and the status."""
        errors: dict[str, str] = {}
        if not await verify_password_async(person.password_hash, form.raw("password", max_length=300)):
            errors["password"] = _("This is not your current password.")
            return errors, 400
        try:
            await check_second_factor(
                session,
                person,
                form.get("code", max_length=100),
                utcnow(),
                secret_key=str(settings.secret_key),
                ip=client_ip(request),
                where=where,
            )
        except (SecondFactorFailedError, RateLimitedError) as exc:
            errors["code"] = second_factor_message(exc)
            return errors, 429 if isinstance(exc, RateLimitedError) else 400
        return errors, 200

    @post("/enable", name="account.two_factor_enable")
    async def turn_on(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings, mailer: Mailer
    ) -> Template | Redirect:
        person = await acting_person(db_session, viewer)
        if await two_factor_of(db_session, person.id) is not None or not person.password_hash:
            return Redirect(url_for("account.two_factor"), status_code=303)
        form = await read_form(request)
        next_target = form.get("next")
        secret = read_setup(str(settings.secret_key), person.id, form.raw("setup", max_length=500), utcnow())
        if secret is None:  # an old or foreign form: start again with a new secret
            expired = _("The set-up took too long. Please add the new QR code to your app and try again.")
            return await self._page(
                settings,
                db_session,
                viewer,
                person,
                errors={"code": expired},
                form_id="enable",
                next_target=next_target,
                status=400,
            )
        setup = (secret, form.raw("setup", max_length=500))
        errors: dict[str, str] = {}
        status = 400
        if not await verify_password_async(person.password_hash, form.raw("password", max_length=300)):
            errors["password"] = _("This is not your current password.")
        elif totp.normalise_code(form.get("code", max_length=100)) is None:
            errors["code"] = _("Enter the 6-digit code that your app shows.")
        else:
            try:
                codes = await enable(
                    db_session,
                    person,
                    secret,
                    form.get("code", max_length=100),
                    utcnow(),
                    secret_key=str(settings.secret_key),
                    ip=client_ip(request),
                )
            except (SecondFactorFailedError, RateLimitedError) as exc:
                errors["code"] = second_factor_message(exc)
                status = 429 if isinstance(exc, RateLimitedError) else 400
            else:
                return self._codes_page(mailer, person, codes, "on", next_target)
        return await self._page(
            settings,
            db_session,
            viewer,
            person,
            errors=errors,
            form_id="enable",
            setup=setup,
            next_target=next_target,
            status=status,
        )

    def _codes_page(self, mailer: Mailer, person: Person, codes: list[str], change: str, next_target: str) -> Template:
        text = "\n".join([_("Recovery codes for award_jury (%(email)s)") % {"email": person.email}, "", *codes, ""])
        return Template(
            "accounts/two_factor_codes.html",
            context={
                "codes": codes,
                "change": change,
                "codes_text": text,
                "next": safe_next(next_target) if next_target else "",
            },
            background=changed_mail(mailer, person, change),
        )

    @post("/recovery-codes", name="account.two_factor_recovery_codes")
    async def new_codes(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings, mailer: Mailer
    ) -> Template | Redirect:
        person = await acting_person(db_session, viewer)
        if await two_factor_of(db_session, person.id) is None:
            return Redirect(url_for("account.two_factor"), status_code=303)
        form = await read_form(request)
        errors, status = await self._password_and_code(request, settings, db_session, person, form, "recovery-codes")
        if errors:
            return await self._page(settings, db_session, viewer, person, errors=errors, form_id="codes", status=status)
        codes = await regenerate_recovery_codes(db_session, person, utcnow(), ip=client_ip(request))
        return self._codes_page(mailer, person, codes, "codes", "")

    @post("/disable", name="account.two_factor_disable")
    async def turn_off(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings, mailer: Mailer
    ) -> Template | Redirect:
        person = await acting_person(db_session, viewer)
        if await two_factor_of(db_session, person.id) is None:
            return Redirect(url_for("account.two_factor"), status_code=303)
        form = await read_form(request)
        errors, status = await self._password_and_code(request, settings, db_session, person, form, "disable")
        if errors:
            return await self._page(settings, db_session, viewer, person, errors=errors, form_id="off", status=status)
        await disable(db_session, person, ip=client_ip(request))
        response = Redirect(url_for("account.detail", query={"two_factor": "off"}), status_code=303)
        response.background = changed_mail(mailer, person, "off")
        return response


def _expired() -> Redirect:
    return Redirect(url_for("signin.form", query={"code_expired": 1}), status_code=303)


class TwoFactorSignInController(Controller):
    path = "/signin/two-factor"

    @get("", name="signin.two_factor_form")
    async def code_form(self, request: Req, db_session: AsyncSession, settings: Settings) -> Template | Redirect:
        token = request.cookies.get(pending_signin_name(settings))
        if await load_pending(db_session, token, utcnow()) is None:
            return _expired()
        return Template("accounts/signin_code.html", context={"errors": {}, "form_id": ""})

    @post("", name="signin.two_factor")
    async def use_code(self, request: Req, db_session: AsyncSession, settings: Settings) -> Template | Redirect:
        loaded = await load_pending(db_session, request.cookies.get(pending_signin_name(settings)), utcnow())
        if loaded is None:
            return _expired()
        pending, person = loaded
        form = await read_form(request)
        form_id = "recovery" if form.get("kind") == "recovery" else "code"
        code = form.get("code", max_length=100)
        if not code:
            message = (
                _("Enter a recovery code.") if form_id == "recovery" else _("Enter the 6-digit code from your app.")
            )
            return Template(
                "accounts/signin_code.html", context={"errors": {"code": message}, "form_id": form_id}, status_code=400
            )
        try:
            kind = await check_second_factor(
                db_session,
                person,
                code,
                utcnow(),
                secret_key=str(settings.secret_key),
                ip=client_ip(request),
                where="signin",
            )
        except (SecondFactorFailedError, RateLimitedError) as exc:
            message = second_factor_message(exc)
            if isinstance(exc, SecondFactorFailedError) and form_id == "recovery":
                message = _("This recovery code is not right, or it was used already.")
            status = 429 if isinstance(exc, RateLimitedError) else 400
            context = {"errors": {"code": message}, "form_id": form_id}
            return Template("accounts/signin_code.html", context=context, status_code=status)
        target, method = pending.target, f"{pending.method}+{kind}"
        if kind == "recovery":  # say how many are left, and offer new ones
            target = url_for(
                "account.two_factor", query={"recovery_used": 1, "next": safe_next(target) if target else None}
            )
        await end_pending(db_session, pending)
        response = await signed_in_redirect(request, settings, db_session, person, target, method=method)
        response.cookies.append(pending_signin_cookie(settings, "", max_age=0))
        return response
