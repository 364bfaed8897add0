"""The award's sign-in security page (set-up): whether its organisers must use two-factor sign-in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.twofactor import two_factor_of
from award_jury.awards.models import Award
from award_jury.awards.security import organisers_sign_in, set_two_factor_requirement
from award_jury.errors import FormError
from award_jury.policy import Action, Viewer
from award_jury.urls import url_for
from award_jury.web.forms import read_form
from award_jury.web.guards import award_for

Req = Request[Any, Any, Any]


async def security_page(
    session: AsyncSession, award: Award, actor_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    return Template(
        "awards/security.html",
        context={
            "award": award,
            "organisers": await organisers_sign_in(session, award),
            "own_two_factor": await two_factor_of(session, actor_id) is not None,
            "errors": errors or {},
        },
        status_code=status,
    )


class AwardSecurityController(Controller):
    path = "/awards/{slug:str}/setup/security"

    @get("", name="setup.security")
    async def security_form(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        return await security_page(db_session, award, actor.id)

    @post("", name="setup.update_security")
    async def update_security(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        required = (await read_form(request)).get("organisers_need_two_factor") == "1"
        try:
            await set_two_factor_requirement(db_session, award, required, actor)
        except FormError as exc:
            return await security_page(db_session, award, actor.id, errors=exc.errors, status=400)
        return Redirect(url_for("setup.security", slug=award.slug, query={"saved": 1}), status_code=303)
