"""Award bundles (SPEC §2): import, export, round trips, validation, all-or-nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import AwardRole, Person
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award
from award_jury.bundle.files import read_bundle, write_bundle
from award_jury.bundle.services import export_bundle, import_bundle
from award_jury.db import Database, metadata
from award_jury.entries.models import Attachment
from award_jury.entries.storage import LocalStorage
from award_jury.enums import Role
from award_jury.errors import ConflictError, ValidationError
from tests.support.factories import demo_bundle, small_bundle


def canonical(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


async def row_counts(session: AsyncSession) -> dict[str, int]:
    return {
        name: (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        for name, table in metadata.tables.items()
    }


async def test_import_demo_bundle_exports_identical_document(session: AsyncSession) -> None:
    doc = demo_bundle()
    await import_bundle(session, doc)
    exported = await export_bundle(session, doc["award"]["slug"])
    assert canonical(exported) == canonical(doc)


async def test_export_import_export_gives_identical_document(db: Database) -> None:
    async with db.session() as s:
        await import_bundle(s, demo_bundle())
    async with db.session() as s:
        first = await export_bundle(s, "smart-country-startup-award-2026")
        await import_bundle(s, first, replace=True)
    async with db.session() as s:
        second = await export_bundle(s, "smart-country-startup-award-2026")
    assert canonical(second) == canonical(first)


async def test_import_small_bundle_keeps_decimal_scores_exact(session: AsyncSession) -> None:
    await import_bundle(session, small_bundle())
    exported = await export_bundle(session, "mini-award")
    assert exported["sheets"][0]["scores"] == {"impact": 6.5, "innovation": 8}
    assert exported["award"]["rounds"][0]["criteria"][1]["step"] == 0.5
    assert exported["award"]["rounds"][0]["submissions_close"] == "2023-08-31T23:59:59+02:00"


async def test_import_existing_slug_refused_without_replace(session: AsyncSession) -> None:
    await import_bundle(session, small_bundle())
    with pytest.raises(ConflictError, match="exists already"):
        await import_bundle(session, small_bundle())


async def test_import_replace_overwrites_award(session: AsyncSession) -> None:
    await import_bundle(session, small_bundle())
    changed = small_bundle()
    changed["award"]["name"] = "Mini Award (corrected)"
    del changed["sheets"][0]
    await import_bundle(session, changed, replace=True)
    exported = await export_bundle(session, "mini-award")
    assert exported["award"]["name"] == "Mini Award (corrected)"
    assert exported["sheets"] == []
    assert (await session.execute(sa.select(sa.func.count()).select_from(Award))).scalar_one() == 1


async def test_import_writes_audit_event(session: AsyncSession) -> None:
    await import_bundle(session, small_bundle(), actor_label="tester")
    event = (await session.execute(sa.select(AuditEvent).where(AuditEvent.action == "award.imported"))).scalar_one()
    assert (event.actor_label, event.after) == (
        "tester",
        {"slug": "mini-award", "entries": 2, "jurors": 1, "sheets": 1, "replaced": False},
    )


def twelve_mistakes() -> dict[str, Any]:
    doc = small_bundle()
    doc["surprise"] = True  # 1 unknown top-level key
    doc["award"]["locale"] = "fr"  # 2
    doc["award"]["categories"][1]["prizes"] = -1  # 3
    doc["award"]["rounds"][0]["criteria"][0]["min"] = 10  # 4 min >= max
    doc["award"]["rounds"][0]["method"] = "average"  # 5
    doc["award"]["rounds"][0]["submissions_close"] = "31.08.2023"  # 6
    doc["jurors"][0]["categories"] = ["smart-city", "mobility"]  # 7
    doc["entries"][1]["ref"] = "E001"  # 8 duplicate ref
    doc["entries"][0]["contact"]["email"] = "not-an-address"  # 9
    doc["sheets"][0]["scores"]["impact"] = 11  # 10
    doc["sheets"][0]["scores"]["charm"] = 3  # 11
    doc["conflicts"].append({"juror": "nobody@example.org", "entry": "E001"})  # 12
    return doc


async def test_bundle_with_twelve_mistakes_reports_each_and_changes_nothing(session: AsyncSession) -> None:
    before = await row_counts(session)
    with pytest.raises(ValidationError) as info:
        await import_bundle(session, twelve_mistakes())
    problems = info.value.problems
    expected = [
        "surprise: unknown top-level key",
        'award.locale: "fr" is not one of de, en',
        "award.categories[1].prizes: -1 is outside 0..1000",
        "award.rounds[0].criteria[0].max: 10 must be greater than the minimum 10",
        'award.rounds[0].method: "average" is not one of mean, median, trimmed, zscore',
        'award.rounds[0].submissions_close: "31.08.2023" is not a date-time with a UTC offset',
        'jurors[0].categories[1]: "mobility" is not a category of the award',
        'entries[1].ref: entry ref "E001" appears more than once',
        'entries[0].contact.email: "not-an-address" is not a valid e-mail address',
        "sheets[0].scores.impact: 11 is above the maximum 10",
        'sheets[0].scores.charm: "charm" is not a criterion of round "pre-selection"',
        'conflicts[1].juror: "nobody@example.org" is not one of the bundle\'s jurors',
    ]
    for message in expected:
        assert any(p.startswith(message) for p in problems), (message, problems)
    assert len(problems) >= 12
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["sheets"].append({**d["sheets"][0], "entry": "E001"}), "has a conflict with entry E001"),
        (lambda d: d["sheets"][0]["scores"].pop("innovation"), "sheets[0].scores.innovation: is missing"),
        (lambda d: d["sheets"][0]["scores"].update(impact=6.25), "6.25 is not on the scale (steps of 0.5 from 0)"),
        (lambda d: d["sheets"].append(dict(d["sheets"][0])), "a second sheet of j.doe@example.org for E002"),
        (lambda d: d["entries"][0].update(rounds=["final"]), 'entries[0].rounds[0]: "final" is not a round'),
        (lambda d: d.update(format="award-jury/bundle@2"), 'format: "award-jury/bundle@2" is not supported'),
        (lambda d: d["award"]["rounds"][0]["criteria"][1].update(step=3), "3 does not divide the range 0..10"),
        (lambda d: d["award"].update(time_zone="Mars/Olympus"), '"Mars/Olympus" is not a known time zone'),
        (lambda d: d["entries"][0]["startup"].pop("name"), "entries[0].startup.name: is required"),
        (lambda d: d["award"]["rounds"][0]["criteria"][0].update(weight=0), "weight: 0 must be greater than 0"),
    ],
)
async def test_bundle_mistake_is_reported_with_path(session: AsyncSession, mutate: Any, message: str) -> None:
    doc = small_bundle()
    mutate(doc)
    with pytest.raises(ValidationError) as info:
        await import_bundle(session, doc)
    assert any(message in p for p in info.value.problems), info.value.problems


async def test_zip_bundle_round_trip_carries_files(session: AsyncSession, tmp_path: Path) -> None:
    deck = b"%PDF-1.4\n% fake deck for the test\n%%EOF\n"
    sha = hashlib.sha256(deck).hexdigest()
    doc = small_bundle()
    doc["entries"][0]["attachments"] = [
        {"name": "deck.pdf", "sha256": sha, "size": len(deck), "media_type": "application/pdf"}
    ]
    storage = LocalStorage(tmp_path / "uploads")
    await import_bundle(session, doc, storage=storage, files={sha: deck})
    attachment = (await session.execute(sa.select(Attachment))).scalar_one()
    assert attachment.storage_key == sha and await storage.get(sha) == deck

    out = tmp_path / "export.zip"
    exported = await export_bundle(session, "mini-award")
    assert await write_bundle(exported, out, storage) == 1
    read_doc, files = read_bundle(out)
    assert canonical(read_doc) == canonical(doc)
    assert files == {sha: deck}


async def test_zip_bundle_with_wrong_size_is_refused(session: AsyncSession) -> None:
    deck = b"%PDF-1.4\n%%EOF\n"
    sha = hashlib.sha256(deck).hexdigest()
    doc = small_bundle()
    doc["entries"][0]["attachments"] = [
        {"name": "deck.pdf", "sha256": sha, "size": 999, "media_type": "application/pdf"}
    ]
    with pytest.raises(ValidationError) as info:
        await import_bundle(session, doc, files={sha: deck})
    assert info.value.problems == ["entries[0].attachments[0].size: 999 does not match the file's 15 bytes"]


async def test_juror_in_two_awards_is_one_person(session: AsyncSession) -> None:
    await import_bundle(session, small_bundle("first-award"))
    await import_bundle(session, small_bundle("second-award"))
    first = await export_bundle(session, "first-award")
    second = await export_bundle(session, "second-award")
    assert first["jurors"] == second["jurors"] == small_bundle()["jurors"]


async def test_nul_characters_in_texts_are_refused(session: AsyncSession) -> None:
    doc = small_bundle()
    doc["entries"][0]["pitch"] = "A\x00B"
    with pytest.raises(ValidationError) as info:
        await import_bundle(session, doc)
    assert info.value.problems == ["entries[0].pitch: contains a NUL character"]


async def test_organisers_list_is_imported_as_roles_and_exported_again(session: AsyncSession) -> None:
    doc = small_bundle()
    doc["organisers"] = [
        {"email": "lead@award.example", "name": "Lea Lead"},
        {"email": "second@award.example", "name": "Sam Second"},
    ]
    await import_bundle(session, doc)
    award = (await session.execute(sa.select(Award).where(Award.slug == "mini-award"))).scalar_one()
    roles = (
        await session.execute(
            sa.select(Person.email, AwardRole.role)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(AwardRole.award_id == award.id, AwardRole.role == Role.ORGANISER)
            .order_by(Person.email)
        )
    ).all()
    assert [(email, role) for email, role in roles] == [
        ("lead@award.example", Role.ORGANISER),
        ("second@award.example", Role.ORGANISER),
    ]
    exported = await export_bundle(session, "mini-award")
    assert exported["organisers"] == doc["organisers"]
    assert canonical(exported) == canonical(doc)


async def test_bundle_without_organisers_exports_none() -> None:
    assert "organisers" not in small_bundle() and "organisers" not in demo_bundle()


@pytest.mark.parametrize(
    ("organisers", "message"),
    [
        ([{"email": "not-an-address", "name": "X"}], 'organisers[0].email: "not-an-address" is not a valid e-mail'),
        ([{"email": "a@award.example"}], "organisers[0].name: is required"),
        ([{"email": "a@award.example", "name": "A", "role": "boss"}], "organisers[0]"),
        (
            [{"email": "a@award.example", "name": "A"}, {"email": "A@award.example", "name": "B"}],
            "organisers",
        ),
        ("everyone", "organisers"),
    ],
)
async def test_bad_organisers_are_refused_and_change_nothing(
    session: AsyncSession, organisers: Any, message: str
) -> None:
    doc = small_bundle()
    doc["organisers"] = organisers
    before = await row_counts(session)
    with pytest.raises(ValidationError) as info:
        await import_bundle(session, doc)
    assert any(message in p for p in info.value.problems), info.value.problems
    assert await row_counts(session) == before
