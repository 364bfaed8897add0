"""Being on an entry's team (its contact or a co-editor) is a conflict of interest with it,
whatever the order of events: the planner never assigns the pair, a manual assignment is
refused beside the field, the sheet cannot be opened, saved or submitted, a legacy sheet does
not count in the ranking, a bundle with such a sheet is refused, and the organiser sees the
conflict (recorded automatically, not removable)."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts.invitations import accept, invite
from award_jury.accounts.models import Person
from award_jury.awards.models import Award, Round
from award_jury.bundle.services import export_bundle, import_bundle
from award_jury.bundle.validate import validate_bundle
from award_jury.db import Database, utcnow
from award_jury.entries.models import Entry, EntryMember
from award_jury.entries.services import add_member
from award_jury.enums import MemberRole, Role, SheetStatus
from award_jury.errors import FormError, ValidationError
from award_jury.i18n import current_locale
from award_jury.judging.models import Assignment, Conflict, Score, ScoreSheet
from award_jury.ranking.queries import rank
from award_jury.settings import Settings
from tests.support.accounts import make_person, sign_in_as
from tests.support.csrf import csrf_token
from tests.support.scoring import ROUND, ScoringWorld, build_world, post_sheet, scoring_bundle, sheet_path

SLUG = "team-award"
EN = {"accept-language": "en"}
PAGE = f"/awards/{SLUG}/rounds/{ROUND}/assignments"
CONTACT = "contact1@startup.example"  # the contact of E001 (from the bundle)
CO_EDITOR = "cofounder@startup.example"


@pytest.fixture
async def world(db: Database) -> ScoringWorld:
    async with db.session() as s:
        return await build_world(s, scoring_bundle(SLUG, entries=4, jurors=2), assign_all=False)


async def person_id(db: Database, email: str) -> int:
    async with db.session() as s:
        return int((await s.execute(sa.select(Person.id).where(Person.email == email))).scalar_one())


async def as_organiser(client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld) -> int:
    organiser = await make_person(db, "chair@example.org", "Clara Chair", role=Role.ORGANISER, award_id=world.award_id)
    await client.get("/")  # the CSRF cookie
    await sign_in_as(client, db, settings, organiser)
    return organiser


async def award_of(s: AsyncSession, world: ScoringWorld) -> Award:
    query = (
        sa.select(Award)
        .where(Award.id == world.award_id)
        .options(selectinload(Award.categories), selectinload(Award.rounds).selectinload(Round.criteria))
    )
    return (await s.execute(query)).scalar_one()


async def team_member(db: Database, world: ScoringWorld, role: str) -> int:
    """A person on E001's team: its contact (applied), or a co-editor the contact added."""
    if role == "contact":
        return await person_id(db, CONTACT)
    async with db.session() as s:
        entry = await s.get(Entry, world.entries["E001"])
        assert entry is not None
        await s.refresh(entry, ["members"])
        contact = (await s.execute(sa.select(Person).where(Person.email == CONTACT))).scalar_one()
        return (await add_member(s, entry, CO_EDITOR, "Cora Founder", actor=contact)).id


async def joins_jury(db: Database, world: ScoringWorld, email: str, organiser: int) -> int:
    """The person is invited to the award's jury and accepts (the invitation service)."""
    async with db.session() as s:
        award = await s.get(Award, world.award_id)
        inviter = await s.get(Person, organiser)
        assert award is not None and inviter is not None
        _invitation, token = await invite(
            s,
            award,
            email=email,
            name="",
            role=Role.JUROR,
            categories=["smart-city"],
            invited_by=inviter,
            now=utcnow(),
        )
        _invitation, person = await accept(s, token, utcnow())
        return person.id


async def pairs(db: Database) -> set[tuple[int, int]]:
    async with db.session() as s:
        return {(j, e) for j, e in await s.execute(sa.select(Assignment.juror_id, Assignment.entry_id))}


# -- (a) applied first, then joined the jury ---------------------------------------------------


@pytest.mark.parametrize("role", ["contact", "editor"])
async def test_team_member_who_joins_the_jury_is_never_planned_for_their_own_entry(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, role: str
) -> None:
    organiser = await as_organiser(client, db, settings, world)
    member = await team_member(db, world, role)
    assert await joins_jury(db, world, CONTACT if role == "contact" else CO_EDITOR, organiser) == member

    preview = await client.get(PAGE, params={"k": "3"}, headers=EN)
    applied = await client.post(PAGE, data={"k": "3", "_csrf_token": csrf_token(client)}, follow_redirects=False)

    assert preview.status_code == 200
    assert "E001 (Smart City): 2 of 3 jurors" in preview.text
    assert applied.status_code == 303
    stored = await pairs(db)
    assert (member, world.entries["E001"]) not in stored
    assert {e for j, e in stored if j == member} == {world.entries[r] for r in ("E002", "E003", "E004")}


