"""The organiser's set-up pages: a new award, the award's settings and categories, its rounds
and their weighted criteria."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.awards import branding, setup
from award_jury.awards.models import Award, Category, Criterion, Round
from award_jury.entries.storage import Storage
from award_jury.enums import Method
from award_jury.errors import ConflictError, FormError
from award_jury.i18n import gettext as _
from award_jury.policy import Action, Viewer, awards_where, can, require
from award_jury.urls import url_for
from award_jury.web.bodies import TAKES_FILE
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import Form, parse_id, read_form, read_upload
from award_jury.web.guards import award_for

Req = Request[Any, Any, Any]
#: (value, label) pairs for the time zone list.
TIME_ZONES = [
    (z, z.replace("_", " "))
    for z in sorted(available_timezones())
    if "/" in z and not z.startswith(("Etc/", "SystemV/"))
]


def award_form(form: Form) -> setup.AwardForm:
    return setup.AwardForm(
        name=form.get("name", max_length=500),
        slug=form.get("slug", max_length=100).lower(),
        locale=form.get("locale"),
        time_zone=form.get("time_zone", max_length=100),
        description=form.get("description", max_length=25_000),
        primary_color=form.get("primary_color", max_length=20),
    )


def round_form(form: Form) -> setup.RoundForm:
    return setup.RoundForm(
        name=form.get("name", max_length=500),
        submissions_open=form.get("submissions_open", max_length=40),
        submissions_close=form.get("submissions_close", max_length=40),
        scoring_close=form.get("scoring_close", max_length=40),
        method=form.get("method"),
        min_sheets=form.get("min_sheets", max_length=20),
        results_visible_to_jurors=form.get("results_visible") == "1",
    )


def criterion_form(form: Form) -> setup.CriterionForm:
    return setup.CriterionForm(
        name=form.get("name", max_length=500),
        key=form.get("key", max_length=100),
        description=form.get("description", max_length=25_000),
        weight=form.get("weight", max_length=40),
        min_value=form.get("min_value", max_length=40),
        max_value=form.get("max_value", max_length=40),
        step=form.get("step", max_length=40),
        levels=form.get("levels", max_length=25_000),
    )


def setup_page(
    award: Award,
    *,
    form_id: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "awards/setup.html",
        context={
            "award": award,
            "form_id": form_id,
            "errors": errors or {},
            "values": values or {},
            "time_zones": TIME_ZONES,
            "methods": [m.value for m in Method],
        },
        status_code=status,
    )


async def round_page(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    viewer: Viewer,
    *,
    form_id: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    # Rounds to copy criteria from: every other round of every award this person may set up.
    sources = await setup.copy_sources(session, rnd, awards_where(viewer, Action.SET_UP_AWARD))
    total = sum((c.weight for c in rnd.criteria), start=0)
    return Template(
        "awards/round.html",
        context={
            "award": award,
            "round": rnd,
            "form_id": form_id,
            "errors": errors or {},
            "values": values or {},
            "methods": [m.value for m in Method],
            "locked": await setup.round_is_locked(session, rnd.id),
            "sources": sources,
            "total_weight": total,
        },
        status_code=status,
    )


class NewAwardController(Controller):
    @get("/awards/new", name="awards.new_form")
    async def new_award_form(self, viewer: Viewer) -> Template:
        require(viewer, Action.CREATE_AWARD)
        values = {"locale": "de", "time_zone": "Europe/Berlin"}
        return Template("awards/new.html", context={"errors": {}, "values": values, "time_zones": TIME_ZONES})

    @post("/awards/new", name="awards.create")
    async def create_award(self, request: Req, viewer: Viewer, db_session: AsyncSession) -> Template | Redirect:
        require(viewer, Action.CREATE_AWARD)
        form = award_form(await read_form(request))
        creator = await db_session.get(Person, viewer.person_id)
        assert creator is not None
        try:
            award = await setup.create_award(db_session, form, creator)
        except FormError as exc:
            context = {"errors": exc.errors, "values": form.snapshot(), "time_zones": TIME_ZONES}
            return Template("awards/new.html", context=context, status_code=400)
        return Redirect(url_for("setup.overview", slug=award.slug, query={"created": 1}), status_code=303)


class AwardSetupController(Controller):
    path = "/awards/{slug:str}"

    @get("/setup", name="setup.overview")
    async def setup_overview(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        return setup_page(award)

    @post("/setup", name="setup.update")
    async def update_award(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        form = award_form(await read_form(request))
        try:
            await setup.update_award(db_session, award, form, actor)
        except FormError as exc:
            return setup_page(award, form_id="award", errors=exc.errors, values=form.snapshot(), status=400)
        return Redirect(url_for("setup.overview", slug=award.slug, query={"saved": "award"}), status_code=303)

    @post("/setup/logo", opt={TAKES_FILE: True}, name="setup.upload_logo")
    async def upload_logo(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, storage: Storage
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        data = await read_upload(request, "logo", limit=branding.MAX_LOGO_BYTES)
        try:
            await setup.set_logo(db_session, award, data or b"", storage, actor)
        except FormError as exc:
            return setup_page(award, form_id="logo", errors=exc.errors, status=400)
        return Redirect(url_for("setup.overview", slug=award.slug, query={"saved": "logo"}), status_code=303)

    @post("/setup/logo/delete", name="setup.delete_logo")
    async def delete_logo(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        await setup.remove_logo(db_session, award, actor)
        return Redirect(url_for("setup.overview", slug=award.slug, query={"saved": "logo"}), status_code=303)

    @post("/categories", name="categories.add")
    async def add_category(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        return await self._save_category(request, slug, viewer, db_session, None)

    @post("/categories/{category_id:int}", name="categories.update")
    async def update_category(
        self, request: Req, slug: str, category_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        return await self._save_category(request, slug, viewer, db_session, category_id)

    async def _save_category(
        self, request: Req, slug: str, viewer: Viewer, session: AsyncSession, category_id: int | None
    ) -> Template | Redirect:
        award, actor = await award_for(session, slug, viewer, Action.SET_UP_AWARD)
        category = setup.find_category(award, category_id) if category_id is not None else None
        form = await read_form(request)
        values = {k: form.get(k, max_length=5000) for k in ("name", "description", "prizes")}
        try:
            await setup.save_category(session, award, actor, category=category, **values)
        except FormError as exc:
            form_id = f"category-{category_id}" if category_id else "new-category"
            return setup_page(award, form_id=form_id, errors=exc.errors, values=values, status=400)
        return Redirect(
            url_for("setup.overview", slug=award.slug, query={"saved": "categories"}, anchor="categories"),
            status_code=303,
        )

    @get("/categories/{category_id:int}/delete", name="categories.confirm_delete")
    async def confirm_delete_category(
        self, slug: str, category_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        category = setup.find_category(award, category_id)
        check = await setup.delete_category_check(db_session, award, category)
        return confirm_page(delete_category_confirmation(award, category), check, award=award)

    @post("/categories/{category_id:int}/delete", name="categories.delete")
    async def delete_category(
        self, request: Req, slug: str, category_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        category = setup.find_category(award, category_id)
        check = await setup.delete_category_check(db_session, award, category)
        confirmation = delete_category_confirmation(award, category)

        async def act(answer: Confirmed) -> str:
            await setup.delete_category(db_session, award, category, actor, state=answer.state)
            return url_for("setup.overview", slug=award.slug, query={"saved": "categories"}, anchor="categories")

        return await confirmed_action(request, confirmation, check, act, award=award)

    @post("/rounds", name="rounds.add")
    async def add_round(self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        form = round_form(await read_form(request))
        try:
            rnd = await setup.save_round(db_session, award, form, actor)
        except FormError as exc:
            return setup_page(award, form_id="new-round", errors=exc.errors, values=dict(form.__dict__), status=400)
        return Redirect(
            url_for("rounds.detail", slug=award.slug, round_slug=rnd.slug, query={"created": 1}), status_code=303
        )

    @get("/rounds/{round_slug:str}", name="rounds.detail")
    async def round_overview(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        return await round_page(db_session, award, setup.find_round(award, round_slug), viewer)

    @post("/rounds/{round_slug:str}", name="rounds.update")
    async def update_round(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = round_form(await read_form(request))
        try:
            await setup.save_round(db_session, award, form, actor, rnd)
        except FormError as exc:
            values = dict(form.__dict__)
            return await round_page(
                db_session, award, rnd, viewer, form_id="round", errors=exc.errors, values=values, status=400
            )
        return Redirect(
            url_for("rounds.detail", slug=award.slug, round_slug=rnd.slug, query={"saved": "round"}), status_code=303
        )

    @get("/rounds/{round_slug:str}/delete", name="rounds.confirm_delete")
    async def confirm_delete_round(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        check = await setup.delete_round_check(db_session, award, rnd)
        return confirm_page(delete_round_confirmation(award, rnd), check, award=award)

    @post("/rounds/{round_slug:str}/delete", name="rounds.delete")
    async def delete_round(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        check = await setup.delete_round_check(db_session, award, rnd)
        confirmation = delete_round_confirmation(award, rnd)

        async def act(answer: Confirmed) -> str:
            await setup.delete_round(db_session, award, rnd, actor, state=answer.state)
            return url_for("setup.overview", slug=award.slug, query={"saved": "rounds"}, anchor="rounds")

        return await confirmed_action(request, confirmation, check, act, award=award)

    @post("/rounds/{round_slug:str}/criteria", name="criteria.add")
    async def add_criterion(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        return await self._save_criterion(request, slug, round_slug, None, viewer, db_session)

    @post("/rounds/{round_slug:str}/criteria/{key:str}", name="criteria.update")
    async def update_criterion(
        self, request: Req, slug: str, round_slug: str, key: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        return await self._save_criterion(request, slug, round_slug, key, viewer, db_session)

    async def _save_criterion(
        self, request: Req, slug: str, round_slug: str, key: str | None, viewer: Viewer, session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        criterion = setup.find_criterion(rnd, key) if key is not None else None
        raw = await read_form(request)
        form = criterion_form(raw)
        try:
            await setup.save_criterion(session, award, rnd, form, actor, criterion, confirmed=raw.get("confirm") == "1")
        except setup.WeightChangeNeedsConfirmation as question:
            assert criterion is not None
            return Template(
                "awards/weight_confirm.html",
                context={
                    "award": award,
                    "round": rnd,
                    "criterion": criterion,
                    "values": dict(form.__dict__),
                    "moves": question.moves,
                    "old": question.old,
                    "new": question.new,
                },
            )
        except FormError as exc:
            form_id = f"criterion-{key}" if key else "new-criterion"
            return await round_page(
                session, award, rnd, viewer, form_id=form_id, errors=exc.errors, values=dict(form.__dict__), status=400
            )
        return Redirect(
            url_for(
                "rounds.detail", slug=award.slug, round_slug=rnd.slug, query={"saved": "criteria"}, anchor="criteria"
            ),
            status_code=303,
        )

    @get("/rounds/{round_slug:str}/criteria/{key:str}/delete", name="criteria.confirm_delete")
    async def confirm_delete_criterion(
        self, slug: str, round_slug: str, key: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        criterion = setup.find_criterion(rnd, key)
        check = await setup.delete_criterion_check(db_session, award, rnd, criterion)
        return confirm_page(delete_criterion_confirmation(award, rnd, criterion), check, award=award)

    @post("/rounds/{round_slug:str}/criteria/{key:str}/delete", name="criteria.delete")
    async def delete_criterion(
        self, request: Req, slug: str, round_slug: str, key: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        criterion = setup.find_criterion(rnd, key)
        check = await setup.delete_criterion_check(db_session, award, rnd, criterion)
        confirmation = delete_criterion_confirmation(award, rnd, criterion)

        async def act(answer: Confirmed) -> str:
            await setup.delete_criterion(db_session, award, rnd, criterion, actor, state=answer.state)
            return url_for(
                "rounds.detail", slug=award.slug, round_slug=rnd.slug, query={"saved": "criteria"}, anchor="criteria"
            )

        return await confirmed_action(request, confirmation, check, act, award=award)

    @post("/rounds/{round_slug:str}/copy-criteria", name="criteria.copy")
    async def copy_criteria(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.SET_UP_AWARD)
        rnd = setup.find_round(award, round_slug)
        form = await read_form(request)
        source_id = parse_id(form.get("source"))
        source = await db_session.get(Round, source_id) if source_id else None
        if source is None or not can(viewer, Action.SET_UP_AWARD, award_id=source.award_id):
            return await round_page(
                db_session,
                award,
                rnd,
                viewer,
                form_id="copy",
                errors={"source": _("Choose a round to copy from.")},
                status=400,
            )
        try:
            copied = await setup.copy_criteria(db_session, award, rnd, source.id, actor)
        except ConflictError as exc:
            return await round_page(
                db_session, award, rnd, viewer, form_id="copy", errors={"source": str(exc)}, status=409
            )
        return Redirect(
            url_for("rounds.detail", slug=award.slug, round_slug=rnd.slug, query={"copied": copied}, anchor="criteria"),
            status_code=303,
        )


def delete_category_confirmation(award: Award, category: Category) -> Confirmation:
    return Confirmation(
        title=_("Delete the category %(name)s?") % {"name": category.name},
        action=url_for("categories.delete", slug=award.slug, category_id=category.id),
        back=url_for("setup.overview", slug=award.slug, anchor="categories"),
        button=_("Delete category"),
    )


def delete_round_confirmation(award: Award, rnd: Round) -> Confirmation:
    return Confirmation(
        title=_("Delete the round %(name)s?") % {"name": rnd.name},
        action=url_for("rounds.delete", slug=award.slug, round_slug=rnd.slug),
        back=url_for("rounds.detail", slug=award.slug, round_slug=rnd.slug),
        button=_("Delete this round"),
    )


def delete_criterion_confirmation(award: Award, rnd: Round, criterion: Criterion) -> Confirmation:
    return Confirmation(
        title=_("Delete the criterion %(name)s?") % {"name": criterion.name},
        action=url_for("criteria.delete", slug=award.slug, round_slug=rnd.slug, key=criterion.key),
        back=url_for("rounds.detail", slug=award.slug, round_slug=rnd.slug, anchor="criteria"),
        button=_("Delete criterion"),
    )
