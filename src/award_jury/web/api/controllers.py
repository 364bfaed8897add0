"""The handlers of ``/api/v1`` (SPEC §5). As thin as the pages' controllers: load through the same
guards (``web.guards``), ask the same policy (``policy.require``), call the same services, and
convert the result (``views``). Errors become problem details (``problems``)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.services import get_award, list_awards
from award_jury.awards.setup import find_round
from award_jury.certificates.services import certificates_of_entry, verify_code
from award_jury.db import utcnow
from award_jury.entries import services as entries
from award_jury.entries.models import Entry
from award_jury.entries.services import EntryFilter
from award_jury.judging import dashboard, sheets
from award_jury.policy import Action, Viewer, can, require
from award_jury.ranking.services import results_for
from award_jury.settings import Settings
from award_jury.web.api import examples, schemas, views
from award_jury.web.api.problems import PROBLEM_JSON
from award_jury.web.guards import award_for, entry_for

LimitParam = Annotated[
    int, Parameter(query="limit", ge=1, le=schemas.MAX_LIMIT, description="Items per page (at most 200).")
]
CursorParam = Annotated[
    str, Parameter(query="cursor", max_length=500, description="The `next` of the previous page (opaque).")
]
Ref = Annotated[str, Parameter(max_length=32, description="The entry's reference.", examples=[Example(value="E001")])]
Slug = Annotated[str, Parameter(max_length=80, description="An award's slug.", examples=[Example(value="mini-award")])]
RoundSlug = Annotated[
    str, Parameter(max_length=80, description="A round's slug.", examples=[Example(value="pre-selection")])
]


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers a route can give, for the schema."""
    text = {
        400: "Invalid input (the errors name the fields).",
        401: "No token, or a bad, expired or revoked one.",
        403: "The token's person may not do this.",
        404: "Not found, or not the token's person's to see.",
        409: "The write was based on an old version (`current` holds the stored state), or the sheet is closed.",
        422: "The values are not valid (the errors name the fields).",
        429: "Too many requests with this token (see Retry-After).",
    }
    return {
        s: ResponseSpec(data_container=schemas.Problem, description=text[s], media_type=PROBLEM_JSON)
        for s in (*statuses, 400, 429)
    }


AUTH = (401, 403, 404)
#: A route anyone may call; a token, when sent, must be valid (else 401).
PUBLIC: list[dict[str, list[str]]] = [{}, {"bearer": []}]
#: A route that needs a token.
TOKEN: list[dict[str, list[str]]] = [{"bearer": []}]


class AwardsApi(Controller):
    path = "/awards"
    tags = ["awards"]

    @get(
        "",
        summary="List awards",
        name="api.v1.awards",
        description="Every award (public), by slug.",
        responses=problems(),
        security=PUBLIC,
    )
    async def list_awards(
        self,
        db_session: AsyncSession,
        settings: Settings,
        limit: LimitParam = schemas.DEFAULT_LIMIT,
        cursor: CursorParam = "",
    ) -> schemas.AwardPage:
        now = utcnow()
        summaries = sorted(await list_awards(db_session, now), key=lambda s: s.award.slug)
        chosen, after = views.page(summaries, lambda s: s.award.slug, cursor, limit)
        return schemas.AwardPage(
            items=[views.award_summary(s.award, now, settings.base_url) for s in chosen], next=after
        )

    @get(
        "/{slug:str}",
        summary="One award",
        name="api.v1.award",
        description="Its categories and rounds (public).",
        responses=problems(404),
        security=PUBLIC,
    )
    async def award(self, slug: Slug, db_session: AsyncSession, settings: Settings) -> schemas.AwardOut:
        return views.award_out(await get_award(db_session, slug), utcnow(), settings.base_url)

    @get(
        "/{slug:str}/entries",
        summary="Entries of an award",
        name="api.v1.award_entries",
        description="Organisers of the award. Filters as on the entry list page; by reference.",
        responses=problems(*AUTH),
        security=TOKEN,
    )
    async def entries(
        self,
        slug: Slug,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        category: Annotated[str, Parameter(max_length=80, description="A category's slug.")] = "",
        status: Annotated[str, Parameter(max_length=20, description="draft, submitted, withdrawn, disqualified")] = "",
        round: Annotated[str, Parameter(max_length=80, description="Entries taking part in this round.")] = "",
        limit: LimitParam = schemas.DEFAULT_LIMIT,
        cursor: CursorParam = "",
    ) -> schemas.EntryPage:
        award, _actor = await award_for(db_session, slug, viewer, Action.REVIEW_ENTRIES)
        after = views.decode_cursor(cursor)
        found = await entries.list_entries(
            db_session, award, EntryFilter(category=category, status=status, round=round), after=after, limit=limit + 1
        )
        chosen = found[:limit]
        return schemas.EntryPage(
            items=[views.entry_out(e, award.slug, settings.base_url) for e in chosen],
            next=views.encode_cursor(chosen[-1].ref) if len(found) > limit else None,
        )