@pytest.mark.parametrize("role", ["contact", "editor"])
async def test_manual_assignment_of_a_team_member_to_their_own_entry_is_refused_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, role: str
) -> None:
    organiser = await as_organiser(client, db, settings, world)
    member = await team_member(db, world, role)
    await joins_jury(db, world, CONTACT if role == "contact" else CO_EDITOR, organiser)
    entry_id = world.entries["E001"]

    page = await client.get(PAGE, headers=EN)
    refused = await client.post(
        f"{PAGE}/add",
        data={"juror": str(member), "entry": str(entry_id), "_csrf_token": csrf_token(client)},
        headers=EN,
    )

    form = page.text.split(f'id="assign-{entry_id}"', 1)[1].split("</select>", 1)[0]
    assert f'value="{member}"' not in form  # not offered
    assert refused.status_code == 400
    error = re.search(rf'<p class="field-error" id="assign-{entry_id}-error">([^<]*)</p>', refused.text)
    assert error is not None
    assert error.group(1) == "This juror is on the entry&#39;s team (its contact or a co-editor) and cannot judge it."
    assert await pairs(db) == set()


# -- (b) on the jury first: joining the team is refused; legacy data still cannot score -------


async def test_a_juror_cannot_be_added_to_the_team_of_an_entry(db: Database, world: ScoringWorld) -> None:
    async with db.session() as s:
        entry = await s.get(Entry, world.entries["E002"])
        assert entry is not None
        await s.refresh(entry, ["members"])
        contact = (await s.execute(sa.select(Person).where(Person.email == "contact2@startup.example"))).scalar_one()
        language = current_locale.set("en")
        try:
            with pytest.raises(FormError) as refused:
                await add_member(s, entry, "juror1@jury.example", "", actor=contact)
        finally:
            current_locale.reset(language)
        assert refused.value.errors == {
            "member_email": "This person is on the award's jury and cannot work on an entry."
        }
        members = await s.execute(sa.select(EntryMember.person_id).where(EntryMember.entry_id == entry.id))
        assert world.jurors[0] not in set(members.scalars())


async def legacy_team_juror(db: Database, world: ScoringWorld, ref: str) -> int:
    """Data from before the rule: juror 1 is assigned to ``ref`` and on its team."""
    juror, entry_id = world.jurors[0], world.entries[ref]
    async with db.session() as s:
        rnd_id = (await award_of(s, world)).rounds[0].id
        s.add(Assignment(round_id=rnd_id, juror_id=juror, entry_id=entry_id))
        s.add(EntryMember(entry_id=entry_id, person_id=juror, role=MemberRole.EDITOR))
    return juror


async def test_a_juror_on_the_team_of_an_assigned_entry_can_neither_open_nor_save_nor_submit_its_sheet(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await legacy_team_juror(db, world, "E002")
    await client.get("/")
    await sign_in_as(client, db, settings, juror)

    dashboard = await client.get(f"/awards/{SLUG}/rounds/{ROUND}/jury", headers=EN)
    opened = await client.get(sheet_path(SLUG, "E002"), headers=EN)
    saved = await post_sheet(client, SLUG, "E002", 0, "save", score_innovation="10")
    submitted = await post_sheet(client, SLUG, "E002", 0, "submit", score_innovation="10", score_impact="10")

    assert dashboard.status_code == 200
    assert "E002" not in dashboard.text
    assert (opened.status_code, saved.status_code, submitted.status_code) == (404, 404, 404)
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(ScoreSheet))).scalar_one() == 0


