"""Every event is queued once, in the transaction of the change it reports: submitting an entry,
submitting a sheet, finalising, publishing and issuing certificates (pages and command line go
through the same services). A change that is rolled back queues nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from award_jury.accounts.services import get_or_create_person
from award_jury.awards.models import Award
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.certificates.services import issue_certificates
from award_jury.cli import cli
from award_jury.db import Database
from award_jury.entries.services import Upload, load_entry, save_entry, start_application
from award_jury.entries.storage import LocalStorage
from award_jury.judging import sheets
from award_jury.ranking.services import finalise_round, publish_round
from award_jury.webhooks.models import PENDING, WebhookDelivery
from tests.support.entries import DURING_CALL, complete_values, make_pdf
from tests.support.factories import small_bundle
from tests.support.scoring import build_world, scoring_bundle
from tests.support.webhooks import add_endpoint, bodies, deliveries

SLUG = "mini-award"


def complete_bundle() -> dict[str, Any]:
    """One entry (E002) with its one submitted sheet; every window closed in 2023."""
    doc = small_bundle(SLUG)
    doc["entries"] = [e for e in doc["entries"] if e["ref"] != "E001"]
    doc["conflicts"] = []
    return doc


async def imported(db: Database, doc: dict[str, Any]) -> int:
    async with db.session() as s:
        return (await import_bundle(s, doc)).id


async def test_finalise_publish_and_certificates_each_queue_one_event_with_refs(
    db: Database, count_queries: Any
) -> None:
    award_id = await imported(db, complete_bundle())
    endpoint = await add_endpoint(db, award_id)
    async with db.session() as s:
        award = await get_award(s, SLUG)
        rnd = award.rounds[0]
        snapshot = await finalise_round(s, award, rnd, None, actor_label="test")
    async with db.session() as s:
        award = await get_award(s, SLUG)
        await publish_round(s, award, award.rounds[0], None, actor_label="test")
    async with db.session() as s:
        award = await get_award(s, SLUG)
        count_queries.statements.clear()
        issued = await issue_certificates(s, award, award.rounds[0], "all", None)
        # one look at the endpoints for the whole batch, however many certificates are new
        assert len([q for q in count_queries.statements if "FROM webhook_endpoint" in q]) == 1
        again = await issue_certificates(s, award, award.rounds[0], "all", None)  # a reissue is no new event
        assert [c.id for c in again] == [c.id for c in issued]

    rows = await deliveries(db)
    assert {(d.endpoint_id, d.status, d.attempts) for d in rows} == {(endpoint.id, PENDING, 0)}
    docs = bodies(rows)
    assert [d["type"] for d in docs] == ["round.finalised", "results.published"] + ["certificate.issued"] * len(issued)
    assert docs[0]["data"] == {
        "award": SLUG,
        "round": "pre-selection",
        "method": "mean",
        "sha256": snapshot.sha256,
        "finalised_at": docs[0]["data"]["finalised_at"],
    }
    assert docs[1]["data"] == {"award": SLUG, "round": "pre-selection", "published_at": docs[1]["data"]["published_at"]}
    assert sorted((d["data"]["entry"], d["data"]["kind"]) for d in docs[2:]) == sorted(
        ("E002", c.kind.value) for c in issued
    )
    assert {d["data"]["certificate_id"] for d in docs[2:]} == {c.id for c in issued}
    assert all(d["timestamp"].endswith("Z") for d in docs)
    assert len({d.message_id for d in rows}) == len(rows)
    # ids and refs only: no names, no e-mail addresses
    assert "@" not in "".join(d.body for d in rows)


async def test_sheet_submission_queues_one_event_and_saves_and_resubmits_none(db: Database) -> None:
    async with db.session() as s:
        world = await build_world(s, scoring_bundle(entries=1, jurors=1))
    await add_endpoint(db, world.award_id, events=("sheet.submitted",))
    juror = world.jurors[0]
    scores = {"innovation": "7", "impact": "6.5"}
    async with db.session() as s:
        award = await get_award(s, world.slug)
        rnd = award.rounds[0]
        access = await sheets.sheet_access(s, award, rnd, juror, "E001")
        saved = await sheets.save_sheet(
            s, award, rnd, access, juror, version=0, given=sheets.SheetInput(scores={"innovation": "7"})
        )
        submitted = await sheets.save_sheet(
            s, award, rnd, access, juror, version=saved.version, given=sheets.SheetInput(scores), action=sheets.SUBMIT
        )
        # changing a submitted sheet is "sheet.changed" in the audit log, not a second submission
        await sheets.save_sheet(
            s,
            award,
            rnd,
            access,
            juror,
            version=submitted.version,
            given=sheets.SheetInput(scores | {"impact": "8"}),
            action=sheets.SUBMIT,
        )
    docs = bodies(await deliveries(db))
    assert len(docs) == 1
    assert docs[0]["type"] == "sheet.submitted"
    data = docs[0]["data"]
    assert (data["award"], data["round"], data["entry"], data["juror_id"]) == (
        world.slug,
        "pre-selection",
        "E001",
        juror,
    )
    assert isinstance(data["sheet_id"], int)


async def test_entry_submission_queues_one_event_and_a_draft_save_none(db: Database, tmp_path: Path) -> None:
    award_id = await imported(db, small_bundle(SLUG))
    await add_endpoint(db, award_id, events=("entry.submitted",))
    storage = LocalStorage(tmp_path)
    async with db.session() as s:
        award = await get_award(s, SLUG)
        person = await get_or_create_person(s, "founder@startup.example", "Fay Founder", "en")
        started = await start_application(s, award, person, DURING_CALL)
        await s.flush()
        entry = await load_entry(s, started.id)
        upload = Upload(make_pdf(), "deck.pdf", None)
        await save_entry(
            s, entry, complete_values(), version=None, now=DURING_CALL, actor=person, storage=storage, upload=upload
        )
        assert await deliveries(db) == []  # a draft is not submitted
        await save_entry(
            s, entry, complete_values(), version=None, now=DURING_CALL, actor=person, storage=storage, submit=True
        )
        entry_id, ref = entry.id, entry.ref
    docs = bodies(await deliveries(db))
    assert docs == [
        {
            "type": "entry.submitted",
            "timestamp": "2023-07-01T10:00:00Z",
            "data": {
                "award": SLUG,
                "entry": {"id": entry_id, "ref": ref, "category": "smart-city"},
                "submitted_at": "2023-07-01 10:00:00+00:00",
            },
        }
    ]


async def test_rolled_back_change_queues_nothing(db: Database) -> None:
    award_id = await imported(db, complete_bundle())
    await add_endpoint(db, award_id)

    class Crash(Exception):
        pass

    async def finalise_then_crash() -> None:
        async with db.session() as s:
            award = await get_award(s, SLUG)
            await finalise_round(s, award, award.rounds[0], None, actor_label="test")
            queued = (await s.execute(sa.select(sa.func.count()).select_from(WebhookDelivery))).scalar_one()
            assert queued == 1  # queued inside the transaction …
            raise Crash  # … which never commits

    with pytest.raises(Crash):
        await finalise_then_crash()
    assert await deliveries(db) == []
    async with db.session() as s:
        assert (await get_award(s, SLUG)).rounds[0].finalised_at is None


async def test_only_active_endpoints_that_chose_the_event_get_it(db: Database) -> None:
    award_id = await imported(db, complete_bundle())
    chosen = await add_endpoint(db, award_id, events=("round.finalised",))
    await add_endpoint(db, award_id, events=("results.published",))
    off = await add_endpoint(db, award_id, events=("round.finalised",))
    async with db.session() as s:
        await s.execute(sa.update(type(off)).where(type(off).id == off.id).values(active=False))
    other = await imported(db, complete_bundle() | {"award": complete_bundle()["award"] | {"slug": "other-award"}})
    await add_endpoint(db, other, events=("round.finalised",))
    async with db.session() as s:
        award = await get_award(s, SLUG)
        await finalise_round(s, award, award.rounds[0], None, actor_label="test")
    assert [(d.endpoint_id, d.event_type) for d in await deliveries(db)] == [(chosen.id, "round.finalised")]


def test_command_line_finalise_and_publish_queue_their_events(make_database_url: Any, tmp_path: Path) -> None:
    """``award-jury finalise`` / ``publish`` go through the same services, so they queue the same events."""
    import asyncio

    url = make_database_url("whcli")
    env = {"AWARD_JURY_DATABASE_URL": url, "AWARD_JURY_DATA_DIR": str(tmp_path), "AWARD_JURY_SECRET_KEY": "k" * 32}
    runner = CliRunner()
    bundle = tmp_path / "award.json"
    bundle.write_text(json.dumps(complete_bundle()), encoding="utf-8")
    assert runner.invoke(cli, ["import", str(bundle)], env=env).exit_code == 0

    async def register() -> None:
        database = Database.from_url(url)
        try:
            async with database.session() as s:
                award_id = (await s.execute(sa.select(Award.id).where(Award.slug == SLUG))).scalar_one()
            await add_endpoint(database, award_id)
        finally:
            await database.dispose()

    asyncio.run(register())
    assert runner.invoke(cli, ["finalise", SLUG], env=env).exit_code == 0
    assert runner.invoke(cli, ["publish", SLUG], env=env).exit_code == 0

    async def queued() -> list[str]:
        database = Database.from_url(url)
        try:
            return [d.event_type for d in await deliveries(database)]
        finally:
            await database.dispose()

    assert asyncio.run(queued()) == ["round.finalised", "results.published"]
