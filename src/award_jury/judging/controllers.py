"""Conflicts of interest: the organisers' page for an award and a juror's own declarations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTasks
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person
from award_jury.awards.models import Award
from award_jury.awards.services import get_award
from award_jury.entries.models import Entry, Startup
from award_jury.enums import ConflictKind, EntryStatus, Role
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.judging import conflicts
from award_jury.judging.models import Conflict, JurorCategory
from award_jury.policy import Action, Viewer, require
from award_jury.urls import absolute_url, url_for
from award_jury.web.forms import parse_id, read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import mail_task

Req = Request[Any, Any, Any]


async def entry_choices(session: AsyncSession, award: Award, juror_id: int | None = None) -> list[tuple[str, str]]:
    """(id, "E001 – Startup GmbH") for the award's entries (a juror: only those of their categories)."""
    query = (
        sa.select(Entry.id, Entry.ref, Startup.name)
        .join(Startup, Startup.id == Entry.startup_id)
        .where(Entry.award_id == award.id, Entry.status != EntryStatus.DRAFT)
        .order_by(Entry.ref)
    )
    if juror_id is not None:
        chosen = sa.select(JurorCategory.category_id).where(JurorCategory.person_id == juror_id)
        if (await session.execute(chosen.limit(1))).first() is not None:
            query = query.where(Entry.category_id.in_(chosen))
    return [(str(i), f"{ref} – {name}") for i, ref, name in await session.execute(query)]


async def juror_choices(session: AsyncSession, award: Award) -> list[tuple[str, str]]:
    rows = await session.execute(
        sa.select(Person.id, Person.name)
        .join(AwardRole, AwardRole.person_id == Person.id)
        .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR)
        .order_by(Person.name)
    )
    return [(str(i), name) for i, name in rows]


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
                "jurors": await juror_choices(session, award),
                "entries": await entry_choices(session, award),
                "kinds": [k.value for k in ConflictKind],
                "errors": errors or {},
                "values": values or {},
            },
            status_code=status,
        )

    @get("/conflicts", name="conflicts.list")
    async def conflicts_page(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award = await get_award(db_session, slug)
        require(viewer, Action.SET_UP_AWARD, award_id=award.id)
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
        mine = (
            await session.execute(
                sa.select(Conflict, Entry.ref, Startup.name)
                .join(Entry, Entry.id == Conflict.entry_id)
                .join(Startup, Startup.id == Entry.startup_id)
                .where(Entry.award_id == award.id, Conflict.juror_id == viewer.person_id)
                .order_by(Entry.ref)
            )
        ).all()
        return Template(
            "judging/my_conflicts.html",
            context={
                "award": award,
                "mine": mine,
                "entries": await entry_choices(session, award, viewer.person_id),
                "kinds": [k.value for k in ConflictKind],
                "errors": errors or {},
                "values": values or {},
            },
            status_code=status,
        )

    @get("/my-conflicts", name="conflicts.mine")
    async def my_conflicts(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award = await get_award(db_session, slug)
        require(viewer, Action.DECLARE_OWN_CONFLICT, award_id=award.id)
        return await self._juror_page(db_session, award, viewer)

    @post("/my-conflicts", name="conflicts.declare_own")
    async def declare_own(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.DECLARE_OWN_CONFLICT)
        form = await read_form(request)
        values = {k: form.get(k, max_length=2500) for k in ("entry", "kind", "reason")}
        allowed = {value for value, _label in await entry_choices(db_session, award, actor.id)}
        try:
            if values["entry"] not in allowed:
                raise FormError({"entry": _("Choose an entry.")})
            conflict = await conflicts.declare_conflict(
                db_session,
                award,
                juror_id=actor.id,
                entry_id=parse_id(values["entry"]),
                kind=values["kind"],
                reason=values["reason"],
                actor=actor,
            )
        except FormError as exc:
            return await self._juror_page(db_session, award, viewer, errors=exc.errors, values=values, status=400)
        tasks = await conflict_mails(request, db_session, award, actor, conflict)
        return Redirect(
            url_for("conflicts.mine", slug=award.slug, query={"saved": 1}), status_code=303, background=tasks
        )


async def conflict_mails(
    request: Req, session: AsyncSession, award: Award, juror: Person, conflict: Conflict
) -> BackgroundTasks:
    """E-mails that tell the award's organisers about a conflict a juror declared (sent after the response)."""
    entry = await session.get(Entry, conflict.entry_id)
    assert entry is not None
    organisers = await conflicts.organisers_of(session, award)
    settings = request.app.state.settings
    return BackgroundTasks(
        [
            mail_task(
                request,
                "conflict_declared",
                to=o.email,
                locale=o.locale,
                name=o.name,
                juror=juror.name,
                award_name=award.name,
                entry=entry.ref,
                kind=conflict.kind.value,
                reason=conflict.reason,
                link=absolute_url(settings.base_url, "conflicts.list", slug=award.slug),
            )
            for o in organisers
        ]
    )