async def test_the_plan_drops_an_assignment_of_a_juror_to_their_own_entry(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await legacy_team_juror(db, world, "E002")
    await as_organiser(client, db, settings, world)

    await client.post(PAGE, data={"k": "2", "_csrf_token": csrf_token(client)}, follow_redirects=False)

    stored = await pairs(db)
    assert (juror, world.entries["E002"]) not in stored
    assert {e for j, e in stored if j == juror} == {world.entries[r] for r in ("E001", "E003", "E004")}


# -- (c) a sheet stored before the rule does not count ---------------------------------------


async def test_a_legacy_sheet_of_a_team_member_does_not_count_in_the_ranking(db: Database, world: ScoringWorld) -> None:
    juror = await legacy_team_juror(db, world, "E002")
    async with db.session() as s:
        award = await award_of(s, world)
        rnd = award.rounds[0]
        sheet = ScoreSheet(
            juror_id=juror,
            entry_id=world.entries["E002"],
            round_id=rnd.id,
            status=SheetStatus.SUBMITTED,
            submitted_at=utcnow(),
        )
        s.add(sheet)
        await s.flush()
        s.add_all(Score(sheet_id=sheet.id, criterion_id=c.id, value=Decimal(10)) for c in rnd.criteria)
        await s.flush()
        (category,) = [c for c in await rank(s, award, rnd) if c.category == "smart-city"]

    by_ref = {e.ref: e for e in category.entries}
    assert (by_ref["E002"].sheets, by_ref["E002"].score, by_ref["E002"].rank) == (0, None, None)


# -- (d) bundles -----------------------------------------------------------------------------


def contact_scores_own_entry() -> dict[str, object]:
    doc = scoring_bundle(SLUG, entries=2, jurors=1)
    doc["entries"][1]["contact"] = {"email": "Juror1@Jury.example", "name": "Juror 1"}
    doc["sheets"] = [
        {
            "juror": "juror1@jury.example",
            "entry": "E002",
            "round": ROUND,
            "status": "submitted",
            "scores": {"innovation": 10, "impact": 10},
            "comment": "",
        },
    ]
    return doc


def test_a_bundle_where_a_contact_scores_their_own_entry_is_invalid() -> None:
    assert validate_bundle(contact_scores_own_entry()) == [
        "sheets[0]: juror1@jury.example is on the team of entry E002 (its contact) and cannot score it"
    ]


async def test_importing_a_bundle_where_a_contact_scores_their_own_entry_changes_nothing(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(ValidationError):
            await import_bundle(s, contact_scores_own_entry())
        assert (await s.execute(sa.select(Award.id).where(Award.slug == SLUG))).first() is None


# -- (e) the organiser sees it ---------------------------------------------------------------


@pytest.mark.parametrize(("role", "shown"), [("contact", "Contact of the entry"), ("editor", "Co-editor of the entry")])
async def test_the_conflicts_page_shows_a_team_conflict_recorded_automatically_without_remove(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, role: str, shown: str
) -> None:
    organiser = await as_organiser(client, db, settings, world)
    await team_member(db, world, role)
    await joins_jury(db, world, CONTACT if role == "contact" else CO_EDITOR, organiser)

    page = await client.get(f"/awards/{SLUG}/conflicts", headers=EN)

    assert page.status_code == 200
    table = page.text.split('id="h-recorded"', 1)[1].split('id="h-record"', 1)[0]
    rows = [r.split("</tr>", 1)[0] for r in table.split("<tr>") if "E001 – Startup 1 GmbH" in r]
    assert len(rows) == 1
    assert "On the entry's team" in rows[0]
    assert shown in rows[0]
    assert "Recorded automatically" in rows[0]
    assert "/delete" not in rows[0]
    assert "No conflicts recorded." not in page.text


async def test_export_leaves_out_a_legacy_sheet_of_the_entrys_contact_so_the_bundle_imports_again(
    db: Database, world: ScoringWorld
) -> None:
    juror, entry_id = world.jurors[0], world.entries["E002"]
    async with db.session() as s:
        award = await award_of(s, world)
        rnd = award.rounds[0]
        entry = await s.get(Entry, entry_id)
        assert entry is not None
        entry.contact_email = "juror1@jury.example"  # data from before the rule: the juror became its contact
        s.add(EntryMember(entry_id=entry_id, person_id=juror, role=MemberRole.CONTACT))
        for ref in ("E001", "E002"):
            sheet = ScoreSheet(
                juror_id=juror,
                entry_id=world.entries[ref],
                round_id=rnd.id,
                status=SheetStatus.SUBMITTED,
                submitted_at=utcnow(),
            )
            s.add(sheet)
            await s.flush()
            s.add_all(Score(sheet_id=sheet.id, criterion_id=c.id, value=Decimal(7)) for c in rnd.criteria)
        await s.flush()
        doc = await export_bundle(s, SLUG)

    assert [(sh["juror"], sh["entry"]) for sh in doc["sheets"]] == [("juror1@jury.example", "E001")]
    assert validate_bundle(doc) == []


async def test_recording_a_conflict_that_team_membership_makes_already_is_refused_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    organiser = await as_organiser(client, db, settings, world)
    member = await joins_jury(db, world, CONTACT, organiser)
    data = {
        "juror": str(member),
        "entry": str(world.entries["E001"]),
        "kind": "other",
        "reason": "Founder",
        "_csrf_token": csrf_token(client),
    }

    refused = await client.post(f"/awards/{SLUG}/conflicts", data=data, headers=EN)

    assert refused.status_code == 400
    error = re.search(r'<p class="field-error" id="[^"]*entry-error"><span[^>]*>[^<]*</span>([^<]*)</p>', refused.text)
    assert error is not None
    assert error.group(1) == "This juror is on the entry&#39;s team: that conflict is recorded automatically."
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Conflict))).scalar_one() == 0
