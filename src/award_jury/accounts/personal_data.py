"""A person's copy of their own data (GDPR Art. 15): everything the system stores about them,
as one JSON-ready dict.

What another person wrote or is stays out, unless the person can see it anyway: the people on
an entry are listed where the entry's page shows them to this person (the policy decides), other
jurors' sheets never, an organiser's identity or IP address in an event about this person never.
Secrets stay out too: no password hash, no token (sessions, links and invitations are listed
without them).

The number of queries is fixed (one per kind of record, plus the eager loads), however many
entries, sheets or events the person has. Deletion and retention are not handled here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from award_jury.accounts.models import (
    ApiToken,
    AwardRole,
    Invitation,
    LoginToken,
    Person,
    RecoveryCode,
    TwoFactor,
    WebSession,
)
from award_jury.audit.models import AuditEvent
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category, Round
from award_jury.db import in_write_transaction, utcnow, write_transaction
from award_jury.entries.models import Entry, EntryMember, EntryRound
from award_jury.enums import Role
from award_jury.i18n import plain_number
from award_jury.judging.models import Assignment, Conflict, JurorCategory, Score, ScoreSheet
from award_jury.policy import Action, Viewer, can

FORMAT = "award-jury/personal-data@1"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _award(award: Award | None) -> dict[str, str] | None:
    return {"slug": award.slug, "name": award.name} if award is not None else None


async def export_personal_data(session: AsyncSession, person: Person, *, ip: str | None = None) -> dict[str, Any]:
    """Everything stored about ``person``, and an audit event saying they downloaded it."""
    if not in_write_transaction(session):
        # It reads, then writes the audit event: on SQLite a read transaction that turns into a
        # write fails when another writer committed in between, so the reading starts over inside
        # a write transaction (as web.auth.load_viewer does; a GET's session has written nothing).
        await session.rollback()
        await write_transaction(session)
        await session.refresh(person)
    now = utcnow()
    roles = await _roles(session, person.id)
    events = await _events(session, person)
    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "person": {
            "id": person.id,
            "email": person.email,
            "name": person.name,
            "organisation": person.organisation,
            "language": person.locale,
            "account_active": person.is_active,
            "created_at": _time(person.created_at),
            "updated_at": _time(person.updated_at),
            "last_sign_in_at": _time(person.last_login_at),
        },
        "password": {
            "stored": person.password_hash is not None,
            "stored_as": "argon2id hash (the hash itself is not exported)" if person.password_hash else None,
            "last_changed_at": max(
                (e["at"] for e in events if e["action"] == "password.changed" and e["by"] == "you"), default=None
            ),
        },
        "two_factor": await _two_factor(session, person.id),
        "roles": [
            {"role": grant.role.value, "award": _award(award), "since": _time(grant.created_at)}
            for grant, award in roles
        ],
        "sessions": await _sessions(session, person.id),
        "api_tokens": await _api_tokens(session, person.id),
        "email_links": await _links(session, person.id),
        "invitations": await _invitations(session, person.id, now),
        "juror_categories": await _juror_categories(session, person.id),
        "assignments": await _assignments(session, person.id),
        "conflicts": await _conflicts(session, person.id),
        "score_sheets": await _sheets(session, person.id),
        "entries": await _entries(session, person, roles),
        "events": events,
    }
    record_event(
        session, "personal_data.exported", actor_id=person.id, object_type="person", object_id=person.id, ip=ip
    )
    await session.flush()
    return data


async def _two_factor(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """Whether two-factor sign-in is on; never its secret or the recovery codes' hashes."""
    row = await session.get(TwoFactor, person_id)
    if row is None:
        return {"on": False}
    unused = (
        await session.execute(
            sa.select(sa.func.count()).where(RecoveryCode.person_id == person_id, RecoveryCode.used_at.is_(None))
        )
    ).scalar_one()
    return {
        "on": True,
        "since": _time(row.enabled_at),
        "stored_as": "the app's key, encrypted with the server's secret key (not exported)",
        "recovery_codes_unused": int(unused),
    }


async def _roles(session: AsyncSession, person_id: int) -> list[tuple[AwardRole, Award | None]]:
    rows = await session.execute(
        sa.select(AwardRole, Award)
        .outerjoin(Award, Award.id == AwardRole.award_id)
        .where(AwardRole.person_id == person_id)
        .order_by(AwardRole.id)
    )
    return [(grant, award) for grant, award in rows]


