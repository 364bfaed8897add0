"""Signing in and out, sign-in links, password reset, the account page, session extension."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import sessions as sessions_service
from award_jury.accounts.models import LoginToken, Person
from award_jury.accounts.passwords import MIN_PASSWORD_LENGTH, password_problem_code, verify_password_async
from award_jury.accounts.personal_data import export_personal_data
from award_jury.accounts.services import awards_of, update_account
from award_jury.accounts.signin import check_link, redeem_link, request_link, set_password, sign_in_with_password
from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.db import utcnow
from award_jury.enums import TokenPurpose
from award_jury.errors import FormError, RateLimitedError, SignInFailedError, SignInRequiredError, TokenInvalidError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.judging.dashboard import award_to_score
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer, require
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.auth import client_ip, expired_session_cookie, session_cookie, session_policy
from award_jury.web.controllers import language_cookie, safe_next
from award_jury.web.forms import read_form
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


def password_message(code: str) -> str:
    return {
        "too_short": _("Use at least %(n)d characters.") % {"n": MIN_PASSWORD_LENGTH},
        "too_long": _("Use at most 200 characters."),
        "too_common": _("This password is too common. Please choose another one."),
        "too_simple": _("This password is too simple. Please choose another one."),
        "personal": _("The password must not contain your e-mail address or your name."),
    }[code]


def rate_limited_message(exc: RateLimitedError) -> str:
    minutes = max(1, (exc.retry_after_seconds + 59) // 60)
    return ngettext(
        "Too many attempts. Please wait %(minutes)d minute and try again.",
        "Too many attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


async def signed_in_redirect(
    request: Req, settings: Settings, session: AsyncSession, person: Person, target: str, *, method: str
) -> Redirect:
    """End whatever session the browser had (a planted id included), start a new one."""
    old = request.cookies.get(settings.session_cookie_name)
    if old:
        await sessions_service.end_session(session, old)
    token = await sessions_service.start_session(
        session,
        person,
        session_policy(settings),
        utcnow(),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        method=method,
    )
    response = Redirect(safe_next(target) if target else await landing_page(session, person.id), status_code=303)
    response.cookies.append(session_cookie(settings, token))
    return response


async def landing_page(session: AsyncSession, person_id: int) -> str:
    """Where a sign-in without a destination leads: a juror's scoring, else the account page."""
    award = await award_to_score(session, person_id, utcnow())
    return url_for("jury.home", slug=award.slug) if award is not None else url_for("account.detail")


async def send_link(
    request: Req,
    session: AsyncSession,
    mailer: Mailer,
    purpose: TokenPurpose,
    form_again: Callable[[str, str, int], Template],
) -> Template:
    """Answer a request for a sign-in or reset link: the same page whether or not the address
    has an account; the mail (if any) goes out after the response."""
    form = await read_form(request)
    email = form.get("email", max_length=320)
    if not is_valid_email(normalise_email(email)):
        return form_again(email, _("Enter a valid e-mail address, like name@example.org."), 400)
    try:
        mails = await request_link(session, mailer, email, purpose, utcnow(), ip=client_ip(request))
    except RateLimitedError as exc:
        return form_again(email, rate_limited_message(exc), 429)
    purpose_name = "reset" if purpose is TokenPurpose.RESET else "signin"
    return Template(
        "accounts/link_sent.html",
        context={"email": email, "purpose": purpose_name},
        background=send_after_response(mailer, mails),
    )


def link_invalid(reason: str) -> Template:
    return Template("accounts/link_invalid.html", context={"reason": reason}, status_code=400)


