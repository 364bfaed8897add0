"""The call for entries and the startup's side of an entry: apply, save drafts, upload the deck,
submit, withdraw, delete, invite co-editors; the organiser's entry list, eligibility decisions,
CSV export and anonymisation.

Every function takes ``now`` from the caller (the server's clock), so deadlines are decided in
one place and tests can move the clock."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from award_jury.accounts import ratelimit
from award_jury.accounts.models import AwardRole, LoginToken, Person, WebSession
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.audit.models import AuditEvent
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category, Round
from award_jury.consequences import Consequences
from award_jury.entries.models import Attachment, Entry, EntryMember, EntryRound, Startup
from award_jury.entries.storage import Storage
from award_jury.entries.validators import FIELD_NAMES, check_values, safe_file_name
from award_jury.enums import EntryStatus, MemberRole, Role
from award_jury.errors import ConflictError, DomainError, FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext
from award_jury.ranking.exports import neutralise
from award_jury.ranking.models import ResultSnapshot
from award_jury.webhooks import services as webhooks

log = logging.getLogger("award_jury.entries")

PDF = "application/pdf"


class DeadlinePassedError(DomainError):
    """The call's submission window is closed (or not open yet): nothing can be changed."""


class StaleEntryError(ConflictError):
    """The form was based on an older version of the entry (another tab or person saved since)."""

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        super().__init__("the entry was changed in the meantime")


# -- the call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """An award's call for entries: the first round with a submission window."""

    round: Round | None
    state: str  # "open", "upcoming", "closed" or "none"

    @property
    def opens(self) -> datetime | None:
        return self.round.submissions_open if self.round else None

    @property
    def closes(self) -> datetime | None:
        return self.round.submissions_close if self.round else None

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def closed_early(self) -> datetime | None:
        """When the round was finalised before its deadline (that closed the call), else None."""
        if self.round is None or self.round.finalised_at is None or self.round.submissions_close is None:
            return None
        return self.round.finalised_at if self.round.finalised_at < self.round.submissions_close else None


def call_of(award: Award, now: datetime) -> Call:
    rnd = next((r for r in award.rounds if r.submissions_close is not None), None)
    if rnd is None:
        return Call(None, "none")
    if rnd.finalised_at is not None or (rnd.submissions_close is not None and now > rnd.submissions_close):
        return Call(rnd, "closed")
    if rnd.submissions_open is not None and now < rnd.submissions_open:
        return Call(rnd, "upcoming")
    return Call(rnd, "open")


def _require_open(award: Award, now: datetime) -> Call:
    call = call_of(award, now)
    if award.anonymised_at is not None or not call.is_open:
        raise DeadlinePassedError("the call for entries is closed")
    return call


# -- loading --------------------------------------------------------------------------------


