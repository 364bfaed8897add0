"""A person's own data download (GDPR Art. 15): everything stored about them, and
nothing of anyone else's beyond what their pages already show them."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.personal_data import export_personal_data
from award_jury.accounts.tokens import TokenRequest, create_token
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Criterion
from award_jury.db import Database, utcnow
from award_jury.entries.models import Attachment, Entry, EntryMember
from award_jury.enums import MemberRole, SheetStatus
from award_jury.judging.models import Conflict, Score, ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import EN, make_person, sign_in_as
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle

Client = httpx.AsyncClient
#: Planted in other people's records: none may appear in the wrong person's download.
OTHER_JUROR_COMMENT = "MARKER-other-juror-comment"
OTHER_JUROR_NOTE = "MARKER-other-juror-note"
OTHER_ENTRY_PITCH = "MARKER-other-entry-pitch"
OWN_COMMENT = "own comment of juror one"
OWN_NOTE = "own private note of juror one"
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$MARKERsalt$MARKERhashvalue"


async def person_id(db: Database, email: str) -> int:
    async with db.session() as s:
        return int((await s.execute(sa.select(Person.id).where(Person.email == email))).scalar_one())


async def add_sheets(db: Database, world: ScoringWorld, juror: int, refs: list[str], comment: str, note: str) -> None:
    async with db.session() as s:
        criteria = list((await s.execute(sa.select(Criterion).order_by(Criterion.position, Criterion.id))).scalars())
        round_id = criteria[0].round_id
        for ref in refs:
            s.add(
                ScoreSheet(
                    juror_id=juror,
                    entry_id=world.entries[ref],
                    round_id=round_id,
                    status=SheetStatus.SUBMITTED,
                    comment=f"{comment} {ref}",
                    private_note=note,
                    scores=[
                        Score(criterion_id=c.id, value=Decimal("7.5") if c.key == "impact" else Decimal(8))
                        for c in criteria
                    ],
                )
            )


async def world_with_people(db: Database, slug: str = "gdpr-award", entries: int = 3) -> ScoringWorld:
    """Juror 1 and juror 2 scored every entry; contact1 runs E001 (with a co-editor and a file),
    contact2 runs E002; other people's records carry the markers."""
    async with db.session() as s:
        world = await build_world(s, scoring_bundle(slug, entries=entries, jurors=2))
    juror1, juror2 = world.jurors
    refs = sorted(world.entries)
    await add_sheets(db, world, juror1, refs, OWN_COMMENT, OWN_NOTE)
    await add_sheets(db, world, juror2, refs, OTHER_JUROR_COMMENT, OTHER_JUROR_NOTE)
    editor = await make_person(db, "co.editor@startup.example", "Cora Coeditor")
    async with db.session() as s:
        e1 = await s.get(Entry, world.entries["E001"])
        e2 = await s.get(Entry, world.entries["E002"])
        assert e1 is not None and e2 is not None
        e2.pitch = OTHER_ENTRY_PITCH
        s.add(EntryMember(entry_id=e1.id, person_id=editor, role=MemberRole.EDITOR))
        s.add(Attachment(entry_id=e1.id, name="deck.pdf", sha256="a" * 64, size=12345, media_type="application/pdf"))
        s.add(
            Conflict(
                juror_id=juror1, entry_id=world.entries["E003"], reason="own conflict reason", declared_by_id=juror1
            )
        )
        s.add(Conflict(juror_id=juror2, entry_id=world.entries["E001"], reason="MARKER-other-conflict"))
        j1 = await s.get(Person, juror1)
        assert j1 is not None
        j1.password_hash = FAKE_HASH
    return world


async def download(client: Client) -> tuple[httpx.Response, dict[str, Any]]:
    response = await client.get("/account/data", headers=EN)
    assert response.status_code == 200, response.text[:300]
    return response, json.loads(response.content)


async def test_a_juror_downloads_their_sheets_sessions_and_conflicts_and_nothing_of_others(
    client: Client, db: Database, settings: Settings
) -> None:
    world = await world_with_people(db)
    juror1 = world.jurors[0]
    token = await sign_in_as(client, db, settings, juror1)
    async with db.session() as s:
        row, api_token = await create_token(
            s, await s.get_one(Person, juror1), TokenRequest("CRM sync", 30), utcnow(), via="test"
        )
        api_token_hash = row.token_hash

    response, data = await download(client)

    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="award-jury-my-data-\d{4}-\d{2}-\d{2}\.json"', disposition)
    assert response.headers["cache-control"] == "no-store"
    assert data["person"]["email"] == "juror1@jury.example" and data["person"]["name"] == "Juror 1"
    assert data["password"]["stored"] is True
    assert [r["role"] for r in data["roles"]] == ["juror"]
    assert data["roles"][0]["award"] == {"slug": "gdpr-award", "name": "Mini Award"}
    sheets = data["score_sheets"]
    assert [(s["entry"]["ref"], s["status"], s["comment"], s["private_note"]) for s in sheets] == [
        (ref, "submitted", f"{OWN_COMMENT} {ref}", OWN_NOTE) for ref in ("E001", "E002", "E003")
    ]
    assert sheets[0]["scores"] == [
        {"criterion": "innovation", "name": "Innovation", "value": "8"},
        {"criterion": "impact", "name": "Impact", "value": "7.5"},
    ]
    assert [a["entry"]["ref"] for a in data["assignments"]] == ["E001", "E002", "E003"]
    assert [(c["entry"]["ref"], c["reason"], c["declared_by"]) for c in data["conflicts"]] == [
        ("E003", "own conflict reason", "you")
    ]
    assert [c["category"]["slug"] for c in data["juror_categories"]] == ["smart-city"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["ip"] == "192.0.2.1"
    assert [(t["prefix"], t["label"], t["revoked_at"]) for t in data["api_tokens"]] == [
        (api_token[: len(data["api_tokens"][0]["prefix"])], "CRM sync", None)
    ]
    assert data["api_tokens"][0]["expires_at"] is not None
    assert data["entries"] == []

    text = response.text
    for secret in (
        api_token,
        api_token_hash,
        FAKE_HASH,
        "MARKERhashvalue",
        token,
        OTHER_JUROR_COMMENT,
        OTHER_JUROR_NOTE,
        "MARKER-other-conflict",
        "juror2@jury.example",
        "Juror 2",
        "contact1@startup.example",
        "Contact Person 1",
        OTHER_ENTRY_PITCH,
    ):
        assert secret not in text, secret
    async with db.session() as s:
        events = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "personal_data.exported"))).all()
    assert [(e.actor_id, e.object_id) for (e,) in events] == [(juror1, str(juror1))]


