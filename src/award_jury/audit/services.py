"""Writing audit events. Every change that matters to fairness calls :func:`record_event`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.audit.models import AuditEvent


def record_event(
    session: AsyncSession,
    action: str,
    *,
    actor_id: int | None = None,
    actor_label: str = "",
    award_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        award_id=award_id,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        ip=ip,
    )
    session.add(event)
    return event
