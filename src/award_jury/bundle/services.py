"""Award bundle import and export (SPEC §2): all or nothing, and export(import(b)) == b."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts.models import AwardRole, Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.validators import normalise_email
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category, Criterion, Round, RubricLevel
from award_jury.bundle.validate import FORMAT, parse_datetime, to_decimal, validate_bundle
from award_jury.entries.models import Attachment, Entry, EntryMember, EntryRound, Startup
from award_jury.entries.storage import Storage
from award_jury.enums import EntryStatus, MemberRole, Method, Role, SheetStatus
from award_jury.errors import ConflictError, NotFoundError, ValidationError
from award_jury.judging.conflicts import has_conflict
from award_jury.judging.models import Conflict, JurorCategory, Score, ScoreSheet

DEFAULT_TIME_ZONE = "Europe/Berlin"
ENTRY_TEXTS = ("problem", "solution", "benefit", "stage")
STARTUP_EXTRAS = ("legal_form", "employees", "investors")


# ---------------------------------------------------------------- import


def _dec(value: Any) -> Decimal:
    d = to_decimal(value)
    assert d is not None  # validated before
    return d


def _dt(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


async def delete_award(session: AsyncSession, award: Award) -> None:
    """Remove an award and everything that belongs to it (used by ``import --replace``)."""
    startup_ids = sa.select(Entry.startup_id).where(Entry.award_id == award.id).scalar_subquery()
    orphan_startups = (await session.execute(sa.select(Startup.id).where(Startup.id.in_(startup_ids)))).scalars().all()
    category_ids = sa.select(Category.id).where(Category.award_id == award.id).scalar_subquery()
    await session.execute(sa.delete(JurorCategory).where(JurorCategory.category_id.in_(category_ids)))
    await session.execute(sa.update(Round).where(Round.award_id == award.id).values(live_entry_id=None))
    await session.execute(sa.delete(Entry).where(Entry.award_id == award.id))
    await session.execute(sa.delete(Startup).where(Startup.id.in_(orphan_startups)))
    await session.execute(sa.delete(Award).where(Award.id == award.id))
    # Rows went away by bulk delete and ON DELETE CASCADE: forget every loaded object, so
    # none of them can clash with the rows the import writes next.
    session.expunge_all()


async def import_bundle(
    session: AsyncSession,
    doc: Any,
    *,
    storage: Storage | None = None,
    files: Mapping[str, bytes] | None = None,
    replace: bool = False,
    actor_label: str = "cli",
) -> Award:
    """Validate ``doc`` and create its award. Raises ValidationError listing every problem.

    ``files`` maps SHA-256 to content (from a ``.zip`` bundle); each is checked against the
    attachment's recorded hash and size and stored. Nothing is written to the database when
    anything is wrong (the caller's transaction is not committed).
    """
    problems = validate_bundle(doc)
    files = files or {}
    if not problems:
        for i, e in enumerate(doc.get("entries", [])):
            for j, a in enumerate(e.get("attachments", [])):
                data = files.get(a["sha256"])
                if data is not None and len(data) != a["size"]:
                    problems.append(
                        f"entries[{i}].attachments[{j}].size: {a['size']} does not match the file's {len(data)} bytes"
                    )
    if problems:
        raise ValidationError(problems, f"the bundle has {len(problems)} problem(s)")
    for sha, data in files.items():
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValidationError([f"files/{sha}: the content does not match its SHA-256 name"])

    a = doc["award"]
    existing = (await session.execute(sa.select(Award).where(Award.slug == a["slug"]))).scalar_one_or_none()
    if existing is not None:
        if not replace:
            raise ConflictError(f"an award with the slug {a['slug']!r} exists already (use --replace to overwrite it)")
        await delete_award(session, existing)

    award = Award(
        slug=a["slug"],
        name=a["name"],
        locale=a["locale"],
        time_zone=a.get("time_zone") or DEFAULT_TIME_ZONE,
        description=a.get("description") or "",
        primary_color=a.get("primary_color"),
    )
    session.add(award)
    categories = {
        c["slug"]: Category(
            slug=c["slug"], name=c["name"], prizes=c["prizes"], description=c.get("description") or "", position=i
        )
        for i, c in enumerate(a["categories"])
    }
    award.categories = list(categories.values())
    rounds: dict[str, Round] = {}
    criteria: dict[tuple[str, str], Criterion] = {}
    for i, r in enumerate(a["rounds"]):
        rnd = Round(
            slug=r["slug"],
            name=r["name"],
            position=i,
            submissions_open=_dt(r.get("submissions_open")),
            submissions_close=_dt(r.get("submissions_close")),
            scoring_close=_dt(r.get("scoring_close")),
            method=Method(r["method"]),
            min_sheets=r["min_sheets"],
        )
        for k, c in enumerate(r["criteria"]):
            crit = Criterion(
                key=c["key"],
                name=c["name"],
                description=c.get("description") or "",
                weight=_dec(c["weight"]),
                min_value=_dec(c["min"]),
                max_value=_dec(c["max"]),
                step=_dec(c["step"]),
                position=k,
                levels=[
                    RubricLevel(min_value=_dec(lv["min"]), max_value=_dec(lv["max"]), text=lv["text"])
                    for lv in c.get("levels", [])
                ],
            )
            rnd.criteria.append(crit)
            criteria[(r["slug"], c["key"])] = crit
        rounds[r["slug"]] = rnd
    award.rounds = list(rounds.values())
    await session.flush()

    for o in doc.get("organisers", []):  # (SPEC §2: created if missing)
        organiser = await get_or_create_person(session, o["email"], o["name"], award.locale)
        await grant_role(session, organiser, Role.ORGANISER, award.id)

    jurors: dict[str, Person] = {}
    for j in doc.get("jurors", []):
        person = await get_or_create_person(session, j["email"], j["name"], award.locale)
        jurors[person.email] = person
        await grant_role(session, person, Role.JUROR, award.id)
        for slug in j.get("categories", []):
            session.add(JurorCategory(person_id=person.id, category_id=categories[slug].id))

    entries: dict[str, Entry] = {}
    for e in doc.get("entries", []):
        s = e["startup"]
        startup = Startup(
            name=s["name"],
            legal_form=s.get("legal_form"),
            city=s.get("city"),
            founded=s.get("founded"),
            employees=s.get("employees"),
            website=s.get("website"),
            investors=s.get("investors") or "",
        )
        entry = Entry(
            award_id=award.id,
            category_id=categories[e["category"]].id,
            startup=startup,
            ref=e["ref"],
            status=EntryStatus(e["status"]),
            title=e["title"],
            pitch=e["pitch"],
            video_url=e.get("video_url"),
            contact_name=e["contact"]["name"],
            contact_email=e["contact"]["email"],
            **{key: e.get(key) or "" for key in ENTRY_TEXTS},
        )
        entry.rounds = [EntryRound(round_id=rounds[slug].id) for slug in e["rounds"]]
        for att in e.get("attachments", []):
            data = files.get(att["sha256"])
            key = await storage.put(data) if (data is not None and storage is not None) else None
            entry.attachments.append(
                Attachment(
                    name=att["name"],
                    sha256=att["sha256"],
                    size=att["size"],
                    media_type=att["media_type"],
                    storage_key=key,
                )
            )
        session.add(entry)
        entries[e["ref"]] = entry
    await session.flush()

    contacts = {normalise_email(e.contact_email): e for e in entries.values()}
    for email, entry in contacts.items():
        person = await get_or_create_person(session, email, entry.contact_name, award.locale)
        await grant_role(session, person, Role.STARTUP, award.id)
    for entry in entries.values():
        person = await get_or_create_person(session, entry.contact_email, entry.contact_name, award.locale)
        session.add(EntryMember(entry_id=entry.id, person_id=person.id, role=MemberRole.CONTACT))

    for cf in doc.get("conflicts", []):
        session.add(
            Conflict(
                juror_id=jurors[normalise_email(cf["juror"])].id,
                entry_id=entries[cf["entry"]].id,
                reason=cf.get("reason") or "",
            )
        )
    for sh in doc.get("sheets", []):
        status = SheetStatus(sh["status"])
        sheet = ScoreSheet(
            juror_id=jurors[normalise_email(sh["juror"])].id,
            entry_id=entries[sh["entry"]].id,
            round_id=rounds[sh["round"]].id,
            status=status,
            comment=sh.get("comment") or "",
        )
        sheet.scores = [
            Score(criterion_id=criteria[(sh["round"], key)].id, value=_dec(value))
            for key, value in sh["scores"].items()
        ]
        session.add(sheet)
    await session.flush()
    record_event(
        session,
        "award.imported",
        actor_label=actor_label,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        after={
            "slug": award.slug,
            "entries": len(entries),
            "jurors": len(jurors),
            "sheets": len(doc.get("sheets", [])),
            "replaced": existing is not None,
        },
    )
    return award


# ---------------------------------------------------------------- export


def _num(value: Decimal) -> int | float:
    """Integral values as JSON integers (8, not 8.0), others as the shortest float."""
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def _iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _put_optional(target: dict[str, Any], key: str, value: Any) -> None:
    """Optional fields appear in an export only when they are set."""
    if value not in (None, ""):
        target[key] = value


async def export_bundle(session: AsyncSession, slug: str) -> dict[str, Any]:
    award = (
        await session.execute(
            sa.select(Award)
            .where(Award.slug == slug)
            .options(
                selectinload(Award.categories),
                selectinload(Award.rounds).selectinload(Round.criteria).selectinload(Criterion.levels),
            )
        )
    ).scalar_one_or_none()
    if award is None:
        raise NotFoundError(f"there is no award with the slug {slug!r}")
    tz = ZoneInfo(award.time_zone)
    category_slug = {c.id: c.slug for c in award.categories}
    category_pos = {c.id: c.position for c in award.categories}
    round_slug = {r.id: r.slug for r in award.rounds}
    round_pos = {r.id: r.position for r in award.rounds}
    criterion_key = {c.id: c.key for r in award.rounds for c in r.criteria}

    award_doc: dict[str, Any] = {
        "slug": award.slug,
        "name": award.name,
        "locale": award.locale,
        "time_zone": award.time_zone,
    }
    _put_optional(award_doc, "description", award.description)
    _put_optional(award_doc, "primary_color", award.primary_color)
    award_doc["categories"] = []
    for c in award.categories:
        cat: dict[str, Any] = {"slug": c.slug, "name": c.name, "prizes": c.prizes}
        _put_optional(cat, "description", c.description)
        award_doc["categories"].append(cat)
    award_doc["rounds"] = []
    for r in award.rounds:
        crits = []
        for cr in r.criteria:
            crit: dict[str, Any] = {"key": cr.key, "name": cr.name}
            _put_optional(crit, "description", cr.description)
            crit |= {
                "weight": _num(cr.weight),
                "min": _num(cr.min_value),
                "max": _num(cr.max_value),
                "step": _num(cr.step),
            }
            if cr.levels:
                crit["levels"] = [
                    {"min": _num(lv.min_value), "max": _num(lv.max_value), "text": lv.text} for lv in cr.levels
                ]
            crits.append(crit)
        award_doc["rounds"].append(
            {
                "slug": r.slug,
                "name": r.name,
                "submissions_open": _iso(r.submissions_open, tz),
                "submissions_close": _iso(r.submissions_close, tz),
                "scoring_close": _iso(r.scoring_close, tz),
                "method": r.method.value,
                "min_sheets": r.min_sheets,
                "criteria": crits,
            }
        )

    organisers = [
        {"email": p.email, "name": p.name}
        for p in (
            await session.execute(
                sa.select(Person)
                .join(AwardRole, AwardRole.person_id == Person.id)
                .where(AwardRole.award_id == award.id, AwardRole.role == Role.ORGANISER)
                .order_by(AwardRole.id)
            )
        ).scalars()
    ]
    juror_rows = (
        await session.execute(
            sa.select(Person)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(AwardRole.award_id == award.id, AwardRole.role == Role.JUROR)
            .order_by(AwardRole.id)
        )
    ).scalars()
    juror_cats: dict[int, list[int]] = {}
    for person_id, category_id in await session.execute(
        sa.select(JurorCategory.person_id, JurorCategory.category_id).where(
            JurorCategory.category_id.in_(list(category_slug))
        )
    ):
        juror_cats.setdefault(person_id, []).append(category_id)
    jurors = [
        {
            "email": p.email,
            "name": p.name,
            "categories": [category_slug[c] for c in sorted(juror_cats.get(p.id, []), key=category_pos.__getitem__)],
        }
        for p in juror_rows
    ]
    email_of = {p.id: p.email for p in await _people(session, award.id)}

    entry_rows = (
        await session.execute(
            sa.select(Entry)
            .where(Entry.award_id == award.id)
            .order_by(Entry.id)
            .options(selectinload(Entry.startup), selectinload(Entry.rounds), selectinload(Entry.attachments))
        )
    ).scalars()
    entries = []
    ref_of: dict[int, str] = {}
    for e in entry_rows:
        ref_of[e.id] = e.ref
        startup: dict[str, Any] = {"name": e.startup.name}
        for key in ("city", "founded", "website", *STARTUP_EXTRAS):
            _put_optional(startup, key, getattr(e.startup, key))
        doc_entry: dict[str, Any] = {
            "ref": e.ref,
            "category": category_slug[e.category_id],
            "status": e.status.value,
            "startup": startup,
            "contact": {"email": e.contact_email, "name": e.contact_name},
            "title": e.title,
            "pitch": e.pitch,
        }
        for key in (*ENTRY_TEXTS, "video_url"):
            _put_optional(doc_entry, key, getattr(e, key))
        doc_entry["rounds"] = [round_slug[er.round_id] for er in sorted(e.rounds, key=lambda x: round_pos[x.round_id])]
        doc_entry["attachments"] = [
            {"name": a.name, "sha256": a.sha256, "size": a.size, "media_type": a.media_type} for a in e.attachments
        ]
        entries.append(doc_entry)

    entry_ids = list(ref_of)
    conflicts = [
        {"juror": email_of[c.juror_id], "entry": ref_of[c.entry_id], "reason": c.reason}
        for c in (
            await session.execute(sa.select(Conflict).where(Conflict.entry_id.in_(entry_ids)).order_by(Conflict.id))
        ).scalars()
    ]
    sheets = []
    for sh in (
        await session.execute(
            sa.select(ScoreSheet)
            # a sheet of a pair with a conflict is invalid (SPEC §2), e.g. one a team member stored
            # before that was a conflict: it does not count, and the bundle must import again
            .where(ScoreSheet.entry_id.in_(entry_ids), ~has_conflict(ScoreSheet.juror_id, ScoreSheet.entry_id))
            .order_by(ScoreSheet.id)
            .options(selectinload(ScoreSheet.scores))
        )
    ).scalars():
        scores = {criterion_key[s.criterion_id]: _num(s.value) for s in sh.scores}
        sheets.append(
            {
                "juror": email_of[sh.juror_id],
                "entry": ref_of[sh.entry_id],
                "round": round_slug[sh.round_id],
                "status": sh.status.value,
                "scores": dict(sorted(scores.items())),
                "comment": sh.comment,
            }
        )
    doc: dict[str, Any] = {"format": FORMAT, "award": award_doc}
    if organisers:  # (SPEC §2: optional; absent when the award has none of its own)
        doc["organisers"] = organisers
    return doc | {
        "jurors": jurors,
        "entries": entries,
        "conflicts": conflicts,
        "sheets": sheets,
    }


async def _people(session: AsyncSession, award_id: int) -> list[Person]:
    """Everybody who judges in the award (jurors, and anyone with a conflict or a sheet)."""
    entry_ids = sa.select(Entry.id).where(Entry.award_id == award_id).scalar_subquery()
    ids = sa.union(
        sa.select(AwardRole.person_id).where(AwardRole.award_id == award_id),
        sa.select(Conflict.juror_id).where(Conflict.entry_id.in_(entry_ids)),
        sa.select(ScoreSheet.juror_id).where(ScoreSheet.entry_id.in_(entry_ids)),
    ).subquery()
    return list((await session.execute(sa.select(Person).where(Person.id.in_(sa.select(ids))))).scalars())
