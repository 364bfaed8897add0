"""A person deletes their own account (GDPR Art. 17), after a confirmation page that says what
happens, in numbers (:class:`~award_jury.consequences.Consequences`).

What happens:

- The person row stays (score sheets, conflicts and the audit trail point at it) but is emptied:
  no name (a juror keeps the label "Juror #<id>" so rankings stay explainable), the e-mail address
  becomes ``deleted-<id>@invalid.example`` (a reserved domain: nobody can receive a sign-in link
  there, and the real address is free for a new account), no password, no organisation, closed.
  Every session, sign-in link, reset link and pending invitation of the person is removed.
- Drafts only this person works on are deleted, their files once the deletion is committed.
  A draft shared with others stays with them, without this person.
- Submitted (withdrawn, disqualified) entries stay in the award's records. When this person was
  their contact, another member of the team becomes the contact, or the contact's name and
  e-mail address are emptied.
- Submitted score sheets stay and count, so no ranking changes; draft sheets are deleted, and so
  are assignments of open rounds the person has not scored (the organisers assign them again).
- Roles and juror categories go. The last organiser of an award cannot delete their account.
- The address leaves the sign-in records, rate-limit counters and audit details, and the IP
  addresses of the person's own audit events are blanked. One audit event ``account.deleted``
  records the numbers, without personal data.

Re-authentication: the current password, or for an account without one a link sent to the
address (:func:`deletion_token`: signed, 30 minutes, bound to the address, so it is useless once
the account is deleted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts import ratelimit
from award_jury.accounts.models import AwardRole, Invitation, LoginToken, Person, WebSession
from award_jury.accounts.validators import normalise_email
from award_jury.audit.models import AuditEvent
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Round
from award_jury.consequences import Consequences
from award_jury.entries.models import Entry, EntryMember
from award_jury.entries.services import delete_draft
from award_jury.entries.storage import Storage
from award_jury.enums import EntryStatus, MemberRole, Role, SheetStatus
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.judging.models import Assignment, JurorCategory, ScoreSheet

LINK_LIFETIME = timedelta(minutes=30)
TOMBSTONE_DOMAIN = "invalid.example"
_TOKEN_CONTEXT = b"award-jury delete account\x00"
_SIGNATURE_CHARS = 43  # unpadded base64 of a SHA-256 HMAC


def tombstone_email(person_id: int) -> str:
    return f"deleted-{person_id}@{TOMBSTONE_DOMAIN}"


def juror_label(person_id: int) -> str:
    """What a deleted juror is called where their sheets stay ("Juror" reads the same in German)."""
    return f"Juror #{person_id}"


# ---------------------------------------------------------------- the e-mail link


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _signature(secret: str, person: Person, expires: int) -> str:
    message = _TOKEN_CONTEXT + f"{person.id}\x00{expires}\x00{normalise_email(person.email)}".encode()
    return _b64(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest())


def deletion_token(secret: str, person: Person, now: datetime) -> str:
    """A link token that lets ``person`` confirm the deletion for 30 minutes (no database row:
    it is bound to the address, which the deletion replaces): the signature, then id-expiry."""
    expires = int((now + LINK_LIFETIME).timestamp())
    return f"{_signature(secret, person, expires)}{person.id}-{expires}"


def deletion_token_problem(secret: str, token: str, person: Person, now: datetime) -> str | None:
    """None when ``token`` is a valid deletion link of ``person``; else ``unknown`` or ``expired``."""
    signature, rest = token[:_SIGNATURE_CHARS], token[_SIGNATURE_CHARS:]
    person_id, _dash, expires = rest.partition("-")
    if not (person_id.isascii() and person_id.isdigit() and expires.isascii() and expires.isdigit()):
        return "unknown"
    if len(person_id) > 10 or len(expires) > 12 or int(person_id) != person.id or not secret:
        return "unknown"
    if not hmac.compare_digest(signature, _signature(secret, person, int(expires))):
        return "unknown"
    if now >= datetime.fromtimestamp(int(expires), UTC):
        return "expired"
    return None


# ---------------------------------------------------------------- what it does


@dataclass
class _Plan:
    drafts_deleted: list[Entry]
    drafts_left: list[Entry]
    entries_kept: list[Entry]
    contact_of: list[Entry]
    last_organiser_of: list[Award]
    sheets_kept: int
    sheet_drafts: int
    unscored: int
    roles: int
    juror: bool


async def _plan(session: AsyncSession, person: Person) -> _Plan:
    entries = list(
        (
            await session.execute(
                sa.select(Entry)
                .join(EntryMember, EntryMember.entry_id == Entry.id)
                .where(EntryMember.person_id == person.id)
                .options(selectinload(Entry.members), selectinload(Entry.attachments))
                .order_by(Entry.id)
            )
        ).scalars()
    )
    drafts = [e for e in entries if e.status is EntryStatus.DRAFT]
    alone = [e for e in drafts if all(m.person_id == person.id for m in e.members)]
    kept = [e for e in entries if e.status is not EntryStatus.DRAFT]
    contact_of = [
        e
        for e in kept
        if any(m.person_id == person.id and m.role is MemberRole.CONTACT for m in e.members)
        or (e.contact_email and normalise_email(e.contact_email) == normalise_email(person.email))
    ]
    organised = sa.select(AwardRole.award_id).where(
        AwardRole.person_id == person.id, AwardRole.role == Role.ORGANISER, AwardRole.award_id.is_not(None)
    )
    other_organisers = (
        sa.select(sa.func.count())
        .select_from(AwardRole)
        .where(AwardRole.award_id == Award.id, AwardRole.role == Role.ORGANISER, AwardRole.person_id != person.id)
        .scalar_subquery()
    )
    last_of = list(
        (
            await session.execute(
                sa.select(Award).where(Award.id.in_(organised), other_organisers == 0).order_by(Award.name)
            )
        ).scalars()
    )
    sheets = dict(
        (
            await session.execute(
                sa.select(ScoreSheet.status, sa.func.count())
                .where(ScoreSheet.juror_id == person.id)
                .group_by(ScoreSheet.status)
            )
        ).all()
    )
    unscored = await session.scalar(sa.select(sa.func.count()).select_from(_unscored(person.id).subquery()))
    grants = list((await session.execute(sa.select(AwardRole.role).where(AwardRole.person_id == person.id))).scalars())
    return _Plan(
        drafts_deleted=alone,
        drafts_left=[e for e in drafts if e not in alone],
        entries_kept=kept,
        contact_of=contact_of,
        last_organiser_of=last_of,
        sheets_kept=sheets.get(SheetStatus.SUBMITTED, 0),
        sheet_drafts=sheets.get(SheetStatus.DRAFT, 0),
        unscored=int(unscored or 0),
        roles=len(grants),
        juror=Role.JUROR in grants or bool(sheets),
    )


def _unscored(person_id: int) -> Any:
    """The person's assignments in rounds not finalised yet that have no submitted sheet."""
    open_rounds = sa.select(Round.id).where(Round.finalised_at.is_(None))
    return sa.select(Assignment.id).where(
        Assignment.juror_id == person_id,
        Assignment.round_id.in_(open_rounds),
        ~sa.exists().where(
            ScoreSheet.juror_id == person_id,
            ScoreSheet.entry_id == Assignment.entry_id,
            ScoreSheet.round_id == Assignment.round_id,
            ScoreSheet.status == SheetStatus.SUBMITTED,
        ),
    )