class ResultsApi(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}"
    tags = ["results"]

    @get(
        "/results",
        summary="Results of a round",
        name="api.v1.round_results",
        description=(
            "The document of `award-jury results --format json` (SPEC §3). Organisers of the award; "
            "jurors once the round is published, where it shows its results to jurors."
        ),
        responses={**problems(*AUTH)},
        security=TOKEN,
        response_description="The ranking",
    )
    async def results(
        self,
        slug: Slug,
        round_slug: RoundSlug,
        viewer: Viewer,
        db_session: AsyncSession,
        method: Annotated[
            Literal["mean", "median", "trimmed", "zscore"] | None,
            Parameter(description="The ranking method (default: the round's own)."),
        ] = None,
    ) -> schemas.ResultsOut:
        award = await get_award(db_session, slug)
        rnd = find_round(award, round_slug)
        shows = rnd.published_at is not None and rnd.results_visible_to_jurors
        require(viewer, Action.VIEW_PUBLISHED_RANKING, award_id=award.id, round_shows_jurors=shows)
        return views.results_out(await results_for(db_session, award, rnd, method))


class SheetsApi(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/sheets"
    tags = ["sheets"]

    @get(
        "",
        summary="The juror's sheets of a round",
        name="api.v1.sheets",
        description="Jurors of the award.",
        responses=problems(*AUTH),
        security=TOKEN,
    )
    async def sheets(
        self,
        slug: Slug,
        round_slug: RoundSlug,
        viewer: Viewer,
        db_session: AsyncSession,
        limit: LimitParam = schemas.DEFAULT_LIMIT,
        cursor: CursorParam = "",
    ) -> schemas.SheetPage:
        award, actor = await award_for(db_session, slug, viewer, Action.SCORE)
        rnd = find_round(award, round_slug)
        board = await dashboard.juror_dashboard(db_session, award, rnd, actor.id)
        items = sorted(
            (views.sheet_summary(i, g.category.slug) for g in board.groups for i in g.entries), key=lambda i: i.ref
        )
        chosen, after = views.page(items, lambda i: i.ref, cursor, limit)
        return schemas.SheetPage(items=chosen, next=after)

    @get(
        "/{ref:str}",
        summary="One sheet",
        name="api.v1.sheet",
        description="The juror's own sheet of an entry.",
        responses=problems(*AUTH),
        security=TOKEN,
    )
    async def sheet(
        self, slug: Slug, round_slug: RoundSlug, ref: Ref, viewer: Viewer, db_session: AsyncSession
    ) -> schemas.SheetOut:
        award, actor = await award_for(db_session, slug, viewer, Action.SCORE)
        rnd = find_round(award, round_slug)
        access = await sheets.sheet_access(db_session, award, rnd, actor.id, ref)
        await db_session.refresh(access.entry, ["startup", "category"])
        return views.sheet_out(award, rnd, access, await sheets.load_sheet(db_session, rnd, actor.id, access.entry.id))

    @put(
        "/{ref:str}",
        summary="Save or submit a sheet",
        name="api.v1.sheet_save",
        description=(
            "Send the version the change is based on. `save` keeps a draft, `submit` needs every criterion, "
            "`reopen` makes a submitted sheet a draft again. A stale version answers 409 with the stored state."
        ),
        responses=problems(*AUTH, 409, 422),
        security=TOKEN,
    )
    async def save_sheet(
        self,
        slug: Slug,
        round_slug: RoundSlug,
        ref: Ref,
        data: Annotated[schemas.SheetWrite, examples.SHEET_WRITE],
        viewer: Viewer,
        db_session: AsyncSession,
    ) -> schemas.SheetOut:
        award, actor = await award_for(db_session, slug, viewer, Action.SCORE)
        rnd = find_round(award, round_slug)
        access = await sheets.sheet_access(db_session, award, rnd, actor.id, ref)
        saved = await sheets.save_sheet(
            db_session,
            award,
            rnd,
            access,
            actor.id,
            version=data.version,
            given=views.sheet_input(rnd, data),
            action=data.action,
        )
        await db_session.refresh(access.entry, ["startup", "category"])
        return views.sheet_out(award, rnd, access, saved)


class EntriesApi(Controller):
    tags = ["entries"]

    @get(
        "/entries/{entry_id:int}",
        summary="One entry",
        name="api.v1.entry",
        description="Its startup's people and the award's organisers.",
        responses=problems(*AUTH),
        security=TOKEN,
    )
    async def entry(
        self, entry_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> schemas.EntryOut:
        entry = await entry_for(db_session, entry_id, viewer, Action.VIEW_ENTRY)
        return views.entry_out(entry, entry.award.slug, settings.base_url)

    @get(
        "/me/entries",
        summary="My entries",
        name="api.v1.my_entries",
        description="The entries the token's person works on (the startup's side), in every award.",
        responses=problems(401),
        security=TOKEN,
    )
    async def my_entries(
        self,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        limit: LimitParam = schemas.DEFAULT_LIMIT,
        cursor: CursorParam = "",
    ) -> schemas.EntryPage:
        require(viewer, Action.MANAGE_OWN_ACCOUNT)
        assert viewer.person_id is not None
        mine = [e for e in await entries.memberships(db_session, viewer.person_id) if can_view(viewer, e)]
        ids = sorted(e.id for e in mine)
        chosen, after = views.page(ids, lambda i: f"{i:010d}", cursor, limit)
        loaded = [await entries.load_entry(db_session, i) for i in chosen]
        return schemas.EntryPage(
            items=[views.entry_out(e, e.award.slug, settings.base_url) for e in loaded], next=after
        )

    @get(
        "/entries/{entry_id:int}/certificates",
        summary="Certificates of an entry",
        name="api.v1.entry_certificates",
        description=(
            "Its startup's people: the certificates of published rounds that are not revoked. "
            "Organisers: every issued one."
        ),
        responses=problems(*AUTH),
        security=TOKEN,
    )
    async def certificates(
        self, entry_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> schemas.CertificateList:
        entry = await entry_for(db_session, entry_id, viewer, Action.DOWNLOAD_OWN_CERTIFICATE)
        everything = can(viewer, Action.MANAGE_CERTIFICATES, award_id=entry.award_id)
        found = await certificates_of_entry(db_session, entry.id, published_only=not everything)
        return schemas.CertificateList(items=[views.certificate_out(c, settings.base_url) for c in found])


def can_view(viewer: Viewer, entry: Entry) -> bool:
    return can(viewer, Action.VIEW_ENTRY, award_id=entry.award_id, entry_member=True)


class VerifyApi(Controller):
    tags = ["certificates"]

    @get(
        "/verify/{code:str}",
        summary="Verify a certificate",
        name="api.v1.verify",
        description="Public: what a certificate's code certifies (the verification page's facts).",
        responses=problems(404),
        security=PUBLIC,
    )
    async def verify(
        self, code: Annotated[str, Parameter(max_length=100)], db_session: AsyncSession
    ) -> schemas.VerificationOut:
        return views.verification_out(await verify_code(db_session, code))
