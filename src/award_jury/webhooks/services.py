"""Webhook endpoints (the organisers' set-up), the outbox of deliveries, and the delivery log.

:func:`emit` is called by the services that submit an entry, submit a sheet, finalise, publish
and issue certificates, inside their transaction: a delivery row exists exactly when the change
is committed (no event lost when the process dies after the commit, none for a rolled-back
change). The dispatcher (``webhooks/dispatch.py``) sends the rows later."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.audit.services import record_event
from award_jury.consequences import Consequences
from award_jury.db import utcnow
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.webhooks import addresses, signing
from award_jury.webhooks.models import (
    EVENT_TYPES,
    PENDING,
    TEST_EVENT,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

#: Deliveries per page of the log.
PAGE_SIZE = 25


def body_of(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The JSON body: ``{"type", "timestamp", "data"}`` (compact, the exact bytes signed)."""
    doc = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)


def _queue(session: AsyncSession, endpoint_id: int, event_type: str, body: str, now: datetime) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint_id,
        event_type=event_type,
        message_id=signing.new_message_id(),
        body=body,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


async def emit(
    session: AsyncSession, award_id: int, event_type: str, data: dict[str, Any], *, now: datetime | None = None
) -> int:
    """Queue ``event_type`` for every active endpoint of the award that chose it, in the caller's
    transaction. Returns how many deliveries were queued."""
    return await emit_many(session, award_id, event_type, [data], now=now)


async def emit_many(
    session: AsyncSession,
    award_id: int,
    event_type: str,
    items: Sequence[dict[str, Any]],
    *,
    now: datetime | None = None,
) -> int:
    """:func:`emit` for several events of one type (one query for the endpoints, however many)."""
    assert event_type in EVENT_TYPES, event_type
    if not items:
        return 0
    now = now or utcnow()
    endpoints = (
        await session.execute(
            sa.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.award_id == award_id, WebhookEndpoint.active.is_(True)
            )
        )
    ).all()
    chosen = [endpoint_id for endpoint_id, events in endpoints if event_type in (events or [])]
    for data in items:
        body = body_of(event_type, data, now)
        for endpoint_id in chosen:
            _queue(session, endpoint_id, event_type, body, now)
    return len(chosen) * len(items)


# ------------------------------------------------------------------ endpoints


@dataclass
class EndpointForm:
    url: str = ""
    description: str = ""
    events: list[str] = field(default_factory=list)
    active: bool = True

    def snapshot(self) -> dict[str, Any]:
        return {"url": self.url, "description": self.description, "events": self.events, "active": self.active}


def url_message(exc: addresses.UrlRefused) -> str:
    if exc.code == "scheme":
        return _("Use an address that starts with https://.")
    if exc.code == "unresolved":
        return _("The server %(host)s could not be found. Check the address.") % {"host": exc.detail}
    if exc.code == "private":
        return _(
            "This address leads into a private or local network (%(address)s). Use an address that is "
            "reachable from the internet."
        ) % {"address": exc.detail}
    return _("Enter a full web address like https://example.org/hooks.")