async def deletion_check(session: AsyncSession, person: Person) -> Consequences:
    """What deleting ``person``'s account would do, in numbers; refused while they are the last
    organiser of an award."""
    plan = await _plan(session, person)
    files = sum(len(e.attachments) for e in plan.drafts_deleted)
    check = Consequences(
        numbers={
            "person": person.id,
            "drafts_deleted": len(plan.drafts_deleted),
            "drafts_left": len(plan.drafts_left),
            "files": files,
            "entries_kept": len(plan.entries_kept),
            "contact_of": len(plan.contact_of),
            "sheets_kept": plan.sheets_kept,
            "sheet_drafts": plan.sheet_drafts,
            "unscored": plan.unscored,
            "roles": plan.roles,
        }
    )
    check.facts.append(
        _(
            "Your name, e-mail address, organisation and password are erased. Nobody can sign in to this "
            "account again; your browser sessions and e-mail links stop working at once."
        )
    )
    if plan.roles:
        check.facts.append(
            ngettext("You lose %(num)d role in an award.", "You lose %(num)d roles in awards.", plan.roles)
            % {"num": plan.roles}
        )
    if plan.drafts_deleted:
        check.facts.append(
            ngettext(
                "%(num)d draft entry that only you work on is deleted, with %(files)s.",
                "%(num)d draft entries that only you work on are deleted, with %(files)s.",
                len(plan.drafts_deleted),
            )
            % {
                "num": len(plan.drafts_deleted),
                "files": ngettext("%(num)d uploaded file", "%(num)d uploaded files", files) % {"num": files},
            }
        )
    if plan.drafts_left:
        check.facts.append(
            ngettext(
                "%(num)d draft entry you share with others stays with them; you leave its team.",
                "%(num)d draft entries you share with others stay with them; you leave their teams.",
                len(plan.drafts_left),
            )
            % {"num": len(plan.drafts_left)}
        )
    if plan.entries_kept:
        check.facts.append(
            ngettext(
                "%(num)d submitted entry stays in the award's records.",
                "%(num)d submitted entries stay in the award's records.",
                len(plan.entries_kept),
            )
            % {"num": len(plan.entries_kept)}
        )
    if plan.contact_of:
        check.facts.append(
            ngettext(
                "On %(num)d of them you are the contact: your name and e-mail address are removed from it "
                "(another member of the team becomes the contact, if there is one).",
                "On %(num)d of them you are the contact: your name and e-mail address are removed from them "
                "(another member of the team becomes the contact, if there is one).",
                len(plan.contact_of),
            )
            % {"num": len(plan.contact_of)}
        )
    if plan.juror:
        check.facts.append(
            ngettext(
                "%(num)d submitted score sheet stays and counts, under the name “%(label)s”: rankings do not change.",
                "%(num)d submitted score sheets stay and count, under the name “%(label)s”: rankings do not change.",
                plan.sheets_kept,
            )
            % {"num": plan.sheets_kept, "label": juror_label(person.id)}
        )
        if plan.sheet_drafts:
            check.facts.append(
                ngettext(
                    "%(num)d draft score sheet is deleted.",
                    "%(num)d draft score sheets are deleted.",
                    plan.sheet_drafts,
                )
                % {"num": plan.sheet_drafts}
            )
        if plan.unscored:
            check.facts.append(
                ngettext(
                    "%(num)d entry assigned to you and not scored yet goes back to the organisers to assign.",
                    "%(num)d entries assigned to you and not scored yet go back to the organisers to assign.",
                    plan.unscored,
                )
                % {"num": plan.unscored}
            )
    check.facts.append(
        _("We send a last e-mail to %(email)s to confirm the deletion. This cannot be undone.")
        % {"email": person.email}
    )
    if plan.last_organiser_of:
        check.refusals.append(
            ngettext(
                "You are the last organiser of %(awards)s. Invite another organiser on its page “People and "
                "invitations”; once they have accepted, you can delete your account.",
                "You are the last organiser of %(awards)s. Invite another organiser on each award's page "
                "“People and invitations”; once they have accepted, you can delete your account.",
                len(plan.last_organiser_of),
            )
            % {"awards": ", ".join(a.name for a in plan.last_organiser_of)}
        )
    return check