async def load_entry(session: AsyncSession, entry_id: int) -> Entry:
    entry = (
        await session.execute(
            sa.select(Entry)
            .where(Entry.id == entry_id)
            .options(
                selectinload(Entry.award).selectinload(Award.categories),
                selectinload(Entry.award).selectinload(Award.rounds),
                selectinload(Entry.category),
                selectinload(Entry.startup),
                selectinload(Entry.attachments),
                selectinload(Entry.members),
                selectinload(Entry.rounds).selectinload(EntryRound.round),
            )
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFoundError(f"entry {entry_id}")
    return entry


def is_member(entry: Entry, person_id: int | None) -> bool:
    return person_id is not None and any(m.person_id == person_id for m in entry.members)


def deck_of(entry: Entry) -> Attachment | None:
    """The pitch deck: the entry's first PDF attachment."""
    return next((a for a in entry.attachments if a.media_type == PDF), None)


async def entries_of(session: AsyncSession, award_id: int, person_id: int) -> list[Entry]:
    """The entries a person works on in an award, newest first."""
    return list(
        (
            await session.execute(
                sa.select(Entry)
                .join(EntryMember, EntryMember.entry_id == Entry.id)
                .where(Entry.award_id == award_id, EntryMember.person_id == person_id)
                .options(selectinload(Entry.startup), selectinload(Entry.category))
                .order_by(Entry.id.desc())
            )
        ).scalars()
    )


async def memberships(session: AsyncSession, person_id: int) -> list[Entry]:
    """Every entry a person works on, in any award (for the account page)."""
    return list(
        (
            await session.execute(
                sa.select(Entry)
                .join(EntryMember, EntryMember.entry_id == Entry.id)
                .where(EntryMember.person_id == person_id)
                .options(selectinload(Entry.startup), selectinload(Entry.award))
                .order_by(Entry.id.desc())
            )
        ).scalars()
    )


# -- applying and editing -------------------------------------------------------------------


async def _next_ref(session: AsyncSession, award_id: int) -> str:
    refs = (await session.execute(sa.select(Entry.ref).where(Entry.award_id == award_id))).scalars().all()
    numbers = [int(r[1:]) for r in refs if r[:1] == "E" and r[1:].isdigit()]
    return f"E{(max(numbers, default=0) + 1):03d}"


async def start_application(session: AsyncSession, award: Award, person: Person, now: datetime) -> Entry:
    """A new draft entry with the person as its contact (refused when the call is not open)."""
    _require_open(award, now)
    if not award.categories:
        raise DeadlinePassedError("the award has no categories")
    await grant_role(session, person, Role.STARTUP, award.id)
    for _attempt in range(5):
        try:
            async with session.begin_nested():
                startup = Startup(name="")
                session.add(startup)
                await session.flush()
                entry = Entry(
                    award_id=award.id,
                    category_id=award.categories[0].id,
                    startup_id=startup.id,
                    ref=await _next_ref(session, award.id),
                    status=EntryStatus.DRAFT,
                    contact_name=person.name,
                    contact_email=person.email,
                )
                session.add(entry)
                await session.flush()
                session.add(EntryMember(entry_id=entry.id, person_id=person.id, role=MemberRole.CONTACT))
                await session.flush()
        except IntegrityError:  # two applications took the same reference at once: take the next
            continue
        record_event(
            session,
            "entry.started",
            actor_id=person.id,
            award_id=award.id,
            object_type="entry",
            object_id=entry.id,
            after={"ref": entry.ref},
        )
        return entry
    raise ConflictError("could not allocate an entry reference")


def form_values(entry: Entry) -> dict[str, str]:
    """The entry as the form shows it: a draft's values that are not valid yet as they were typed."""
    kept = (entry.draft_values or {}) if entry.status is EntryStatus.DRAFT else {}
    return stored_values(entry) | {k: v for k, v in kept.items() if k in FIELD_NAMES and isinstance(v, str)}


def draft_problems(entry: Entry, now: datetime) -> dict[str, str]:
    """What is wrong with a draft's values as kept (shown beside the fields; required fields
    left empty are not problems of a draft)."""
    if entry.status is not EntryStatus.DRAFT or not entry.draft_values:
        return {}
    categories = frozenset(c.slug for c in entry.award.categories)
    return check_values(form_values(entry), categories=categories, now=now, for_submission=False, has_deck=True)


def stored_values(entry: Entry) -> dict[str, str]:
    """The entry's checked columns as the form's texts."""
    s = entry.startup
    return {
        "startup_name": s.name,
        "legal_form": s.legal_form or "",
        "city": s.city or "",
        "founded": str(s.founded) if s.founded is not None else "",
        "employees": str(s.employees) if s.employees is not None else "",
        "website": s.website or "",
        "investors": s.investors,
        "contact_name": entry.contact_name,
        "contact_email": entry.contact_email,
        "category": entry.category.slug,
        "title": entry.title,
        "pitch": entry.pitch,
        "problem": entry.problem,
        "solution": entry.solution,
        "benefit": entry.benefit,
        "stage": entry.stage,
        "video_url": entry.video_url or "",
        "consent": "yes" if entry.consent_at else "",
    }


@dataclass(frozen=True)
class Upload:
    """A file a startup sent with the form."""

    data: bytes
    filename: str
    #: Why the file is not an acceptable deck (``deck_check.deck_problem``, run before the write
    #: lock and off the event loop), or None.
    problem: str | None


def _check_editable(entry: Entry, now: datetime) -> None:
    if entry.status not in (EntryStatus.DRAFT, EntryStatus.SUBMITTED):
        raise DeadlinePassedError(f"the entry is {entry.status.value}")
    _require_open(entry.award, now)


async def save_entry(
    session: AsyncSession,
    entry: Entry,
    values: dict[str, str],
    *,
    version: int | None,
    now: datetime,
    actor: Person,
    storage: Storage,
    upload: Upload | None = None,
    submit: bool = False,
) -> Saved:
    """Save the form (and submit it when ``submit``).

    A draft saves whatever is there: a value that is not valid yet is kept as typed in
    ``draft_values`` (its column keeps no wrong value) and comes back as a problem beside its
    field; a deck that is not an acceptable PDF is not stored and is a problem too. Submitting,
    and every edit of a submitted entry, needs every value valid and complete and raises
    FormError (every problem by field) otherwise, changing nothing. Raises DeadlinePassedError
    or StaleEntryError (nothing changed). Returns the changed fields and the draft's problems."""
    _check_editable(entry, now)
    if version is not None and version != entry.version:
        raise StaleEntryError(entry.version)
    errors: dict[str, str] = {}
    if upload is not None and upload.problem:
        errors["deck"] = upload.problem
    categories = {c.slug: c for c in entry.award.categories}
    complete = submit or entry.status is EntryStatus.SUBMITTED
    has_deck = (upload is not None and "deck" not in errors) or deck_of(entry) is not None
    errors = (
        check_values(values, categories=frozenset(categories), now=now, for_submission=complete, has_deck=has_deck)
        | errors
    )
    if errors and complete:
        raise FormError(errors)

    before = form_values(entry)
    typed = values
    kept = {name: typed.get(name, "") for name in FIELD_NAMES if name in errors}
    values = {name: "" if name in kept else typed.get(name, "") for name in FIELD_NAMES}
    s = entry.startup
    s.name = values.get("startup_name", "")
    s.legal_form = values.get("legal_form") or None
    s.city = values.get("city") or None
    s.founded = int(values["founded"]) if values.get("founded") else None
    s.employees = int(values["employees"]) if values.get("employees") else None
    s.website = values.get("website") or None
    s.investors = values.get("investors", "")
    entry.contact_name = values.get("contact_name", "")
    entry.contact_email = normalise_email(values.get("contact_email", ""))
    if values.get("category") in categories:
        entry.category = categories[values["category"]]
    for name in ("title", "pitch", "problem", "solution", "benefit", "stage"):
        setattr(entry, name, values.get(name, ""))
    entry.video_url = values.get("video_url") or None
    entry.consent_at = (entry.consent_at or now) if values.get("consent") == "yes" else None
    entry.draft_values = kept or None
    entry.updated_at = now  # bumps the version even when only the startup or the deck changed
    changed = [name for name in FIELD_NAMES if before.get(name, "") != typed.get(name, "")]

    replaced: str | None = None
    if upload is not None and "deck" not in errors:
        key = await storage.put(upload.data)  # stored before any row names it
        deck = deck_of(entry)
        name = safe_file_name(upload.filename)
        digest = hashlib.sha256(upload.data).hexdigest()
        if deck is None:
            entry.attachments.append(
                Attachment(name=name, sha256=digest, size=len(upload.data), media_type=PDF, storage_key=key)
            )
        else:
            replaced = deck.storage_key if deck.storage_key != key else None
            deck.name, deck.sha256, deck.size = name, digest, len(upload.data)
            deck.storage_key, deck.created_at = key, now
        changed.append("deck")

    if submit and entry.status is EntryStatus.DRAFT:
        entry.status = EntryStatus.SUBMITTED
        entry.submitted_at = now
        call_round = call_of(entry.award, now).round
        if call_round is not None and all(er.round_id != call_round.id for er in entry.rounds):
            entry.rounds.append(EntryRound(round_id=call_round.id, added_at=now))
        record_event(
            session,
            "entry.submitted",
            actor_id=actor.id,
            award_id=entry.award_id,
            object_type="entry",
            object_id=entry.id,
            after={"ref": entry.ref},
        )
        await webhooks.emit(
            session,
            entry.award_id,
            "entry.submitted",
            {
                "award": entry.award.slug,
                "entry": {"id": entry.id, "ref": entry.ref, "category": entry.category.slug},
                "submitted_at": now,
            },
            now=now,
        )
    elif entry.status is EntryStatus.SUBMITTED and changed:
        record_event(
            session,
            "entry.edited",
            actor_id=actor.id,
            award_id=entry.award_id,
            object_type="entry",
            object_id=entry.id,
            after={"fields": changed},
        )
    try:
        await session.flush()
    except StaleDataError:  # another request saved between our read and our write
        raise StaleEntryError(entry.version) from None
    await release_files(session, storage, [replaced])  # the old deck, unless another entry has the same file
    return Saved(changed, errors)


@dataclass(frozen=True)
class Saved:
    """What a save did: the fields that changed, and what is still wrong with a draft (by field)."""

    changed: list[str]
    problems: dict[str, str]


async def withdraw_entry(session: AsyncSession, entry: Entry, *, now: datetime, actor: Person) -> None:
    """Withdraw a submitted entry; possible until judging starts (the submission window closes)."""
    if entry.status is not EntryStatus.SUBMITTED:
        raise ConflictError("only a submitted entry can be withdrawn")
    _require_open(entry.award, now)
    entry.status = EntryStatus.WITHDRAWN
    entry.withdrawn_at = now
    await session.flush()
    record_event(
        session,
        "entry.withdrawn",
        actor_id=actor.id,
        award_id=entry.award_id,
        object_type="entry",
        object_id=entry.id,
        after={"ref": entry.ref},
    )


async def release_files(session: AsyncSession, storage: Storage, keys: Sequence[str | None]) -> None:
    """Delete stored files that no attachment or logo names any more (keys are shared by content),
    once this session's transaction is committed: until then the rows may still name them (a
    failed commit, a crash) and the files must stay. A rollback forgets them."""
    unused = []
    for key in {k for k in keys if k}:
        used = await session.scalar(
            sa.select(sa.func.count()).select_from(Attachment).where(Attachment.storage_key == key)
        )
        logo = await session.scalar(sa.select(sa.func.count()).select_from(Award).where(Award.logo_key == key))
        if not used and not logo:
            unused.append(key)
    if unused:
        delete_after_commit(session, storage, unused)


def delete_after_commit(session: AsyncSession, storage: Storage, keys: Sequence[str]) -> None:
    sync = session.sync_session
    pending: list[tuple[Storage, str]] | None = sync.info.get("files_to_delete")
    if pending is None:
        pending = sync.info["files_to_delete"] = []

        def committed(_session: Session) -> None:
            # Deleted through the storage (an unlink, or an S3 delete in the background); a file
            # left behind wastes space, nothing more (delete_soon logs and never raises).
            for store, key in sync.info.pop("files_to_delete", []):
                store.delete_soon([key])

        def rolled_back(_session: Session) -> None:
            sync.info.pop("files_to_delete", None)

        event.listen(sync, "after_commit", committed, once=True)
        event.listen(sync, "after_rollback", rolled_back, once=True)
    pending.extend((storage, key) for key in keys)


async def delete_draft(session: AsyncSession, entry: Entry, *, actor: Person, storage: Storage) -> None:
    """A startup deletes its own draft: the entry, its startup record (unless used elsewhere), its files."""
    if entry.status is not EntryStatus.DRAFT:
        raise ConflictError("only a draft can be deleted")
    keys = [a.storage_key for a in entry.attachments]
    startup_id, award_id, ref = entry.startup_id, entry.award_id, entry.ref
    await session.delete(entry)
    await session.flush()
    others = await session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.startup_id == startup_id))
    if not others:
        await session.execute(sa.delete(Startup).where(Startup.id == startup_id))
    await release_files(session, storage, keys)
    record_event(session, "entry.deleted", actor_id=actor.id, award_id=award_id, object_type="entry", object_id=ref)


