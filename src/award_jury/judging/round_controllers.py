"""A round's jury work for organisers: assigning jurors (automatic plan, preview, apply,
release) and following progress (with reminders)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTasks
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.audit.services import record_event
from award_jury.awards import setup, validators
from award_jury.awards.setup_controllers import organised_award
from award_jury.db import utcnow
from award_jury.judging import assignments as assignments_service
from award_jury.judging import progress as progress_service
from award_jury.policy import Viewer
from award_jury.web.forms import read_form
from award_jury.web.mailer import mail_task

Req = Request[Any, Any, Any]


class AssignmentController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/assignments"

    @get("")
    async def assignments(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, k: str = ""
    ) -> Template:
        award, _actor = await organised_award(db_session, slug, viewer)
        rnd = setup.find_round(award, round_slug)
        facts = await assignments_service.load_facts(db_session, award, rnd)
        errors: dict[str, str] = {}
        plan = None
        if k:
            value, problem = validators.parse_int(k, 1, assignments_service.MAX_K)
            if problem:
                errors["k"] = problem
            else:
                assert value is not None
                plan = assignments_service.plan_for(facts, value)
        current = {j: 0 for j in facts.jurors}
        for j, _e in facts.existing:
            current[j] = current.get(j, 0) + 1
        per_entry = {e: 0 for e, _c in facts.entries}
        for _j, e in facts.existing:
            if e in per_entry:
                per_entry[e] += 1
        return Template(
            "awards/assignments.html",
            context={"award": award, "round": rnd, "facts": facts, "plan": plan, "k": k, "errors": errors,
                     "current": current, "per_entry": per_entry,
                     "category_names": {c.id: c.name for c in award.categories}},
            status_code=400 if errors else 200,
        )  # fmt: skip

    @post("")
    async def apply(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await organised_award(db_session, slug, viewer)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        value, problem = validators.parse_int(form.get("k"), 1, assignments_service.MAX_K)
        base = f"/awards/{award.slug}/rounds/{rnd.slug}/assignments"
        if problem or value is None:
            return Redirect(f"{base}?k={form.get('k', max_length=10)}", status_code=303)
        plan = await assignments_service.apply_plan(db_session, award, rnd, value, actor)
        return Redirect(f"{base}?applied={len(plan.new_pairs)}", status_code=303)

    @post("/release")
    async def release(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await organised_award(db_session, slug, viewer)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        juror = form.get("juror")
        released = 0
        if juror.isdigit():
            released = await assignments_service.release_juror(db_session, award, rnd, int(juror), actor)
        return Redirect(f"/awards/{award.slug}/rounds/{rnd.slug}/assignments?released={released}", status_code=303)


class ProgressController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/progress"

    @get("")
    async def progress(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await organised_award(db_session, slug, viewer)
        rnd = setup.find_round(award, round_slug)
        progress = await progress_service.round_progress(db_session, award, rnd)
        return Template(
            "awards/progress.html",
            context={"award": award, "round": rnd, "progress": progress, "now": utcnow(),
                     "reminded": [j for j in progress.jurors if j.open > 0],
                     "category_names": {c.id: c.name for c in award.categories}},
        )  # fmt: skip

    @post("/remind")
    async def remind(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Redirect:
        award, actor = await organised_award(db_session, slug, viewer)
        rnd = setup.find_round(award, round_slug)
        progress = await progress_service.round_progress(db_session, award, rnd)
        recipients = [j for j in progress.jurors if j.open > 0]
        settings = request.app.state.settings
        tasks = BackgroundTasks(
            [
                mail_task(
                    request,
                    "reminder",
                    to=j.email,
                    locale=j.locale,
                    name=j.name,
                    award_name=award.name,
                    round_name=rnd.name,
                    open=j.open,
                    deadline=rnd.scoring_close,
                    time_zone=award.time_zone,
                    link=f"{settings.base_url}/account",
                )
                for j in recipients
            ]
        )
        record_event(db_session, "reminder.sent", actor_id=actor.id, award_id=award.id, object_type="round",
                     object_id=rnd.id, after={"recipients": [j.email for j in recipients]})  # fmt: skip
        base = f"/awards/{award.slug}/rounds/{rnd.slug}/progress"
        return Redirect(f"{base}?reminded={len(recipients)}", status_code=303, background=tasks)