async def delete_account(
    session: AsyncSession, person: Person, *, storage: Storage, now: datetime, state: str | None = None
) -> dict[str, int]:
    """Delete ``person``'s account as described above, after :func:`deletion_check` allows it
    (``state``: the confirmation page's). Returns the numbers recorded in the audit event.
    The caller sends the goodbye e-mail to the address it read before."""
    check = await deletion_check(session, person)
    check.require(state=state, override_reason="")
    plan = await _plan(session, person)
    pid, address, name = person.id, normalise_email(person.email), person.name

    for entry in plan.drafts_deleted:  # (its files go once the deletion is committed)
        await delete_draft(session, entry, actor=person, storage=storage)
    for entry in plan.drafts_left:
        await _leave_team(session, entry, person, keep_membership=False)
    for entry in plan.contact_of:
        await _leave_team(session, entry, person, keep_membership=True)

    await session.execute(
        sa.delete(ScoreSheet).where(ScoreSheet.juror_id == pid, ScoreSheet.status == SheetStatus.DRAFT)
    )
    await session.execute(sa.delete(Assignment).where(Assignment.id.in_(_unscored(pid))))
    await session.execute(sa.delete(JurorCategory).where(JurorCategory.person_id == pid))
    await session.execute(sa.delete(AwardRole).where(AwardRole.person_id == pid))
    await session.execute(sa.delete(Invitation).where(Invitation.person_id == pid))
    await session.execute(sa.delete(WebSession).where(WebSession.person_id == pid))
    await session.execute(sa.delete(LoginToken).where(LoginToken.person_id == pid))
    await _scrub_audit(session, pid, address, name)
    await ratelimit.forget_address(session, address)

    person.name = juror_label(pid) if plan.juror else ""
    person.email = tombstone_email(pid)
    person.password_hash = None
    person.organisation = ""
    person.is_active = False
    person.last_login_at = None
    await session.flush()
    session.expire(person, ["roles"])
    numbers = {k: v for k, v in check.numbers.items() if k != "person"}
    record_event(session, "account.deleted", actor_label="self", object_type="person", object_id=pid, after=numbers)
    await session.flush()
    return numbers


