"""Webhook endpoints, their deliveries (the outbox) and every attempt to send one."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from award_jury.db import Base, utcnow

#: The events an endpoint can choose (SPEC §5), in the order the page lists them.
EVENT_TYPES = ("entry.submitted", "sheet.submitted", "round.finalised", "results.published", "certificate.issued")
#: What "send a test event" sends; every endpoint gets it, whatever it chose.
TEST_EVENT = "webhook.test"

#: Delivery states: waiting for its (next) attempt, received (2xx), or given up.
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("award.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: ``whsec_`` + base64 of 32 random bytes (Standard Webhooks); kept as it is because every
    #: delivery is signed with it.
    secret: Mapped[str] = mapped_column(sa.String(100))
    #: After a rotation the old secret signs too, until ``previous_secret_until`` (a second
    #: signature in ``webhook-signature``), so receivers can switch without losing messages.
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    previous_secret_until: Mapped[datetime | None] = mapped_column(default=None)
    #: The chosen event types (a subset of EVENT_TYPES).
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint. Written in the transaction of the change it reports, so it
    exists exactly when the change does; the dispatcher sends it and records each attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.UniqueConstraint("message_id"), sa.Index(None, "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(64))
    #: ``webhook-id``: the same for every attempt, so receivers can drop repeats.
    message_id: Mapped[str] = mapped_column(sa.String(64))
    #: The exact JSON body that is signed and sent.
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the next attempt is due (None once delivered or failed). A dispatcher that claims the
    #: delivery moves it a lease ahead, so no other dispatcher takes it meanwhile.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(default=None)
    last_duration_ms: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_rows: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.number", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    #: The HTTP status of the answer; None when there was none (refused address, timeout, …).
    status_code: Mapped[int | None] = mapped_column(default=None)
    succeeded: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(sa.String(300), default="")
