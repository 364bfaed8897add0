"""Conflicts of interest: the organisers' page for an award and a juror's own declarations."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award
from award_jury.enums import ConflictKind
from award_jury.errors import FormError
from award_jury.judging import conflicts
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer
from award_jury.urls import url_for
from award_jury.web.forms import parse_id, read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


class ConflictController(Controller):
    path = "/awards/{slug:str}"

    async def _organiser_page(
        self,
        session: AsyncSession,
        award: Award,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        return Template(
            "judging/conflicts.html",
            context={
                "award": award,
                "conflicts": await conflicts.conflicts_of(session, award),
                "suspicions": await conflicts.suspected_conflicts(session, award),
                "jurors": await conflicts.juror_choices(session, award),
                "entries": await conflicts.entry_choices(session, award),
                "kinds": [k.value for k in ConflictKind],
                "errors": errors or {},
                "values": values or {},
            },
            status_code=status,
        )

    @get("/conflicts", name="conflicts.list")
    async def conflicts_page(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        return await self._organiser_page(db_session, award)

    @post("/conflicts", name="conflicts.record")
    async def record_conflict(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        form = await read_form(request)
        values = {k: form.get(k, max_length=2500) for k in ("juror", "entry", "kind", "reason")}
        try:
            await conflicts.declare_conflict(
                db_session,
                award,
                juror_id=parse_id(values["juror"]) or 0,
                entry_id=parse_id(values["entry"]),
                kind=values["kind"],
                reason=values["reason"],
                actor=actor,
            )
        except FormError as exc:
            return await self._organiser_page(db_session, award, errors=exc.errors, values=values, status=400)
        return Redirect(url_for("conflicts.list", slug=award.slug, query={"saved": 1}), status_code=303)

    @post("/conflicts/{conflict_id:int}/delete", name="conflicts.delete")
    async def delete_conflict(self, slug: str, conflict_id: int, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        await conflicts.remove_conflict(db_session, award, conflict_id, actor)
        return Redirect(url_for("conflicts.list", slug=award.slug, query={"removed": 1}), status_code=303)

    async def _juror_page(
        self,
        session: AsyncSession,
        award: Award,
        viewer: Viewer,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        mine = await conflicts.own_conflicts(session, award, viewer.person_id)
        return Template(
            "judging/my_conflicts.html",
            context={
                "award": award,
                "mine": mine,
                "entries": await conflicts.entry_choices(session, award, viewer.person_id),
                "kinds": [k.value for k in ConflictKind],
                "errors": errors or {},
                "values": values or {},
            },
            status_code=status,
        )

    @get("/my-conflicts", name="conflicts.mine")
    async def my_conflicts(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.DECLARE_OWN_CONFLICT)
        return await self._juror_page(db_session, award, viewer)

    @post("/my-conflicts", name="conflicts.declare_own")
    async def declare_own(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, mailer: Mailer
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.DECLARE_OWN_CONFLICT)
        form = await read_form(request)
        values = {k: form.get(k, max_length=2500) for k in ("entry", "kind", "reason")}
        try:
            mails = await conflicts.declare_own_conflict(
                db_session, mailer, award, actor, entry=values["entry"], kind=values["kind"], reason=values["reason"]
            )
        except FormError as exc:
            return await self._juror_page(db_session, award, viewer, errors=exc.errors, values=values, status=400)
        tasks = send_after_response(mailer, mails)
        return Redirect(
            url_for("conflicts.mine", slug=award.slug, query={"saved": 1}), status_code=303, background=tasks
        )