async def add_member(session: AsyncSession, entry: Entry, email: str, name: str, *, actor: Person) -> Person:
    """Invite a person of the startup to edit the entry with the others."""
    errors: dict[str, str] = {}
    email = normalise_email(email)
    if not is_valid_email(email):
        errors["member_email"] = _("Enter a valid e-mail address, like name@example.org.")
    if len(name) > 200:
        errors["member_name"] = _("Use at most %(n)d characters.") % {"n": 200}
    if errors:
        raise FormError(errors)
    person = await get_or_create_person(session, email, name)
    if is_member(entry, person.id):
        raise FormError({"member_email": _("This person can already edit the entry.")})
    if Role.JUROR in {r.role for r in await _roles(session, person.id, entry.award_id)}:
        raise FormError({"member_email": _("This person is on the award's jury and cannot work on an entry.")})
    await grant_role(session, person, Role.STARTUP, entry.award_id)
    entry.members.append(EntryMember(person_id=person.id, role=MemberRole.EDITOR))
    await session.flush()
    record_event(
        session,
        "entry.member_added",
        actor_id=actor.id,
        award_id=entry.award_id,
        object_type="entry",
        object_id=entry.id,
        after={"person": person.id},
    )
    return person


async def _roles(session: AsyncSession, person_id: int, award_id: int) -> list[AwardRole]:
    return list(
        (
            await session.execute(
                sa.select(AwardRole).where(AwardRole.person_id == person_id, AwardRole.award_id == award_id)
            )
        ).scalars()
    )


