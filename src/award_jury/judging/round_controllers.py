"""A round's jury work for organisers: assigning jurors (automatic plan, preview, apply,
release) and following progress (with reminders)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards import setup, validators
from award_jury.awards.models import Award, Round
from award_jury.db import utcnow
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.judging import assignments as assignments_service
from award_jury.judging import progress as progress_service
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer
from award_jury.ranking import queries as ranking
from award_jury.urls import url_for
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import parse_id, read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


async def assignments_page(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    k: str,
    *,
    manual_error: tuple[str, dict[str, str]] | None = None,
    status: int = 200,
) -> Template:
    facts = await assignments_service.load_facts(session, award, rnd)
    errors: dict[str, str] = {}
    plan = None
    if k:
        value, problem = validators.parse_int(k, 1, assignments_service.MAX_K)
        if problem:
            errors["k"] = problem
            status = 400
        else:
            assert value is not None
            plan = assignments_service.plan_for(facts, value)
    current = dict.fromkeys(facts.jurors, 0)
    jurors_of: dict[int, list[int]] = {e: [] for e, _c in facts.entries}
    for j, e in facts.existing:
        current[j] = current.get(j, 0) + 1
        if e in jurors_of:
            jurors_of[e].append(j)
    for assigned in jurors_of.values():
        assigned.sort(key=lambda j: facts.names.get(j, ""))
    return Template(
        "awards/assignments.html",
        context={
            "award": award,
            "round": rnd,
            "facts": facts,
            "plan": plan,
            "k": k,
            "errors": errors,
            "current": current,
            "jurors_of": jurors_of,
            "manual_error": manual_error,
            "category_names": {c.id: c.name for c in award.categories},
        },
        status_code=status,
    )


class AssignmentController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/assignments"

    @get("", name="assignments.page")
    async def assignments(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, k: str = ""
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        return await assignments_page(db_session, award, setup.find_round(award, round_slug), k)

    @post("", name="assignments.apply")
    async def apply(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        value, problem = validators.parse_int(form.get("k"), 1, assignments_service.MAX_K)
        if problem or value is None:
            return Redirect(
                url_for(
                    "assignments.page", slug=award.slug, round_slug=rnd.slug, query={"k": form.get("k", max_length=10)}
                ),
                status_code=303,
            )
        plan = await assignments_service.apply_plan(db_session, award, rnd, value, actor)
        return Redirect(
            url_for("assignments.page", slug=award.slug, round_slug=rnd.slug, query={"applied": len(plan.new_pairs)}),
            status_code=303,
        )

    @post("/add", name="assignments.add")
    async def add(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        juror, entry = form.get("juror"), form.get("entry")
        try:
            juror_id, entry_id = parse_id(juror), parse_id(entry)
            if juror_id is None or entry_id is None:
                raise FormError({"juror": _("Choose a juror of this award.")})
            await assignments_service.assign_manually(db_session, award, rnd, juror_id, entry_id, actor)
        except FormError as exc:
            return await assignments_page(db_session, award, rnd, "", manual_error=(entry, exc.errors), status=400)
        return Redirect(
            url_for(
                "assignments.page", slug=award.slug, round_slug=rnd.slug, query={"added": 1}, anchor=f"entry-{entry}"
            ),
            status_code=303,
        )

    @post("/remove", name="assignments.remove")
    async def remove(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        juror, entry = form.get("juror"), form.get("entry")
        juror_id, entry_id = parse_id(juror), parse_id(entry)
        if juror_id is not None and entry_id is not None:
            await assignments_service.unassign(db_session, award, rnd, juror_id, entry_id, actor)
        return Redirect(
            url_for(
                "assignments.page", slug=award.slug, round_slug=rnd.slug, query={"removed": 1}, anchor=f"entry-{entry}"
            ),
            status_code=303,
        )

    @get("/release", name="assignments.confirm_release")
    async def confirm_release(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, juror: str = ""
    ) -> Template | Redirect:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        juror_id = parse_id(juror)
        if juror_id is None:
            return Redirect(url_for("assignments.page", slug=award.slug, round_slug=rnd.slug), status_code=303)
        name, check = await assignments_service.release_check(db_session, award, rnd, juror_id)
        return confirm_page(release_confirmation(award, rnd, juror_id, name), check, award=award)

    @post("/release", name="assignments.release")
    async def release(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        juror_id = parse_id(form.get("juror"))
        if juror_id is None:
            return Redirect(url_for("assignments.page", slug=award.slug, round_slug=rnd.slug), status_code=303)
        name, check = await assignments_service.release_check(db_session, award, rnd, juror_id)
        confirmation = release_confirmation(award, rnd, juror_id, name)

        async def act(answer: Confirmed) -> str:
            released = await assignments_service.release_juror(
                db_session, award, rnd, juror_id, actor, state=answer.state
            )
            return url_for("assignments.page", slug=award.slug, round_slug=rnd.slug, query={"released": released})

        return await confirmed_action(request, confirmation, check, act, award=award)


def release_confirmation(award: Award, rnd: Round, juror_id: int, name: str) -> Confirmation:
    return Confirmation(
        title=_("Release the open assignments of %(name)s?") % {"name": name},
        action=url_for("assignments.release", slug=award.slug, round_slug=rnd.slug),
        back=url_for("assignments.page", slug=award.slug, round_slug=rnd.slug),
        button=_("Release open assignments"),
        fields={"juror": str(juror_id)},
    )


class ProgressController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/progress"

    @get("", name="progress.page")
    async def progress(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        progress = await progress_service.round_progress(db_session, award, rnd)
        return Template(
            "awards/progress.html",
            context={
                "award": award,
                "round": rnd,
                "progress": progress,
                "now": utcnow(),
                "reminded": progress_service.to_remind(progress),
                "category_names": {c.id: c.name for c in award.categories},
            },
        )

    @post("/remind", name="progress.remind")
    async def remind(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, mailer: Mailer
    ) -> Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD, round_slug=round_slug)
        mails = await progress_service.remind_jurors(db_session, mailer, award, rnd, actor)
        return Redirect(
            url_for("progress.page", slug=award.slug, round_slug=rnd.slug, query={"reminded": len(mails)}),
            status_code=303,
            background=send_after_response(mailer, mails),
        )


class AdvanceController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/advance"

    @get("", name="advance.page")
    async def advance_page(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, top: str = ""
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        preselected: set[str] = set()
        top_n, top_problem = validators.parse_int(top, 1, 1000) if top else (None, None)
        if top_n is not None:
            results = await ranking.rank(db_session, award, rnd)
            preselected = {e.ref for c in results for e in c.entries if e.rank is not None and e.rank <= top_n}
        target = assignments_service.next_round(award, rnd)
        facts = await assignments_service.load_facts(db_session, award, rnd)
        already = await assignments_service.entries_in(db_session, target) if target is not None else set()
        return Template(
            "awards/advance.html",
            context={
                "award": award,
                "round": rnd,
                "target": target,
                "facts": facts,
                "already": already,
                "category_names": {c.id: c.name for c in award.categories},
                "preselected": preselected,
                "top": top,
                "errors": {"top": top_problem} if top_problem else {},
            },
            status_code=400 if top_problem else 200,
        )

    @post("", name="advance.apply")
    async def advance(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        target = assignments_service.next_round(award, rnd)
        base = url_for("advance.page", slug=award.slug, round_slug=rnd.slug)
        if target is None:
            return Redirect(base, status_code=303)
        form = await read_form(request)
        ids = [i for i in map(parse_id, form.getall("entries")) if i is not None]
        added = await assignments_service.advance_entries(db_session, award, rnd, target, ids, actor)
        return Redirect(
            url_for("advance.page", slug=award.slug, round_slug=rnd.slug, query={"advanced": added}), status_code=303
        )
