"""The account page's API tokens: create one (shown once, on its own page) and revoke one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts import tokens
from award_jury.accounts.models import Person
from award_jury.accounts.services import awards_of
from award_jury.accounts.twofactor import two_factor_of
from award_jury.db import utcnow
from award_jury.errors import FormError
from award_jury.policy import Action, Viewer, require
from award_jury.urls import url_for
from award_jury.web.auth import client_ip
from award_jury.web.forms import read_form

Req = Request[Any, Any, Any]


async def account_context(session: AsyncSession, viewer: Viewer, person: Person) -> dict[str, Any]:
    """What the account page shows besides its forms' values (the token list among it)."""
    return {
        "person": person,
        "awards": await awards_of(session, person.id),
        "errors": {},
        "viewer": viewer,
        "api_tokens": await tokens.list_tokens(session, person.id),
        "token_state": tokens.token_state,
        "now": utcnow(),
        "token_errors": {},
        "token_values": {},
        "two_factor": await two_factor_of(session, person.id),
    }


class ApiTokenController(Controller):
    path = "/account/tokens"

    @post("", name="account.token_create")
    async def create(self, request: Req, viewer: Viewer, db_session: AsyncSession) -> Template:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        person = await db_session.get(Person, viewer.person_id)
        assert person is not None
        form = await read_form(request)
        label, days = form.get("label", max_length=500), form.get("expires_days", max_length=20)
        try:
            wanted = tokens.parse_token_request(label, days)
            row, token = await tokens.create_token(
                db_session, person, wanted, utcnow(), ip=client_ip(request), via="account"
            )
        except FormError as exc:
            context = await account_context(db_session, viewer, person)
            context |= {"token_errors": exc.errors, "token_values": {"label": label, "expires_days": days}}
            return Template("accounts/account.html", context=context, status_code=400)
        # Shown once, on a page of its own (never in a URL): the answer is not cached (signed in).
        return Template("accounts/token_created.html", context={"token": token, "row": row}, status_code=201)

    @post("/{token_id:int}/revoke", name="account.token_revoke")
    async def revoke(self, request: Req, token_id: int, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        assert viewer.person_id is not None
        await tokens.revoke_token(db_session, viewer.person_id, token_id, utcnow(), ip=client_ip(request))
        return Redirect(url_for("account.detail", query={"token_revoked": 1}, anchor="tokens-heading"), status_code=303)