async def member_people(session: AsyncSession, entry: Entry) -> list[Person]:
    ids = [m.person_id for m in entry.members]
    if not ids:
        return []
    return list((await session.execute(sa.select(Person).where(Person.id.in_(ids)).order_by(Person.id))).scalars())


# -- organisers -----------------------------------------------------------------------------


async def decide_eligibility(
    session: AsyncSession, entry: Entry, decision: str, reason: str, *, actor: Person, now: datetime
) -> None:
    """Accept a submitted entry as eligible, or disqualify it with a reason the startup sees."""
    if entry.status not in (EntryStatus.SUBMITTED, EntryStatus.DISQUALIFIED):
        raise FormError({"decision": _("Only submitted entries can be accepted or disqualified.")})
    before = {"status": entry.status.value, "reason": entry.status_reason}
    if decision == "accept":
        entry.status = EntryStatus.SUBMITTED
        entry.status_reason = ""
        entry.accepted_at = now
    elif decision == "disqualify":
        if not reason.strip():
            raise FormError({"reason": _("Give a reason: the startup will read it.")})
        if len(reason) > 2000:
            raise FormError({"reason": _("Use at most %(n)d characters.") % {"n": 2000}})
        entry.status = EntryStatus.DISQUALIFIED
        entry.status_reason = reason.strip()
        entry.accepted_at = None
    else:
        raise FormError({"decision": _("Choose accept or disqualify.")})
    entry.updated_at = now
    await session.flush()
    record_event(
        session,
        f"entry.{'accepted' if decision == 'accept' else 'disqualified'}",
        actor_id=actor.id,
        award_id=entry.award_id,
        object_type="entry",
        object_id=entry.id,
        before=before,
        after={"status": entry.status.value, "reason": entry.status_reason},
    )