async def _sessions(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(sa.select(WebSession).where(WebSession.person_id == person_id).order_by(WebSession.id))
    return [
        {
            "created_at": _time(s.created_at),
            "last_seen_at": _time(s.last_seen_at),
            "expires_at": _time(s.expires_at),
            "ip": s.ip,
            "browser": s.user_agent,
        }
        for s in rows
    ]


async def _api_tokens(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """The person's API tokens as the account page lists them; never a token or its hash."""
    rows = await session.scalars(sa.select(ApiToken).where(ApiToken.person_id == person_id).order_by(ApiToken.id))
    return [
        {
            "prefix": t.prefix,
            "label": t.label,
            "created_at": _time(t.created_at),
            "last_used_at": _time(t.last_used_at),
            "expires_at": _time(t.expires_at),
            "revoked_at": _time(t.revoked_at),
        }
        for t in rows
    ]


async def _links(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(sa.select(LoginToken).where(LoginToken.person_id == person_id).order_by(LoginToken.id))
    return [
        {
            "purpose": t.purpose.value,
            "created_at": _time(t.created_at),
            "expires_at": _time(t.expires_at),
            "used_at": _time(t.used_at),
            "replaced_at": _time(t.superseded_at),
        }
        for t in rows
    ]


async def _invitations(session: AsyncSession, person_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(Invitation, Award)
        .join(Award, Award.id == Invitation.award_id)
        .where(Invitation.person_id == person_id)
        .order_by(Invitation.id)
    )
    return [
        {
            "award": _award(award),
            "role": inv.role.value,
            "categories": list(inv.categories or []),
            "status": inv.status(now),
            "created_at": _time(inv.created_at),
            "sent_at": _time(inv.sent_at),
            "times_sent": inv.send_count,
            "expires_at": _time(inv.expires_at),
            "accepted_at": _time(inv.accepted_at),
            "revoked_at": _time(inv.revoked_at),
        }
        for inv, award in rows
    ]


async def _juror_categories(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(Category, Award)
        .join(JurorCategory, JurorCategory.category_id == Category.id)
        .join(Award, Award.id == Category.award_id)
        .where(JurorCategory.person_id == person_id)
        .order_by(JurorCategory.id)
    )
    return [{"award": _award(award), "category": {"slug": c.slug, "name": c.name}} for c, award in rows]


def _entry_ref(entry: Entry) -> dict[str, str]:
    return {"ref": entry.ref, "title": entry.title}


async def _assignments(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(Assignment, Round, Entry, Award)
        .join(Round, Round.id == Assignment.round_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .join(Award, Award.id == Round.award_id)
        .where(Assignment.juror_id == person_id)
        .order_by(Assignment.id)
    )
    return [
        {
            "award": _award(award),
            "round": {"slug": rnd.slug, "name": rnd.name},
            "entry": _entry_ref(entry),
            "assigned_at": _time(a.created_at),
        }
        for a, rnd, entry, award in rows
    ]


async def _conflicts(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(Conflict, Entry, Award)
        .join(Entry, Entry.id == Conflict.entry_id)
        .join(Award, Award.id == Entry.award_id)
        .where(Conflict.juror_id == person_id)
        .order_by(Conflict.id)
    )
    return [
        {
            "award": _award(award),
            "entry": _entry_ref(entry),
            "kind": c.kind.value,
            "reason": c.reason,
            # (who else recorded it is their data: only whether it was this person)
            "declared_by": "you" if c.declared_by_id == person_id else ("an organiser" if c.declared_by_id else None),
            "created_at": _time(c.created_at),
        }
        for c, entry, award in rows
    ]


async def _sheets(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    sheets = await session.scalars(
        sa.select(ScoreSheet)
        .where(ScoreSheet.juror_id == person_id)
        .options(
            joinedload(ScoreSheet.entry),
            joinedload(ScoreSheet.round).joinedload(Round.award),
            selectinload(ScoreSheet.scores).joinedload(Score.criterion),
        )
        .order_by(ScoreSheet.id)
    )
    return [
        {
            "award": _award(sheet.round.award),
            "round": {"slug": sheet.round.slug, "name": sheet.round.name},
            "entry": _entry_ref(sheet.entry),
            "status": sheet.status.value,
            "scores": [
                {"criterion": s.criterion.key, "name": s.criterion.name, "value": plain_number(s.value)}
                for s in sorted(sheet.scores, key=lambda s: (s.criterion.position, s.criterion.id))
            ],
            "comment": sheet.comment,
            "private_note": sheet.private_note,
            "created_at": _time(sheet.created_at),
            "updated_at": _time(sheet.updated_at),
            "submitted_at": _time(sheet.submitted_at),
        }
        for sheet in sheets.unique()
    ]


ENTRY_FIELDS = (
    "title",
    "pitch",
    "problem",
    "solution",
    "benefit",
    "stage",
    "video_url",
    "contact_name",
    "contact_email",
    "status_reason",
)
STARTUP_FIELDS = ("name", "legal_form", "city", "founded", "employees", "website", "investors")


async def _entries(
    session: AsyncSession, person: Person, roles: list[tuple[AwardRole, Award | None]]
) -> list[dict[str, Any]]:
    mine = sa.select(EntryMember.entry_id).where(EntryMember.person_id == person.id)
    entries = (
        await session.scalars(
            sa.select(Entry)
            .where(Entry.id.in_(mine))
            .options(
                joinedload(Entry.award),
                joinedload(Entry.category),
                joinedload(Entry.startup),
                selectinload(Entry.attachments),
                selectinload(Entry.rounds).joinedload(EntryRound.round),
            )
            .order_by(Entry.id)
        )
    ).unique()
    people: dict[int, list[tuple[EntryMember, Person]]] = {}
    for member, member_person in await session.execute(
        sa.select(EntryMember, Person)
        .join(Person, Person.id == EntryMember.person_id)
        .where(EntryMember.entry_id.in_(mine))
        .order_by(EntryMember.id)
    ):
        people.setdefault(member.entry_id, []).append((member, member_person))
    award_roles: dict[int, set[Role]] = {}
    for grant, _award_row in roles:
        if grant.award_id is not None:
            award_roles.setdefault(grant.award_id, set()).add(grant.role)
    viewer = Viewer(person_id=person.id, award_roles={k: frozenset(v) for k, v in award_roles.items()})
    out = []
    for entry in entries:
        on_entry = people.get(entry.id, [])
        own_role = next((m.role.value for m, p in on_entry if p.id == person.id), None)
        item: dict[str, Any] = {"award": _award(entry.award), "ref": entry.ref, "your_role": own_role}
        # The entry's page (and so its details and people) is shown to its startup's people
        # unless they are on the award's jury: the policy says so.
        if not can(viewer, Action.VIEW_ENTRY, award_id=entry.award_id, entry_member=True):
            item["details"] = "not shown: you are on this award's jury"
            out.append(item)
            continue
        item |= {
            "category": {"slug": entry.category.slug, "name": entry.category.name},
            "status": entry.status.value,
            **{name: getattr(entry, name) for name in ENTRY_FIELDS},
            "startup": {name: getattr(entry.startup, name) for name in STARTUP_FIELDS},
            "rounds": [{"slug": er.round.slug, "name": er.round.name} for er in entry.rounds],
            "files": [
                {"name": a.name, "size": a.size, "media_type": a.media_type, "uploaded_at": _time(a.created_at)}
                for a in entry.attachments
            ],
            "people_who_can_edit": [{"name": p.name, "email": p.email, "role": m.role.value} for m, p in on_entry],
            "unchecked_form_values": entry.draft_values,
            "created_at": _time(entry.created_at),
            "updated_at": _time(entry.updated_at),
            "consent_at": _time(entry.consent_at),
            "submitted_at": _time(entry.submitted_at),
            "accepted_at": _time(entry.accepted_at),
            "withdrawn_at": _time(entry.withdrawn_at),
        }
        out.append(item)
    return out


ATTEMPTS = frozenset({"signin.failed", "signin.refused"})


async def _events(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
    """Audit events this person did, and those about their account (sign-in attempts on their
    address included). Of an event someone else did, neither who nor from which address."""
    about_me = sa.or_(
        sa.and_(AuditEvent.object_type == "person", AuditEvent.object_id == str(person.id)),
        sa.and_(AuditEvent.object_type == "email", AuditEvent.object_id == person.email[:64]),
    )
    rows = await session.execute(
        sa.select(AuditEvent, Award)
        .outerjoin(Award, Award.id == AuditEvent.award_id)
        .where(sa.or_(AuditEvent.actor_id == person.id, about_me))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    out = []
    for event, award in rows:
        # A failed or refused sign-in with this address may have been anyone: no "you", no IP.
        attempt = event.action in ATTEMPTS
        mine = event.actor_id == person.id and not attempt
        by = "you" if mine else ("whoever tried" if attempt else (event.actor_label or "someone else"))
        item: dict[str, Any] = {
            "at": _time(event.at),
            "action": event.action,
            "by": by,
            "award": _award(award),
            "object": {"type": event.object_type, "id": event.object_id},
            # What an organiser changed about this person is theirs to know; who and from where is not.
            "before": event.before,
            "after": event.after,
        }
        if mine:
            item["ip"] = event.ip
        out.append(item)
    return out