async def _leave_team(session: AsyncSession, entry: Entry, person: Person, *, keep_membership: bool) -> None:
    """``person`` leaves the entry's team (a submitted entry keeps the row: team conflicts, and
    so rankings, depend on it); if they were its contact, another member becomes the contact, or
    the contact's name and address are emptied."""
    was_contact = bool(entry.contact_email) and normalise_email(entry.contact_email) == normalise_email(person.email)
    for member in list(entry.members):
        if member.person_id == person.id:
            was_contact = was_contact or member.role is MemberRole.CONTACT
            if keep_membership:
                member.role = MemberRole.EDITOR
            else:
                entry.members.remove(member)
    if was_contact:
        others = sorted((m for m in entry.members if m.person_id != person.id), key=lambda m: m.id or 0)
        successor = await session.get(Person, others[0].person_id) if others else None
        if successor is not None and successor.is_active:
            others[0].role = MemberRole.CONTACT
            entry.contact_name, entry.contact_email = successor.name, successor.email
        else:
            entry.contact_name, entry.contact_email = "", ""
        if entry.draft_values:
            entry.draft_values = {
                k: v for k, v in entry.draft_values.items() if k not in ("contact_name", "contact_email")
            }
    await session.flush()


async def _scrub_audit(session: AsyncSession, person_id: int, address: str, name: str) -> None:
    """The address and name leave the audit details; the person's own events lose their IP."""
    await session.execute(sa.update(AuditEvent).where(AuditEvent.actor_id == person_id).values(ip=None))
    await session.execute(
        sa.update(AuditEvent)
        .where(AuditEvent.object_type == "email", AuditEvent.object_id == address[:64])
        .values(object_id="deleted", ip=None)
    )
    mentions = sa.or_(
        sa.cast(AuditEvent.before, sa.Text).contains(address, autoescape=True),
        sa.cast(AuditEvent.after, sa.Text).contains(address, autoescape=True),
        sa.and_(AuditEvent.object_type == "person", AuditEvent.object_id == str(person_id)),
        AuditEvent.actor_id == person_id,
    )
    secrets = {address, name.strip().casefold()} - {""}
    for event in (await session.execute(sa.select(AuditEvent).where(mentions))).scalars():
        for column in ("before", "after"):
            value = getattr(event, column)
            if isinstance(value, dict):
                cleaned = _scrubbed(value, secrets)
                if cleaned != value:
                    setattr(event, column, cleaned)


def _scrubbed(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    if isinstance(value, str) and value.strip().casefold() in secrets:
        return "deleted"
    return value