async def _validate(form: EndpointForm, *, resolver: addresses.Resolver, allow_private: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form.url:
        errors["url"] = _("Enter the address that receives the events.")
    elif len(form.url) > 2000:
        errors["url"] = _("Use at most %(n)d characters.") % {"n": 2000}
    else:
        try:
            await addresses.check(form.url, resolver=resolver, allow_private=allow_private)
        except addresses.UrlRefused as exc:
            errors["url"] = url_message(exc)
    if len(form.description) > 200:
        errors["description"] = _("Use at most %(n)d characters.") % {"n": 200}
    if not form.events or any(e not in EVENT_TYPES for e in form.events):
        errors["events"] = _("Choose at least one event.")
    return errors


async def endpoints_of(session: AsyncSession, award_id: int) -> list[WebhookEndpoint]:
    return list(
        (
            await session.execute(
                sa.select(WebhookEndpoint).where(WebhookEndpoint.award_id == award_id).order_by(WebhookEndpoint.id)
            )
        ).scalars()
    )


async def get_endpoint(session: AsyncSession, award_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.award_id != award_id:
        raise NotFoundError("webhook endpoint")
    return endpoint


async def create_endpoint(
    session: AsyncSession,
    award_id: int,
    form: EndpointForm,
    actor_id: int | None,
    *,
    resolver: addresses.Resolver = addresses.system_resolver,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """A new endpoint with a new secret; raises FormError (by field) and then saves nothing."""
    errors = await _validate(form, resolver=resolver, allow_private=allow_private)
    if errors:
        raise FormError(errors)
    endpoint = WebhookEndpoint(
        award_id=award_id,
        url=form.url,
        description=form.description,
        secret=signing.new_secret(),
        events=[e for e in EVENT_TYPES if e in form.events],
        active=form.active,
    )
    session.add(endpoint)
    await session.flush()
    record_event(
        session,
        "webhook.created",
        actor_id=actor_id,
        award_id=award_id,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        after={"url": endpoint.url, "events": endpoint.events, "active": endpoint.active},
    )
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    form: EndpointForm,
    actor_id: int | None,
    *,
    resolver: addresses.Resolver = addresses.system_resolver,
    allow_private: bool = False,
) -> None:
    errors = await _validate(form, resolver=resolver, allow_private=allow_private)
    if errors:
        raise FormError(errors)
    before = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    endpoint.url = form.url
    endpoint.description = form.description
    endpoint.events = [e for e in EVENT_TYPES if e in form.events]
    endpoint.active = form.active
    await session.flush()
    record_event(
        session,
        "webhook.changed",
        actor_id=actor_id,
        award_id=endpoint.award_id,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        before=before,
        after={"url": endpoint.url, "events": endpoint.events, "active": endpoint.active},
    )


#: How long the secret before a rotation still signs (beside the new one).
ROTATION_GRACE = timedelta(hours=24)


async def rotate_secret(
    session: AsyncSession, endpoint: WebhookEndpoint, actor_id: int | None, *, now: datetime | None = None
) -> str:
    """A new secret; deliveries from now on (retries included) are signed with it, and for
    :data:`ROTATION_GRACE` with the old one as well."""
    now = now or utcnow()
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + ROTATION_GRACE
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    record_event(
        session,
        "webhook.secret_rotated",
        actor_id=actor_id,
        award_id=endpoint.award_id,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
    )
    return endpoint.secret


def reveal_secret(session: AsyncSession, endpoint: WebhookEndpoint, actor_id: int | None) -> str:
    """The secret, for an organiser who asked to see it (audited)."""
    record_event(
        session,
        "webhook.secret_revealed",
        actor_id=actor_id,
        award_id=endpoint.award_id,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
    )
    return endpoint.secret


async def delete_check(session: AsyncSession, endpoint: WebhookEndpoint) -> Consequences:
    pending = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        )
    ).scalar_one()
    total = (
        await session.execute(
            sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        )
    ).scalar_one()
    check = Consequences(numbers={"endpoint": endpoint.id, "pending": pending, "total": total})
    check.facts.append(_("The endpoint %(url)s receives no more events.") % {"url": endpoint.url})
    check.facts.append(
        ngettext(
            "%(num)d delivery that is still waiting is not sent.",
            "%(num)d deliveries that are still waiting are not sent.",
            pending,
        )
        % {"num": pending}
    )
    check.facts.append(
        ngettext("The log with %(num)d delivery is deleted.", "The log with %(num)d deliveries is deleted.", total)
        % {"num": total}
    )
    return check


async def delete_endpoint(
    session: AsyncSession, endpoint: WebhookEndpoint, actor_id: int | None, *, state: str | None = None
) -> None:
    (await delete_check(session, endpoint)).require(state=state, override_reason="")
    record_event(
        session,
        "webhook.deleted",
        actor_id=actor_id,
        award_id=endpoint.award_id,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        before={"url": endpoint.url, "events": endpoint.events},
    )
    await session.execute(sa.delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id))


def send_test_event(
    session: AsyncSession, endpoint: WebhookEndpoint, award_slug: str, *, now: datetime | None = None
) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery for this endpoint (sent by the dispatcher, logged like
    every other delivery), whether the endpoint is switched on or not."""
    now = now or utcnow()
    body = body_of(TEST_EVENT, {"award": award_slug, "endpoint_id": endpoint.id}, now)
    return _queue(session, endpoint.id, TEST_EVENT, body, now)


# ------------------------------------------------------------------ the log


@dataclass
class LogPage:
    deliveries: Sequence[WebhookDelivery]
    page: int
    pages: int
    total: int


async def delivery_log(session: AsyncSession, endpoint: WebhookEndpoint, page: int = 1) -> LogPage:
    """The endpoint's deliveries, newest first, :data:`PAGE_SIZE` a page, with their attempts."""
    total = (
        await session.execute(
            sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        )
    ).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    deliveries = list(
        (
            await session.execute(
                sa.select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint.id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
                .options(selectinload(WebhookDelivery.attempt_rows))
            )
        ).scalars()
    )
    return LogPage(deliveries, page, pages, total)


async def attempts_of(session: AsyncSession, delivery_id: int) -> list[WebhookAttempt]:
    return list(
        (
            await session.execute(
                sa.select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.number)
            )
        ).scalars()
    )