@dataclass(frozen=True)
class EntryFilter:
    category: str = ""
    status: str = ""
    round: str = ""


async def list_entries(
    session: AsyncSession, award: Award, flt: EntryFilter, *, after: str = "", limit: int | None = None
) -> list[Entry]:
    """The award's entries by reference; ``after`` and ``limit`` give a page (the API's cursor)."""
    query = (
        sa.select(Entry)
        .where(Entry.award_id == award.id)
        .options(
            selectinload(Entry.startup),
            selectinload(Entry.category),
            selectinload(Entry.rounds).selectinload(EntryRound.round),
            selectinload(Entry.attachments),
        )
        .order_by(Entry.ref)
    )
    if flt.category:
        query = query.join(Category, Category.id == Entry.category_id).where(Category.slug == flt.category)
    if flt.status in {s.value for s in EntryStatus}:
        query = query.where(Entry.status == EntryStatus(flt.status))
    if flt.round:
        query = query.where(
            Entry.id.in_(
                sa.select(EntryRound.entry_id)
                .join(Round, Round.id == EntryRound.round_id)
                .where(Round.award_id == award.id, Round.slug == flt.round)
            )
        )
    if after:
        query = query.where(Entry.ref > after)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


CSV_COLUMNS = (
    "ref",
    "startup",
    "category",
    "status",
    "title",
    "legal_form",
    "city",
    "founded",
    "employees",
    "website",
    "contact_name",
    "contact_email",
    "stage",
    "submitted_at",
    "rounds",
    "eligible",
    "reason",
    "deck",
)