class SignInController(Controller):
    @get("/signin", name="signin.form")
    async def signin_form(self, viewer: Viewer, next: str = "") -> Template | Redirect:
        if viewer.authenticated:
            return Redirect(safe_next(next) if next else url_for("account.detail"), status_code=303)
        target = safe_next(next) if next else ""
        return Template("accounts/signin.html", context={"next": target, "email": "", "errors": {}})

    @post("/signin", name="signin.password")
    async def signin(self, request: Req, db_session: AsyncSession, settings: Settings) -> Template | Redirect:
        form = await read_form(request)
        email, password, target = (
            form.get("email", max_length=320),
            form.raw("password", max_length=300),
            form.get("next"),
        )
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = _("Enter your e-mail address.")
        if not password:
            errors["password"] = _("Enter your password.")
        context = {"next": safe_next(target) if target else "", "email": email, "errors": errors}
        if errors:
            return Template("accounts/signin.html", context=context, status_code=400)
        try:
            person = await sign_in_with_password(db_session, email, password, utcnow(), ip=client_ip(request))
        except SignInFailedError:
            errors["password"] = _("The e-mail address or the password is not right.")
            return Template("accounts/signin.html", context=context, status_code=400)
        except RateLimitedError as exc:
            errors["password"] = rate_limited_message(exc)
            return Template("accounts/signin.html", context=context, status_code=429)
        return await signed_in_redirect(request, settings, db_session, person, target, method="password")

    @post("/signin/link", name="signin.request_link")
    async def request_link(self, request: Req, db_session: AsyncSession, mailer: Mailer) -> Template:
        def form_again(email: str, message: str, status: int) -> Template:
            context = {"next": "", "email": email, "errors": {}, "link_email": email, "link_errors": {"email": message}}
            return Template("accounts/signin.html", context=context, status_code=status)

        return await send_link(request, db_session, mailer, TokenPurpose.SIGNIN, form_again)

    @get("/signin/link/{token:str}", name="signin.link")
    async def link_page(self, token: str, db_session: AsyncSession, settings: Settings, next: str = "") -> Template:
        # Opening the link only shows a button: mail scanners that fetch links must not use it up.
        try:
            await check_link(db_session, token, TokenPurpose.SIGNIN, utcnow(), secret=settings.secret_key)
        except TokenInvalidError as exc:
            return link_invalid(exc.reason)
        return Template("accounts/link_confirm.html", context={"token": token, "next": safe_next(next) if next else ""})

    @post("/signin/link/{token:str}", name="signin.use_link")
    async def use_link(
        self, request: Req, token: str, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        try:
            person = await redeem_link(db_session, token, TokenPurpose.SIGNIN, utcnow(), secret=settings.secret_key)
        except TokenInvalidError as exc:
            return link_invalid(exc.reason)
        target = (await read_form(request)).get("next")
        return await signed_in_redirect(request, settings, db_session, person, target, method="link")

    @post("/signout", name="signin.signout")
    async def signout(self, request: Req, db_session: AsyncSession, settings: Settings) -> Redirect:
        token = request.cookies.get(settings.session_cookie_name)
        if token:
            await sessions_service.end_session(db_session, token, ip=client_ip(request))
        response = Redirect(url_for("site.home", query={"signed_out": 1}), status_code=303)
        response.cookies.append(expired_session_cookie(settings))
        return response

    @get("/password/forgot", name="password.forgot_form")
    async def forgot_form(self) -> Template:
        return Template("accounts/password_forgot.html", context={"email": "", "errors": {}})

    @post("/password/forgot", name="password.forgot")
    async def forgot(self, request: Req, db_session: AsyncSession, mailer: Mailer) -> Template:
        def form_again(email: str, message: str, status: int) -> Template:
            context = {"email": email, "errors": {"email": message}}
            return Template("accounts/password_forgot.html", context=context, status_code=status)

        return await send_link(request, db_session, mailer, TokenPurpose.RESET, form_again)

    @get("/password/reset/{token:str}", name="password.reset_form")
    async def reset_form(self, token: str, db_session: AsyncSession) -> Template:
        try:
            await check_link(db_session, token, TokenPurpose.RESET, utcnow())
        except TokenInvalidError as exc:
            return link_invalid(exc.reason)
        return Template("accounts/password_reset.html", context={"token": token, "errors": {}})

    @post("/password/reset/{token:str}", name="password.reset")
    async def reset(
        self, request: Req, token: str, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        form = await read_form(request)
        try:
            row = await check_link(db_session, token, TokenPurpose.RESET, utcnow())
        except TokenInvalidError as exc:
            return link_invalid(exc.reason)
        assert isinstance(row, LoginToken)  # (only sign-in links can be a new applicant's)
        person = await db_session.get(Person, row.person_id)
        assert person is not None
        errors = new_password_errors(
            form.raw("password", max_length=300), form.raw("password_confirm", max_length=300), person
        )
        if errors:
            return Template("accounts/password_reset.html", context={"token": token, "errors": errors}, status_code=400)
        person = await redeem_link(db_session, token, TokenPurpose.RESET, utcnow())
        await set_password(db_session, person, form.raw("password", max_length=300), ip=client_ip(request))
        return await signed_in_redirect(
            request, settings, db_session, person, url_for("account.detail", query={"password": 1}), method="reset"
        )


def new_password_errors(password: str, confirm: str, person: Person) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = password_problem_code(password, email=person.email, name=person.name)
    if code:
        errors["password"] = password_message(code)
    elif password != confirm:
        errors["password_confirm"] = _("The two passwords are not the same.")
    return errors


class AccountController(Controller):
    path = "/account"

    @get("", name="account.detail")
    async def account(self, viewer: Viewer, db_session: AsyncSession) -> Template:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        assert viewer.person_id is not None
        person = await db_session.get(Person, viewer.person_id)
        return Template(
            "accounts/account.html",
            context={
                "person": person,
                "awards": await awards_of(db_session, viewer.person_id),
                "errors": {},
                "viewer": viewer,
            },
        )

    @post("", name="account.update")
    async def update_account(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        assert viewer.person_id is not None
        form = await read_form(request)
        person = await db_session.get(Person, viewer.person_id)
        assert person is not None
        name, locale = form.get("name", max_length=500), form.get("locale")
        organisation = form.get("organisation", max_length=500)
        try:
            await update_account(db_session, person, name=name, locale=locale, organisation=organisation)
        except FormError as exc:
            awards = await awards_of(db_session, person.id)
            return Template(
                "accounts/account.html",
                context={
                    "person": person,
                    "awards": awards,
                    "errors": exc.errors,
                    "viewer": viewer,
                    "form_name": name,
                    "form_organisation": organisation,
                },
                status_code=400,
            )
        response = Redirect(url_for("account.detail", query={"saved": 1}), status_code=303)
        response.cookies.append(language_cookie(settings, locale))
        return response

    @get("/data", name="account.data")
    async def my_data(self, request: Req, viewer: Viewer, db_session: AsyncSession) -> Response[bytes]:
        """Everything stored about the signed-in person, as a JSON file (GDPR Art. 15)."""
        require(viewer, Action.EXPORT_OWN_DATA)
        person = await db_session.get(Person, viewer.person_id)
        assert person is not None
        data = await export_personal_data(db_session, person, ip=client_ip(request))
        name = f"award-jury-my-data-{utcnow().date().isoformat()}.json"
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2).encode(),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
        )

    @get("/password", name="account.password_form")
    async def password_form(self, viewer: Viewer, db_session: AsyncSession) -> Template:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        person = await db_session.get(Person, viewer.person_id)
        assert person is not None
        return Template(
            "accounts/password_set.html", context={"has_password": bool(person.password_hash), "errors": {}}
        )

    @post("/password", name="account.password")
    async def set_own_password(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        person = await db_session.get(Person, viewer.person_id)
        assert person is not None
        form = await read_form(request)
        errors: dict[str, str] = {}
        if person.password_hash and not await verify_password_async(
            person.password_hash, form.raw("current_password", max_length=300)
        ):
            errors["current_password"] = _("This is not your current password.")
        errors |= new_password_errors(
            form.raw("password", max_length=300), form.raw("password_confirm", max_length=300), person
        )
        if errors:
            context = {"has_password": bool(person.password_hash), "errors": errors}
            return Template("accounts/password_set.html", context=context, status_code=400)
        await set_password(db_session, person, form.raw("password", max_length=300), ip=client_ip(request))
        return await signed_in_redirect(
            request,
            settings,
            db_session,
            person,
            url_for("account.detail", query={"password": 1}),
            method="password-change",
        )

    @post("/signout-everywhere", name="account.signout_everywhere")
    async def signout_everywhere(
        self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> Redirect:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        assert viewer.person_id is not None
        await sessions_service.sign_out_everywhere(db_session, viewer.person_id, ip=client_ip(request))
        response = Redirect(url_for("signin.form", query={"signed_out": 1}), status_code=303)
        response.cookies.append(expired_session_cookie(settings))
        return response


class SessionController(Controller):
    @post("/session/extend", name="session.extend")
    async def extend(self, request: Req, viewer: Viewer, db_session: AsyncSession, settings: Settings) -> Response[Any]:
        """Keep the session alive (the idle warning's button; a plain form post works too)."""
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        token = request.cookies.get(settings.session_cookie_name, "")
        policy = session_policy(settings)
        loaded = await sessions_service.load_session(db_session, token, policy, utcnow())
        if loaded is None:  # it ended between loading the viewer and now
            raise SignInRequiredError("session ended")
        await sessions_service.extend_session(db_session, loaded[0], utcnow())
        deadline = sessions_service.idle_deadline(loaded[0], policy)
        if "application/json" in request.headers.get("accept", ""):
            seconds_left = int((deadline - utcnow()).total_seconds())
            return Response({"expires_at": deadline.isoformat(), "seconds_left": seconds_left}, status_code=200)
        form = await read_form(request)
        return Redirect(safe_next(form.get("next")), status_code=303)
