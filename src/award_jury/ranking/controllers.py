"""Results pages: the organisers' view of a round (with explanations, decisions, finalisation,
publication), the jurors' view of a published round and the public page of published winners.

"Results" is the product's word, so every page, URL, route name (``results.*``) and template
(``templates/results/``) says so. The package keeps the domain's name ``ranking``: ``compute.py``
is the ranking engine (totals, ranks, ties) that the results pages show. The one URL that said
"ranking", ``/awards/…/rounds/…/ranking``, answers with a permanent redirect to its new place."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Round
from award_jury.awards.services import get_award
from award_jury.awards.setup import find_round
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.judging.assignments import next_round
from award_jury.policy import Action, Viewer, require
from award_jury.ranking import analysis, services
from award_jury.urls import url_for
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import read_form
from award_jury.web.guards import award_for

Req = Request[Any, Any, Any]


async def results_page(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    *,
    errors: dict[str, str] | None = None,
    error_category: str = "",
    status: int = 200,
) -> Template:
    view = await services.round_results(session, award, rnd)
    check = services.sha256_of(view.document) if view.snapshot else None  # recomputed from the sheets
    chart = analysis.calibration_chart([(name, c.offset) for name, c in view.calibration])
    return Template(
        "results/round.html",
        context={
            "award": award,
            "round": rnd,
            "view": view,
            "check": check,
            "calibration_chart": chart,
            "names": {c.slug: c.name for c in award.categories},
            "methods": analysis.METHODS,
            "advancing": next_round(award, rnd) is not None,
            "errors": errors or {},
            "error_category": error_category,
        },
        status_code=status,
    )


class ResultsController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/results"

    @get("", name="results.round")
    async def results(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, rnd, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        return await results_page(db_session, award, rnd)

    @get("/entries/{ref:str}", name="results.entry")
    async def why(self, slug: str, round_slug: str, ref: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, rnd, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        explanation = await services.entry_explanation(db_session, award, rnd, ref)
        return Template(
            "results/entry.html",
            context={
                "award": award,
                "round": rnd,
                **explanation,
                "criteria": rnd.criteria,
                "advancing": next_round(award, rnd) is not None,
            },
        )

    @get("/stability", name="results.stability")
    async def stability(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, rnd, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        results, shares = await services.round_stability(db_session, award, rnd)
        return Template(
            "results/stability.html",
            context={
                "award": award,
                "round": rnd,
                "results": results,
                "shares": shares,
                "names": {c.slug: c.name for c in award.categories},
                "advancing": next_round(award, rnd) is not None,
            },
        )

    @post("/decisions", name="results.decide")
    async def decide(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        form = await read_form(request)
        category = form.get("category", max_length=100)
        places: list[tuple[int, str]] = []
        for key, value in ((k[6:], form.get(k)) for k in form.names() if k.startswith("place_")):
            places.append((int(value) if value.isascii() and value.isdigit() and len(value) < 4 else 0, key))
        ordered = [ref for _place, ref in sorted(places)]
        if len({p for p, _r in places}) != len(places) or any(p == 0 for p, _r in places):
            ordered = []  # two entries on one place, or a place that is no number: not an order
        try:
            await services.decide_tie(
                db_session, award, rnd, category, ordered, form.get("reason", max_length=5000), actor
            )
        except FormError as exc:
            return await results_page(db_session, award, rnd, errors=exc.errors, error_category=category, status=400)
        return Redirect(
            url_for("results.round", slug=award.slug, round_slug=rnd.slug, query={"decided": 1}), status_code=303
        )

    @get("/finalise", name="results.confirm_finalise")
    async def confirm_finalise(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, rnd, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        check = await services.finalise_consequences(db_session, award, rnd)
        return confirm_page(finalise_confirmation(award, rnd), check, award=award)

    @post("/finalise", name="results.finalise")
    async def finalise(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)

        async def act(answer: Confirmed) -> str:
            await services.finalise_round(
                db_session, award, rnd, actor.id, override_reason=answer.override_reason, state=answer.state
            )
            return url_for("results.round", slug=award.slug, round_slug=rnd.slug, query={"finalised": 1})

        return await confirmed_action(
            request,
            finalise_confirmation(award, rnd),
            lambda: services.finalise_consequences(db_session, award, rnd),
            act,
            award=award,
        )

    @get("/publish", name="results.confirm_publish")
    async def confirm_publish(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, rnd, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)
        check = await services.publish_consequences(db_session, award, rnd)
        return confirm_page(publish_confirmation(award, rnd), check, award=award)

    @post("/publish", name="results.publish")
    async def publish(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.MANAGE_RESULTS, round_slug=round_slug)

        async def act(answer: Confirmed) -> str:
            await services.publish_round(
                db_session, award, rnd, actor, override_reason=answer.override_reason, state=answer.state
            )
            return url_for("results.round", slug=award.slug, round_slug=rnd.slug, query={"published": 1})

        return await confirmed_action(
            request,
            publish_confirmation(award, rnd),
            lambda: services.publish_consequences(db_session, award, rnd),
            act,
            award=award,
        )


def finalise_confirmation(award: Award, rnd: Round) -> Confirmation:
    return Confirmation(
        title=_("Finalise %(round)s?") % {"round": rnd.name},
        action=url_for("results.finalise", slug=award.slug, round_slug=rnd.slug),
        back=url_for("results.round", slug=award.slug, round_slug=rnd.slug),
        button=_("Finalise this round"),
        lead=_(
            "Finalising freezes the results: they are stored with a fingerprint, and the score sheets of the "
            "round become read-only. It cannot be undone."
        ),
    )


def publish_confirmation(award: Award, rnd: Round) -> Confirmation:
    return Confirmation(
        title=_("Publish the results of %(round)s?") % {"round": rnd.name},
        action=url_for("results.publish", slug=award.slug, round_slug=rnd.slug),
        back=url_for("results.round", slug=award.slug, round_slug=rnd.slug),
        button=_("Publish the results"),
        lead=_("Publishing shows the frozen results of the round to the public and to the startups."),
    )


class JurorResultsController(Controller):
    @get("/awards/{slug:str}/rounds/{round_slug:str}/results/published", name="results.published")
    async def published_results(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        """The frozen results of a published round, for its jurors when the round allows it."""
        award = await get_award(db_session, slug)
        rnd = find_round(award, round_slug)
        shows = rnd.published_at is not None and rnd.results_visible_to_jurors
        require(viewer, Action.VIEW_PUBLISHED_RANKING, award_id=award.id, round_shows_jurors=shows)
        published = dict(await services.published_winners(db_session, award))
        return Template(
            "results/published.html",
            context={
                "award": award,
                "round": rnd,
                "doc": published.get(rnd),
                "names": {c.slug: c.name for c in award.categories},
                "advancing": next_round(award, rnd) is not None,
            },
        )


class MovedResultsController(Controller):
    """Old addresses of results pages, kept working (bookmarks, sent links) as permanent redirects."""

    @get("/awards/{slug:str}/rounds/{round_slug:str}/ranking", name="results.published_moved")
    async def published_ranking(self, request: Req, slug: str, round_slug: str) -> Redirect:
        query = dict(request.query_params)
        return Redirect(url_for("results.published", slug=slug, round_slug=round_slug, query=query), status_code=301)


class PublicResultsController(Controller):
    @get("/awards/{slug:str}/results", name="results.public")
    async def public_results(self, slug: str, db_session: AsyncSession) -> Template:
        award = await get_award(db_session, slug)
        published = await services.published_winners(db_session, award)
        return Template(
            "results/public.html",
            context={
                "award": award,
                "published": published,
                "names": {c.slug: c.name for c in award.categories},
                "advancing_rounds": {r.slug for r in award.rounds if next_round(award, r) is not None},
            },
        )