def entries_csv(entries: Sequence[Entry]) -> str:
    """The entry list as CSV; every cell that a spreadsheet would run as a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        s = e.startup
        deck = deck_of(e)
        row: list[Any] = [
            e.ref,
            s.name,
            e.category.slug,
            e.status.value,
            e.title,
            s.legal_form or "",
            s.city or "",
            s.founded if s.founded is not None else "",
            s.employees if s.employees is not None else "",
            s.website or "",
            e.contact_name,
            e.contact_email,
            e.stage,
            e.submitted_at.isoformat() if e.submitted_at else "",
            " ".join(er.round.slug for er in sorted(e.rounds, key=lambda er: er.round.position)),
            "yes" if e.accepted_at else "",
            e.status_reason,
            deck.name if deck else "",
        ]
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()


def award_ended(award: Award, now: datetime) -> bool:
    """An award has ended when its last round is finalised or its scoring has closed."""
    if not award.rounds:
        return False
    last = award.rounds[-1]
    return last.scoring_closed(now)


async def anonymise_check(session: AsyncSession, award: Award, now: datetime) -> Consequences:
    """What :func:`anonymise_award` would remove, in numbers; refused before the award has ended."""
    of_award = sa.select(Entry.id).where(Entry.award_id == award.id)

    async def count(query: Any) -> int:
        return int((await session.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one())

    entries = await count(of_award)
    contacts = await count(of_award.where(Entry.contact_email != ""))
    files = await count(sa.select(Attachment.id).where(Attachment.entry_id.in_(of_award)))
    people = await count(sa.select(EntryMember.person_id).where(EntryMember.entry_id.in_(of_award)).distinct())
    check = Consequences(numbers={"entries": entries, "contacts": contacts, "files": files, "people": people})
    check.facts.append(
        ngettext(
            "%(num)d entry loses its contact's name and e-mail address, investors, website and video link.",
            "%(num)d entries lose their contact's name and e-mail address, investors, website and video link.",
            entries,
        )
        % {"num": entries}
    )
    check.facts.append(
        ngettext(
            "%(num)d entry still names a contact person.", "%(num)d entries still name a contact person.", contacts
        )
        % {"num": contacts}
    )
    check.facts.append(
        ngettext("%(num)d uploaded file is deleted.", "%(num)d uploaded files are deleted.", files) % {"num": files}
    )
    check.facts.append(
        ngettext(
            "%(num)d person of the startups loses access to the entries; accounts they use nowhere else are "
            "emptied and closed.",
            "%(num)d people of the startups lose access to the entries; accounts they use nowhere else are "
            "emptied and closed.",
            people,
        )
        % {"num": people}
    )
    check.facts.append(_("The startups' names, the entries' texts, the jury's scores and the ranks stay."))
    if not award_ended(award, now):
        check.refusals.append(_("The award has not ended yet: finalise its last round first."))
    return check


async def anonymise_award(
    session: AsyncSession, award: Award, *, storage: Storage, actor: Person, now: datetime, state: str | None = None
) -> int:
    """Remove the startups' personal data from an ended award: contact names and e-mails,
    the people on the entries (accounts used nowhere else are emptied and closed), investors,
    video links and every file. Startup names, entries' texts, scores and ranks stay.
    After :func:`anonymise_check` allows it (``state``: the confirmation page's).
    Returns the number of entries anonymised."""
    (await anonymise_check(session, award, now)).require(state=state, override_reason="")
    entries = list(
        (
            await session.execute(
                sa.select(Entry)
                .where(Entry.award_id == award.id)
                .options(selectinload(Entry.attachments), selectinload(Entry.members), selectinload(Entry.startup))
            )
        ).scalars()
    )
    keys: list[str | None] = []
    people: set[int] = set()
    for e in entries:
        e.contact_name = ""
        e.contact_email = ""
        e.video_url = None
        e.draft_values = None  # what a draft kept as typed may hold any of these
        e.startup.investors = ""
        e.startup.website = None
        keys += [a.storage_key for a in e.attachments]
        e.attachments.clear()
        people |= {m.person_id for m in e.members}
        e.members.clear()
    await session.flush()
    # Accounts that only ever existed for this award's entries are emptied and closed.
    for person_id in people:
        still_member = await session.scalar(
            sa.select(sa.func.count()).select_from(EntryMember).where(EntryMember.person_id == person_id)
        )
        roles = await session.execute(
            sa.select(AwardRole.role, AwardRole.award_id).where(AwardRole.person_id == person_id)
        )
        other_roles = [(r, a) for r, a in roles if not (r is Role.STARTUP and a == award.id)]
        await session.execute(
            sa.delete(AwardRole).where(
                AwardRole.person_id == person_id, AwardRole.award_id == award.id, AwardRole.role == Role.STARTUP
            )
        )
        if still_member or other_roles:
            continue
        person = await session.get(Person, person_id)
        if person is None:
            continue
        await _forget_address(session, person.email)
        person.name = ""
        person.email = f"anonymised-{person.id}@invalid.example"
        person.password_hash = None
        person.is_active = False
        person.organisation = ""
        await session.execute(sa.delete(WebSession).where(WebSession.person_id == person_id))
        await session.execute(sa.delete(LoginToken).where(LoginToken.person_id == person_id))
    await release_files(session, storage, keys)
    # Where people did things in this award stays, from where (IP addresses) does not.
    await session.execute(sa.update(AuditEvent).where(AuditEvent.award_id == award.id).values(ip=None))
    award.anonymised_at = now
    await session.flush()
    record_event(
        session,
        "award.anonymised",
        actor_id=actor.id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        after={"entries": len(entries), "people": len(people)},
    )
    return len(entries)


async def _forget_address(session: AsyncSession, email: str) -> None:
    """An e-mail address leaves the audit trail of sign-ins and the rate-limit counters."""
    address = normalise_email(email)
    await session.execute(
        sa.update(AuditEvent)
        .where(AuditEvent.object_type == "email", AuditEvent.object_id == address[:64])
        .values(object_id="anonymised", ip=None)
    )
    await ratelimit.forget_address(session, address)


# -- the status page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    at: datetime | None
    #: started, submitted, withdrawn, accepted, disqualified, round, advanced, winner, not_selected, finalist,
    #: advancing (won a round that is not the award's last; not moved on yet)
    kind: str
    detail: str = ""
    place: int | None = None


async def timeline(session: AsyncSession, entry: Entry) -> list[Step]:
    """The entry's way so far, oldest first: drafting, submission, eligibility, the rounds it
    took part in and, once a round's results are published, its outcome."""
    steps: list[Step] = [Step(entry.created_at, "started")]
    actions = ["entry.submitted", "entry.withdrawn", "entry.accepted", "entry.disqualified"]
    events = (
        await session.execute(
            sa.select(AuditEvent.action, AuditEvent.at, AuditEvent.after)
            .where(
                AuditEvent.object_type == "entry",
                AuditEvent.object_id == str(entry.id),
                AuditEvent.action.in_(actions),
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    ).all()
    for action, at, after in events:
        kind = action.split(".", 1)[1]
        steps.append(Step(at, kind, (after or {}).get("reason", "") if kind == "disqualified" else ""))
    if entry.submitted_at and not any(s.kind == "submitted" for s in steps):
        steps.append(Step(entry.submitted_at, "submitted"))  # imported entries have no events
    rounds = sorted(entry.rounds, key=lambda er: er.round.position)
    first_position = min((r.position for r in entry.award.rounds), default=0)
    for er in rounds:
        kind = "round" if er.round.position == first_position else "advanced"
        steps.append(Step(er.added_at, kind, er.round.name))
    outcome = await outcome_of(session, entry)
    if outcome is not None:
        steps.append(outcome)
    return sorted(steps, key=lambda s: (s.at is None, s.at or entry.created_at))


async def outcome_of(session: AsyncSession, entry: Entry) -> Step | None:
    """What the published results say about the entry. None until a round it took part in (or a
    later one) is published. The last published round of the entry decides:

    - it has moved on to a later round already: ``finalist`` (of that later round);
    - it won the award's last round: ``winner`` (with its place);
    - the round is not the award's first (a final, a semi-final): ``finalist``, winner or not;
      it holds a finalist certificate (SPEC §4);
    - it won a round that is not the award's last, not moved on yet: ``advancing``;
    - otherwise ``not_selected``."""
    if entry.status is not EntryStatus.SUBMITTED:
        return None
    rounds = sorted((er.round for er in entry.rounds), key=lambda r: r.position)
    published = [r for r in rounds if r.published_at is not None]
    if not published:
        # Its own rounds' results are not public, but a later round's are: it did not get there.
        later = [
            r for r in entry.award.rounds if r.published_at is not None and rounds and r.position > rounds[-1].position
        ]
        if later:
            return Step(later[0].published_at, "not_selected", rounds[-1].name)
        return None
    last = published[-1]
    if last is not rounds[-1]:
        # Advanced beyond it already: dated by that publication (the later round has none yet).
        return Step(last.published_at, "finalist", rounds[-1].name)
    snapshot = (
        await session.execute(sa.select(ResultSnapshot).where(ResultSnapshot.round_id == last.id))
    ).scalar_one_or_none()
    row = None
    if snapshot is not None:
        for category in snapshot.payload.get("categories", []):
            for item in category.get("entries", []):
                if item.get("ref") == entry.ref:
                    row = item
    won = row is not None and bool(row.get("winner"))
    positions = [r.position for r in entry.award.rounds]
    if won and last.position == max(positions):
        return Step(last.published_at, "winner", last.name, row.get("rank") if row else None)
    if last.position > min(positions):
        return Step(last.published_at, "finalist", last.name)
    if won:
        return Step(last.published_at, "advancing", last.name)
    return Step(last.published_at, "not_selected", last.name)


def current_state(entry: Entry, outcome: Step | None, now: datetime) -> str:
    """One word for the status page's headline: before the submission window of its round has
    closed a submitted entry is just ``submitted`` (judging starts after the deadline); then
    it is ``in_round`` (with the jury)."""
    if outcome is not None:
        return outcome.kind
    if entry.status is not EntryStatus.SUBMITTED:
        return entry.status.value
    rounds = sorted((er.round for er in entry.rounds), key=lambda r: r.position)
    first = min((r.position for r in entry.award.rounds), default=0)
    if rounds and rounds[-1].position > first:
        return "finalist"
    if rounds and judging_started(rounds[-1], now):
        return "in_round"
    return "submitted"


def judging_started(rnd: Round, now: datetime) -> bool:
    """The jury scores a round's entries once its submission window has closed (or at once,
    when the round has no window)."""
    return rnd.finalised_at is not None or rnd.submissions_close is None or now > rnd.submissions_close