async def test_a_startup_contact_downloads_their_entry_with_files_and_co_editors_and_nothing_of_others(
    client: Client, db: Database, settings: Settings
) -> None:
    await world_with_people(db)
    contact1 = await person_id(db, "contact1@startup.example")
    await sign_in_as(client, db, settings, contact1)

    response, data = await download(client)

    assert data["person"]["email"] == "contact1@startup.example"
    assert data["password"] == {"stored": False, "stored_as": None, "last_changed_at": None}
    assert data["score_sheets"] == [] and data["assignments"] == [] and data["conflicts"] == []
    [entry] = data["entries"]
    assert entry["ref"] == "E001" and entry["your_role"] == "contact" and entry["status"] == "submitted"
    assert entry["title"] == "Entry number 1" and entry["pitch"] == "Pitch of entry 1."
    assert entry["startup"]["name"] == "Startup 1 GmbH"
    assert entry["files"] == [
        {
            "name": "deck.pdf",
            "size": 12345,
            "media_type": "application/pdf",
            "uploaded_at": entry["files"][0]["uploaded_at"],
        }
    ]
    # The entry's page shows its members to each other: so does the download.
    assert sorted(p["email"] for p in entry["people_who_can_edit"]) == [
        "co.editor@startup.example",
        "contact1@startup.example",
    ]
    assert [e["action"] for e in data["events"]] == ["signin.succeeded"]
    assert "ip" in data["events"][0]

    text = response.text
    for secret in (
        OTHER_ENTRY_PITCH,
        "contact2@startup.example",
        "Contact Person 2",
        "Startup 2 GmbH",
        OWN_COMMENT,
        OWN_NOTE,
        OTHER_JUROR_COMMENT,
        OTHER_JUROR_NOTE,
        "MARKER-other-conflict",
        "juror1@jury.example",
        "juror2@jury.example",
        "sha256",
        "a" * 64,
    ):
        assert secret not in text, secret


async def test_an_event_by_someone_else_about_the_person_names_neither_who_nor_from_where(
    client: Client, db: Database, settings: Settings
) -> None:
    world = await world_with_people(db)
    organiser = await make_person(db, "olga@example.org", "Olga Organiser")
    async with db.session() as s:
        s.add(
            AuditEvent(
                action="juror.categories",
                actor_id=organiser,
                award_id=world.award_id,
                object_type="person",
                object_id=str(world.jurors[0]),
                after={"categories": ["smart-city"]},
                ip="198.51.100.77",
            )
        )
    await sign_in_as(client, db, settings, world.jurors[0])

    response, data = await download(client)

    [event] = [e for e in data["events"] if e["action"] == "juror.categories"]
    assert event["by"] == "someone else" and event["after"] == {"categories": ["smart-city"]} and "ip" not in event
    assert "198.51.100.77" not in response.text and "Olga" not in response.text


async def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = await client.get("/account/data", headers=EN)

    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Faccount%2Fdata"


@pytest.mark.parametrize("who", ["juror1@jury.example", "contact1@startup.example"])
async def test_the_download_needs_the_same_queries_for_1_or_30_entries_and_sheets(
    db: Database, count_queries: Any, who: str
) -> None:
    counts = []
    for slug, n in (("one-entry", 1), ("thirty-entries", 30)):
        async with db.session() as s:
            doc = scoring_bundle(slug, entries=n, jurors=1)
            for e in doc["entries"]:  # one contact for every entry of this award
                e["contact"] = {"email": f"{slug}-{who}", "name": "Same Contact"}
            doc["jurors"][0]["email"] = f"{slug}-{who}"
            if who.startswith("contact"):
                doc["jurors"] = [{"email": f"{slug}-juror@jury.example", "name": "J", "categories": ["smart-city"]}]
            world = await build_world(s, doc)
        person = await person_id(db, f"{slug}-{who}")
        if who.startswith("juror"):
            await add_sheets(db, world, person, sorted(world.entries), "c", "n")
        async with db.session() as s:
            row = await s.get(Person, person)
            assert row is not None
            count_queries.statements.clear()
            data = await export_personal_data(s, row)
            counts.append(count_queries.count)
        rows = data["score_sheets"] if who.startswith("juror") else data["entries"]
        assert len(rows) == n
    assert counts[0] == counts[1], counts
