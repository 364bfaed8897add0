"""The organiser's webhook pages in an award's settings: endpoints, their secret, a test event,
and the delivery log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.policy import Action, Viewer
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.forms import Form, read_form
from award_jury.web.guards import award_for
from award_jury.webhooks import services
from award_jury.webhooks.models import EVENT_TYPES, WebhookEndpoint

Req = Request[Any, Any, Any]
#: The secret is on the page: never kept by a cache.
NO_STORE = {"cache-control": "no-store"}


def endpoint_form(form: Form) -> services.EndpointForm:
    return services.EndpointForm(
        url=form.get("url", max_length=2100),
        description=form.get("description", max_length=300),
        events=[e for e in form.getall("events") if e in EVENT_TYPES],
        active=form.get("active") == "1",
    )


def current_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return services.EndpointForm(endpoint.url, endpoint.description, endpoint.events, endpoint.active).snapshot()


def page_number(request: Req) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def list_page(
    award: Award,
    endpoints: list[WebhookEndpoint],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "webhooks/index.html",
        context={
            "award": award,
            "endpoints": endpoints,
            "event_types": EVENT_TYPES,
            "errors": errors or {},
            "values": values or {"events": list(EVENT_TYPES), "active": True},
        },
        status_code=status,
    )


async def endpoint_page(
    request: Req,
    session: AsyncSession,
    award: Award,
    endpoint: WebhookEndpoint,
    *,
    secret: str = "",
    notice: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    log = await services.delivery_log(session, endpoint, page_number(request))
    return Template(
        "webhooks/endpoint.html",
        context={
            "award": award,
            "endpoint": endpoint,
            "event_types": EVENT_TYPES,
            "secret": secret,
            "notice": notice,
            "errors": errors or {},
            "values": values
            or services.EndpointForm(endpoint.url, endpoint.description, endpoint.events, endpoint.active).snapshot(),
            "log": log,
        },
        status_code=status,
        headers=NO_STORE if secret else None,
    )


def delete_confirmation(award: Award, endpoint: WebhookEndpoint) -> Confirmation:
    return Confirmation(
        title=_("Delete the webhook endpoint?"),
        action=url_for("webhooks.delete", slug=award.slug, endpoint_id=endpoint.id),
        back=url_for("webhooks.detail", slug=award.slug, endpoint_id=endpoint.id),
        button=_("Delete endpoint"),
    )


class WebhookController(Controller):
    path = "/awards/{slug:str}/webhooks"

    async def _award(self, session: AsyncSession, slug: str, viewer: Viewer) -> tuple[Award, int]:
        award, actor = await award_for(session, slug, viewer, Action.SET_UP_AWARD)
        return award, actor.id

    @get("/", name="webhooks.list")
    async def webhooks(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await self._award(db_session, slug, viewer)
        return list_page(award, await services.endpoints_of(db_session, award.id))

    @post("/", name="webhooks.add")
    async def add_endpoint(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> Template:
        award, actor = await self._award(db_session, slug, viewer)
        form = endpoint_form(await read_form(request))
        try:
            endpoint = await services.create_endpoint(
                db_session,
                award.id,
                form,
                actor,
                allow_private=settings.webhooks_allow_private,
            )
        except FormError as exc:
            endpoints = await services.endpoints_of(db_session, award.id)
            return list_page(award, endpoints, errors=exc.errors, values=form.snapshot(), status=400)
        notice = _("The endpoint is added. Copy its secret now: your receiver needs it to check the signatures.")
        return await endpoint_page(request, db_session, award, endpoint, secret=endpoint.secret, notice=notice)

    @get("/{endpoint_id:int}", name="webhooks.detail")
    async def endpoint(
        self, request: Req, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, _actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        return await endpoint_page(request, db_session, award, endpoint)

    @post("/{endpoint_id:int}", name="webhooks.update")
    async def update_endpoint(
        self, request: Req, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        award, actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        form = endpoint_form(await read_form(request))
        try:
            await services.update_endpoint(
                db_session, endpoint, form, actor, allow_private=settings.webhooks_allow_private
            )
        except FormError as exc:
            return await endpoint_page(
                request, db_session, award, endpoint, errors=exc.errors, values=form.snapshot(), status=400
            )
        return Redirect(
            url_for("webhooks.detail", slug=award.slug, endpoint_id=endpoint.id, query={"saved": 1}), status_code=303
        )

    @post("/{endpoint_id:int}/secret", name="webhooks.reveal_secret")
    async def reveal_secret(
        self, request: Req, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        secret = services.reveal_secret(db_session, endpoint, actor)
        return await endpoint_page(request, db_session, award, endpoint, secret=secret)

    @post("/{endpoint_id:int}/rotate", name="webhooks.rotate_secret")
    async def rotate_secret(
        self, request: Req, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        secret = await services.rotate_secret(db_session, endpoint, actor)
        notice = _(
            "The endpoint has a new secret: give it to your receiver. For the next 24 hours every delivery is "
            "signed with the old secret as well, so nothing is lost while you switch."
        )
        return await endpoint_page(request, db_session, award, endpoint, secret=secret, notice=notice)

    @post("/{endpoint_id:int}/test", name="webhooks.send_test")
    async def send_test(self, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        award, _actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        services.send_test_event(db_session, endpoint, award.slug)
        return Redirect(
            url_for("webhooks.detail", slug=award.slug, endpoint_id=endpoint.id, query={"tested": 1}, anchor="log"),
            status_code=303,
        )

    @get("/{endpoint_id:int}/delete", name="webhooks.delete_form")
    async def confirm_delete(self, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        check = await services.delete_check(db_session, endpoint)
        return confirm_page(delete_confirmation(award, endpoint), check, award=award)

    @post("/{endpoint_id:int}/delete", name="webhooks.delete")
    async def delete_endpoint(
        self, request: Req, slug: str, endpoint_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await self._award(db_session, slug, viewer)
        endpoint = await services.get_endpoint(db_session, award.id, endpoint_id)
        check = await services.delete_check(db_session, endpoint)

        async def act(answer: Confirmed) -> str:
            await services.delete_endpoint(db_session, endpoint, actor, state=answer.state)
            return url_for("webhooks.list", slug=award.slug, query={"deleted": 1})

        return await confirmed_action(request, delete_confirmation(award, endpoint), check, act, award=award)
