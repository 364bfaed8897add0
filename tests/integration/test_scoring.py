"""Jurors score in the browser: the dashboard, the entry page with its sheet, versioned saves
(form posts and autosave), validation, read-only rules, conflicts, the pitch deck and blindness."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.passwords import hash_password
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Round
from award_jury.db import Database, utcnow
from award_jury.entries.models import Attachment, Entry
from award_jury.entries.storage import LocalStorage
from award_jury.enums import EntryStatus, Role, SheetStatus
from award_jury.judging.dashboard import juror_order_key
from award_jury.judging.models import Assignment, Conflict, Score, ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import PASSWORD, choose_language, outbox, sign_in, sign_in_as
from tests.support.csrf import csrf_token
from tests.support.scoring import (
    ScoringWorld,
    autosave,
    build_world,
    post_sheet,
    scoring_bundle,
    sheet_path,
)

EN = {"accept-language": "en"}


@pytest.fixture
async def world(db: Database) -> ScoringWorld:
    async with db.session() as s:
        return await build_world(s, scoring_bundle())


async def as_juror(client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, n: int = 0) -> int:
    await client.get("/")  # the CSRF cookie
    await sign_in_as(client, db, settings, world.jurors[n])
    return world.jurors[n]


async def stored_sheet(db: Database, juror_id: int, entry_id: int) -> tuple[ScoreSheet | None, dict[int, Decimal]]:
    async with db.session() as s:
        sheet = (
            await s.execute(
                sa.select(ScoreSheet).where(ScoreSheet.juror_id == juror_id, ScoreSheet.entry_id == entry_id)
            )
        ).scalar_one_or_none()
        scores = {}
        if sheet is not None:
            scores = dict(
                (await s.execute(sa.select(Score.criterion_id, Score.value).where(Score.sheet_id == sheet.id))).all()
            )
        return sheet, scores


async def test_dashboard_lists_assigned_entries_in_a_stable_order_of_each_juror(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    orders = []
    for n in (0, 1):
        juror = await as_juror(client, db, settings, world, n)
        page = await client.get(f"/awards/{world.slug}/rounds/pre-selection/jury", headers=EN)
        assert page.status_code == 200
        refs = re.findall(r'data-ref="(E\d+)"', page.text)
        expected = sorted(world.entries, key=lambda ref: juror_order_key(juror, world.entries[ref]))
        assert refs == expected
        again = await client.get(f"/awards/{world.slug}/rounds/pre-selection/jury", headers=EN)
        assert re.findall(r'data-ref="(E\d+)"', again.text) == refs
        assert "0 of 4 sheets submitted" in page.text
        assert "contact1@startup.example" not in page.text
        orders.append(refs)
    assert sorted(orders[0]) == sorted(orders[1]) == ["E001", "E002", "E003", "E004"]


async def test_jury_link_leads_to_the_open_round(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    await as_juror(client, db, settings, world)
    response = await client.get(f"/awards/{world.slug}/jury", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/awards/{world.slug}/rounds/pre-selection/jury",
    )
    account = await client.get("/account", headers=EN)
    assert f'href="/awards/{world.slug}/jury"' in account.text


async def test_juror_signing_in_lands_on_the_scoring_dashboard_titled_for_scoring(
    client: httpx.AsyncClient, db: Database, world: ScoringWorld
) -> None:
    async with db.session() as s:
        await s.execute(
            sa.update(Person).where(Person.id == world.jurors[0]).values(password_hash=hash_password(PASSWORD))
        )
    response = await sign_in(client, "juror1@jury.example")
    assert (response.status_code, response.headers["location"]) == (303, f"/awards/{world.slug}/jury")
    dashboard = await client.get(response.headers["location"], headers=EN, follow_redirects=True)
    assert dashboard.status_code == 200 and str(dashboard.url).endswith("/rounds/pre-selection/jury")
    assert "<h1>Entries to score: " in dashboard.text and "Your entries" not in dashboard.text
    choose_language(client, "de")
    german = await client.get(f"/awards/{world.slug}/rounds/pre-selection/jury")
    assert "<h1>Zu bewertende Beiträge: " in german.text and "Ihre Beiträge" not in german.text
    sheet = await client.get(sheet_path(world.slug, "E001"))
    assert "Zu bewertende Beiträge" in sheet.text and "Ihre Beiträge" not in sheet.text
    # an explicit destination still wins
    await client.post("/signout", data={"_csrf_token": csrf_token(client)})
    again = await sign_in(client, "juror1@jury.example", next="/account")
    assert again.headers["location"] == "/account"


async def test_person_without_assignments_still_lands_on_the_account_page(
    client: httpx.AsyncClient, db: Database, world: ScoringWorld
) -> None:
    async with db.session() as s:
        await s.execute(sa.delete(Assignment).where(Assignment.juror_id == world.jurors[1]))
        await s.execute(
            sa.update(Person).where(Person.id == world.jurors[1]).values(password_hash=hash_password(PASSWORD))
        )
    response = await sign_in(client, "juror2@jury.example")
    assert (response.status_code, response.headers["location"]) == (303, "/account")


async def test_entry_page_shows_pitch_but_never_contact_details(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    await as_juror(client, db, settings, world)
    page = await client.get(sheet_path(world.slug, "E002"), headers=EN)
    assert page.status_code == 200
    assert "Pitch of entry 2." in page.text and "Startup 2 GmbH" in page.text
    assert "contact2@startup.example" not in page.text and "Contact Person 2" not in page.text
    # one labelled radio group per criterion, with the value descriptions
    assert page.text.count('type="radio" name="score-innovation"') == 12  # "not scored" and 0..10
    assert page.text.count('type="radio" name="score-impact"') == 22  # "not scored" and 0, 0.5, ... 10
    assert '<legend>Innovation <span class="muted">(weight 55' in page.text


async def test_autosave_creates_a_draft_and_every_save_moves_the_version_on(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await as_juror(client, db, settings, world)
    first = await autosave(client, world.slug, "E001", 0, score_innovation="7", comment="Good start")
    assert first.status_code == 200, first.text
    assert first.json() | {"version": 0} == {
        "ok": True,
        "version": 0,
        "status": "draft",
        "scores": {"innovation": "7"},
        "comment": "Good start",
        "private_note": "",
        "total": None,
    }
    v1 = first.json()["version"]
    second = await autosave(
        client, world.slug, "E001", v1, score_innovation="7", score_impact="6,5", comment="Good start"
    )
    assert second.status_code == 200
    assert second.json()["version"] > v1
    # T = 100 * (30 * 7/10 + 25 * 6.5/10) / 55
    assert second.json()["total"] == round(100 * (30 * 0.7 + 25 * 0.65) / 55, 4)
    sheet, scores = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.status == SheetStatus.DRAFT and sheet.comment == "Good start"
    assert sorted(scores.values()) == [Decimal("6.5"), Decimal("7")]


async def test_a_stale_save_answers_409_with_the_stored_sheet_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await as_juror(client, db, settings, world)
    tab_a = await autosave(client, world.slug, "E001", 0, score_innovation="8", comment="from tab A")
    version = tab_a.json()["version"]
    tab_b_first = await autosave(client, world.slug, "E001", 0, score_innovation="2", comment="from tab B")
    assert tab_b_first.status_code == 409
    assert tab_b_first.json() == {
        "error": "stale",
        "current": {
            "version": version,
            "status": "draft",
            "scores": {"innovation": "8"},
            "comment": "from tab A",
            "private_note": "",
            "total": None,
        },
    }
    sheet, scores = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.comment == "from tab A" and list(scores.values()) == [Decimal("8")]
    # the juror chooses their version: it is saved on top of the stored one
    kept = await autosave(client, world.slug, "E001", version, score_innovation="2", comment="from tab B")
    assert kept.status_code == 200 and kept.json()["comment"] == "from tab B"


async def test_stale_form_post_shows_both_versions_without_javascript(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    await as_juror(client, db, settings, world)
    saved = await autosave(client, world.slug, "E003", 0, score_innovation="9", comment="Saved on the laptop")
    page = await post_sheet(client, world.slug, "E003", 0, "save", score_innovation="3", comment="Typed on the phone")
    assert page.status_code == 409
    assert "This sheet was changed in another tab or on another device" in page.text
    assert "Saved on the laptop" in page.text  # the stored version, shown
    assert ">Typed on the phone</textarea>" in page.text  # the juror's version, still in the form
    assert f'name="version" value="{saved.json()["version"]}"' in page.text  # saving now keeps theirs


async def test_submit_needs_every_criterion_and_shows_the_problem_beside_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await as_juror(client, db, settings, world)
    page = await post_sheet(client, world.slug, "E002", 0, "submit", score_innovation="5")
    assert page.status_code == 422
    assert re.search(
        r'id="f-score-impact-error"><span class="visually-hidden">Error: </span>Score this criterion', page.text
    )
    assert (await stored_sheet(db, juror, world.entries["E002"]))[0] is None  # nothing saved
    done = await post_sheet(client, world.slug, "E002", 0, "submit", score_innovation="5", score_impact="7.5")
    assert (done.status_code, done.headers["location"]) == (303, sheet_path(world.slug, "E002") + "?saved=submit")
    sheet, _scores = await stored_sheet(db, juror, world.entries["E002"])
    assert sheet is not None and sheet.status == SheetStatus.SUBMITTED and sheet.submitted_at is not None
    async with db.session() as s:
        event = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "sheet.submitted"))).scalar_one()
    assert event.after == {
        "entry": "E002",
        "round": "pre-selection",
        "status": "submitted",
        "scores": {"impact": "7.5", "innovation": "5"},
        "comment": "",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11", "Choose a value from 0 to 10 in steps of 1."),
        ("2.5", "Choose a value from 0 to 10 in steps of 1."),
        ("x", "Enter a number, like 7.5."),
        ("-1", "Choose a value from 0 to 10 in steps of 1."),
    ],
)
async def test_invalid_scores_come_back_beside_the_field_and_nothing_is_saved(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, value: str, message: str
) -> None:
    juror = await as_juror(client, db, settings, world)
    response = await autosave(client, world.slug, "E004", 0, score_innovation=value, score_impact="4")
    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid", "errors": {"score-innovation": message}},
    )
    page = await post_sheet(client, world.slug, "E004", 0, "save", score_innovation=value)
    assert page.status_code == 422 and message in page.text
    assert (await stored_sheet(db, juror, world.entries["E004"]))[0] is None


async def test_a_submitted_sheet_changes_only_through_change_my_scores_and_a_new_submission(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await as_juror(client, db, settings, world)
    await post_sheet(client, world.slug, "E001", 0, "submit", score_innovation="5", score_impact="5")
    sheet, _ = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.submitted_at is not None
    first_submission = sheet.submitted_at
    path = sheet_path(world.slug, "E001")
    # shown read-only, with an explicit way to change it
    page = await client.get(path, headers=EN)
    assert '<fieldset class="sheet-fields" disabled>' in page.text and "data-read-only" in page.text
    assert f'<a class="button" href="{path}?change=1#sheet">Change my scores</a>' in page.text
    assert 'name="action"' not in page.text
    # autosave (a stray tap) never changes a submitted sheet, nor does a plain save
    tapped = await autosave(client, world.slug, "E001", sheet.version, score_innovation="6", score_impact="5")
    assert tapped.status_code == 409 and tapped.json()["error"] == "submitted"
    plain = await post_sheet(client, world.slug, "E001", sheet.version, "save", score_innovation="6", score_impact="5")
    assert plain.status_code == 409 and "Not saved: this sheet is submitted." in plain.text
    assert 'name="action" value="submit"' in plain.text  # the juror's values come back, ready to submit
    unchanged, scores = await stored_sheet(db, juror, world.entries["E001"])
    assert unchanged is not None and (unchanged.version, unchanged.status) == (sheet.version, SheetStatus.SUBMITTED)
    assert sorted(scores.values()) == [Decimal(5), Decimal(5)]
    # "Change my scores" opens the form (a plain link, no script needed); submitting again changes the sheet
    change = await client.get(f"{path}?change=1", headers=EN)
    assert '<fieldset class="sheet-fields">' in change.text and "data-read-only" not in change.text
    assert ">Submit changes</button>" in change.text and "Change my scores</a>" not in change.text
    resubmitted = await post_sheet(
        client, world.slug, "E001", sheet.version, "submit", score_innovation="6", score_impact="5"
    )
    assert resubmitted.status_code == 303
    sheet, scores = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.status == SheetStatus.SUBMITTED and sorted(scores.values()) == [5, 6]
    assert sheet.submitted_at is not None and sheet.submitted_at >= first_submission
    # a submitted sheet stays complete
    emptied = await post_sheet(client, world.slug, "E001", sheet.version, "submit", score_innovation="6")
    assert emptied.status_code == 422 and "f-score-impact-error" in emptied.text
    assert ">Submit changes</button>" in emptied.text  # still changing, with the problem beside the field
    reopened = await post_sheet(
        client, world.slug, "E001", sheet.version, "reopen", score_innovation="6", score_impact="5"
    )
    assert reopened.status_code == 303
    sheet, _ = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.status == SheetStatus.DRAFT and sheet.submitted_at is None
    async with db.session() as s:
        actions = list(
            (
                await s.execute(
                    sa.select(AuditEvent.action).where(AuditEvent.action.like("sheet.%")).order_by(AuditEvent.id)
                )
            ).scalars()
        )
    assert actions == ["sheet.submitted", "sheet.changed", "sheet.reopened"]


async def test_a_submitted_sheet_on_the_live_page_changes_only_after_change_my_scores(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    juror = await as_juror(client, db, settings, world)
    async with db.session() as s:
        await s.execute(
            sa.update(Round)
            .where(Round.award_id == world.award_id)
            .values(live_entry_id=world.entries["E002"], live_phase="pitch")
        )
    await post_sheet(client, world.slug, "E002", 0, "submit", score_innovation="5", score_impact="5")
    live = f"/awards/{world.slug}/rounds/pre-selection/live"
    page = await client.get(live, headers=EN)
    assert '<fieldset class="sheet-fields" disabled>' in page.text
    assert f'href="{live}?change=1#sheet">Change my scores</a>' in page.text
    change = await client.get(f"{live}?change=1", headers=EN)
    assert '<fieldset class="sheet-fields">' in change.text and ">Submit changes</button>" in change.text
    sheet, _ = await stored_sheet(db, juror, world.entries["E002"])
    assert sheet is not None
    data = {
        "version": str(sheet.version),
        "action": "submit",
        "back": "live",
        "_csrf_token": csrf_token(client),
        "score-innovation": "8",
        "score-impact": "5",
    }
    done = await client.post(sheet_path(world.slug, "E002"), data=data, headers=EN, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"{live}?saved=submit")
    _sheet, scores = await stored_sheet(db, juror, world.entries["E002"])
    assert sorted(scores.values()) == [5, 8]


async def close_round(db: Database, world: ScoringWorld, **values: object) -> None:
    async with db.session() as s:
        await s.execute(sa.update(Round).where(Round.award_id == world.award_id).values(**values))


@pytest.mark.parametrize("how", ["deadline", "finalised", "withdrawn"])
async def test_sheets_are_read_only_after_the_deadline_finalisation_or_withdrawal(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld, how: str
) -> None:
    juror = await as_juror(client, db, settings, world)
    saved = await autosave(client, world.slug, "E001", 0, score_innovation="7", comment="before")
    version = saved.json()["version"]
    if how == "deadline":
        await close_round(db, world, scoring_close=utcnow() - timedelta(seconds=1))
        message = "The scoring deadline has passed"
    elif how == "finalised":
        await close_round(db, world, finalised_at=utcnow())
        message = "The results of this round are final"
    else:
        async with db.session() as s:
            await s.execute(
                sa.update(Entry).where(Entry.id == world.entries["E001"]).values(status=EntryStatus.WITHDRAWN)
            )
        message = "This entry is no longer in the competition"
    late = await autosave(client, world.slug, "E001", version, score_innovation="1", comment="after")
    assert late.status_code == 409 and late.json()["error"] == "read_only" and message in late.json()["message"]
    form = await post_sheet(client, world.slug, "E001", version, "submit", score_innovation="1", score_impact="1")
    assert form.status_code == 409 and message in form.text
    page = await client.get(sheet_path(world.slug, "E001"), headers=EN)
    assert page.status_code == 200
    assert '<fieldset class="sheet-fields" disabled>' in page.text and message in page.text
    assert "Change my scores" not in page.text and "?change=1" not in page.text
    sheet, scores = await stored_sheet(db, juror, world.entries["E001"])
    assert sheet is not None and sheet.comment == "before" and list(scores.values()) == [Decimal("7")]


async def test_jurors_reach_only_their_own_entries(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    async with db.session() as s:
        await s.execute(
            sa.delete(Assignment).where(
                Assignment.juror_id == world.jurors[1], Assignment.entry_id == world.entries["E004"]
            )
        )
    await as_juror(client, db, settings, world, 0)
    await autosave(client, world.slug, "E004", 0, score_innovation="9", comment="JUROR-ONE-SECRET")
    await as_juror(client, db, settings, world, 1)
    assert (await client.get(sheet_path(world.slug, "E004"))).status_code == 404
    assert (await autosave(client, world.slug, "E004", 0, score_innovation="1")).status_code == 404
    assert (await client.get(sheet_path(world.slug, "E999"))).status_code == 404
    other = await client.get(sheet_path(world.slug, "E001"), headers=EN)
    assert "JUROR-ONE-SECRET" not in other.text
    board = await client.get(f"/awards/{world.slug}/rounds/pre-selection/jury", headers=EN)
    assert 'data-ref="E004"' not in board.text and "JUROR-ONE-SECRET" not in board.text
    # an organiser who is no juror of the award cannot score
    async with db.session() as s:
        organiser = await get_or_create_person(s, "orga@example.org", "Orga")
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
    await sign_in_as(client, db, settings, organiser.id)
    assert (await client.get(sheet_path(world.slug, "E001"))).status_code == 403


async def test_declaring_a_conflict_removes_the_entry_and_discards_the_sheet(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    async with db.session() as s:
        organiser = await get_or_create_person(s, "orga@example.org", "Orga")
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
    juror = await as_juror(client, db, settings, world)
    await autosave(client, world.slug, "E002", 0, score_innovation="4", comment="draft to discard")
    token = csrf_token(client)
    missing = await client.post(
        sheet_path(world.slug, "E002") + "/conflict", data={"_csrf_token": token, "kind": "investor"}, headers=EN
    )
    assert missing.status_code == 400 and "Say in a few words what the conflict is." in missing.text
    declared = await client.post(
        sheet_path(world.slug, "E002") + "/conflict",
        data={"_csrf_token": token, "kind": "investor", "reason": "I invested in them"},
        headers=EN,
        follow_redirects=False,
    )
    assert (declared.status_code, declared.headers["location"]) == (
        303,
        f"/awards/{world.slug}/rounds/pre-selection/jury?conflict=E002",
    )
    assert (await stored_sheet(db, juror, world.entries["E002"]))[0] is None
    async with db.session() as s:
        conflict = (await s.execute(sa.select(Conflict))).scalar_one()
        assigned = (
            await s.execute(
                sa.select(Assignment.id).where(
                    Assignment.juror_id == juror, Assignment.entry_id == world.entries["E002"]
                )
            )
        ).first()
        event = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "conflict.declared"))).scalar_one()
    assert (conflict.juror_id, conflict.reason, assigned) == (juror, "I invested in them", None)
    assert event.before is not None and event.before["sheets"][0]["comment"] == "draft to discard"
    board = await client.get(declared.headers["location"], headers=EN)
    assert 'data-ref="E002"' not in board.text and "Your conflict of interest with E002 is recorded" in board.text
    assert (await client.get(sheet_path(world.slug, "E002"))).status_code == 404
    assert [m["To"] for m in outbox(settings)] == ["orga@example.org"]


async def test_pitch_deck_is_served_inline_sandboxed_and_as_a_download(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    data = b"%PDF-1.4 deck of entry one"
    key = await LocalStorage(settings.uploads_dir).put(data)
    async with db.session() as s:
        attachment = Attachment(
            entry_id=world.entries["E001"],
            name="Pitch deck ä.pdf",
            sha256=key,
            size=len(data),
            media_type="application/pdf",
            storage_key=key,
        )
        s.add(attachment)
        await s.flush()
        attachment_id = attachment.id
    await as_juror(client, db, settings, world)
    page = await client.get(sheet_path(world.slug, "E001"), headers=EN)
    assert f'href="{sheet_path(world.slug, "E001")}/files/{attachment_id}"' in page.text
    inline = await client.get(f"{sheet_path(world.slug, 'E001')}/files/{attachment_id}")
    assert inline.status_code == 200 and inline.content == data
    assert inline.headers["content-type"] == "application/pdf"
    assert (
        inline.headers["content-disposition"]
        == "inline; filename=\"Pitch deck _.pdf\"; filename*=UTF-8''Pitch%20deck%20%C3%A4.pdf"
    )
    assert inline.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert inline.headers["x-content-type-options"] == "nosniff"
    download = await client.get(f"{sheet_path(world.slug, 'E001')}/files/{attachment_id}/download")
    assert download.headers["content-disposition"].startswith("attachment; ")
    # the file of one entry is not reachable through another entry's page
    assert (await client.get(f"{sheet_path(world.slug, 'E002')}/files/{attachment_id}")).status_code == 404


async def test_dashboard_filters_by_state_and_category(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    await as_juror(client, db, settings, world)
    await autosave(client, world.slug, "E001", 0, score_innovation="4")
    await post_sheet(client, world.slug, "E002", 0, "submit", score_innovation="5", score_impact="5")
    base = f"/awards/{world.slug}/rounds/pre-selection/jury"
    drafts = await client.get(base + "?state=draft", headers=EN)
    assert re.findall(r'data-ref="(E\d+)"', drafts.text) == ["E001"]
    assert "1 of 2 criteria scored" in drafts.text
    done = await client.get(base + "?state=submitted", headers=EN)
    assert re.findall(r'data-ref="(E\d+)"', done.text) == ["E002"]
    assert "1 of 4 sheets submitted" in done.text
    none = await client.get(base + "?category=govtech", headers=EN)
    assert re.findall(r'data-ref="(E\d+)"', none.text) == [] and "No entries match these filters." in none.text
    junk = await client.get(base + "?state=%00&category=<x>", headers=EN)
    assert junk.status_code == 200 and len(re.findall(r'data-ref="(E\d+)"', junk.text)) == 4


async def test_dashboard_query_count_does_not_grow_with_the_entries(
    client: httpx.AsyncClient, db: Database, settings: Settings, count_queries: object
) -> None:
    counts = []
    for n, slug in ((3, "small-award"), (30, "large-award")):
        async with db.session() as s:
            world = await build_world(s, scoring_bundle(slug, entries=n, jurors=1))
        await client.get("/")
        await sign_in_as(client, db, settings, world.jurors[0])
        for ref in list(world.entries)[: n // 2]:
            await autosave(client, slug, ref, 0, score_innovation="3")
        counter = count_queries
        counter.statements.clear()  # type: ignore[attr-defined]
        page = await client.get(f"/awards/{slug}/rounds/pre-selection/jury", headers=EN)
        assert page.status_code == 200 and len(re.findall(r'data-ref="', page.text)) == n
        counts.append(counter.count)  # type: ignore[attr-defined]
    assert counts[0] == counts[1], counts


async def test_a_zero_with_a_huge_exponent_is_saved_as_zero_not_a_500(
    client: httpx.AsyncClient, db: Database, settings: Settings, world: ScoringWorld
) -> None:
    # "0E+999999999" is a valid Decimal equal to 0; PostgreSQL's numeric cannot take the exponent.
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[0])
    response = await autosave(client, world.slug, "E001", 0, score_innovation="0E+999999999", score_impact="1E+1")
    assert response.status_code == 200, response.text
    assert response.json()["scores"] == {"innovation": "0", "impact": "10"}


async def test_a_conflict_declared_in_a_later_round_keeps_the_sheets_of_a_finalised_round(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = scoring_bundle("two-rounds")
    final = copy.deepcopy(doc["award"]["rounds"][0]) | {"slug": "final", "name": "Final"}
    doc["award"]["rounds"].append(final)
    for entry in doc["entries"]:
        entry["rounds"] = ["pre-selection", "final"]
    doc["sheets"] = [
        {
            "juror": "juror1@jury.example",
            "entry": "E001",
            "round": "pre-selection",
            "status": "submitted",
            "scores": {"innovation": 8, "impact": 6},
            "comment": "scored in the first round",
        }
    ]
    async with db.session() as s:
        world = await build_world(s, doc)
        rounds = {r.slug: r for r in (await s.execute(sa.select(Round))).scalars()}
        rounds["pre-selection"].finalised_at = utcnow()
        s.add(Assignment(round_id=rounds["final"].id, entry_id=world.entries["E001"], juror_id=world.jurors[0]))
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[0])
    path = sheet_path(world.slug, "E001", "final")
    response = await client.post(
        path + "/conflict",
        data={"_csrf_token": csrf_token(client), "kind": "other", "reason": "I advised them last year"},
        headers=EN,
        follow_redirects=False,
    )
    async with db.session() as s:
        kept = (await s.execute(sa.select(ScoreSheet.comment).where(ScoreSheet.juror_id == world.jurors[0]))).all()
        conflicts = (await s.execute(sa.select(Conflict.id))).all()
    # the frozen round's sheet stays; the juror is told to ask the organisers instead
    assert kept == [("scored in the first round",)]
    assert conflicts == []
    assert response.status_code == 409
    assert "Ask the organisers" in response.text


async def test_an_organiser_cannot_record_a_conflict_that_would_discard_a_finalised_sheet(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = scoring_bundle("frozen-award")
    doc["sheets"] = [
        {
            "juror": "juror1@jury.example",
            "entry": "E001",
            "round": "pre-selection",
            "status": "submitted",
            "scores": {"innovation": 8, "impact": 6},
            "comment": "frozen",
        }
    ]
    async with db.session() as s:
        world = await build_world(s, doc)
        rnd = (await s.execute(sa.select(Round))).scalars().one()
        rnd.finalised_at = utcnow()
        organiser = await s.get(Person, world.jurors[1])
        assert organiser is not None
        await grant_role(s, organiser, Role.ORGANISER, world.award_id)
        entry_id = world.entries["E001"]
    await client.get("/")
    await sign_in_as(client, db, settings, world.jurors[1])
    response = await client.post(
        f"/awards/{world.slug}/conflicts",
        data={
            "_csrf_token": csrf_token(client),
            "juror": str(world.jurors[0]),
            "entry": str(entry_id),
            "kind": "other",
            "reason": "found out later",
        },
        headers=EN,
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "results are final" in response.text
    async with db.session() as s:
        assert (await s.execute(sa.select(ScoreSheet.comment))).scalars().all() == ["frozen"]
        assert (await s.execute(sa.select(Conflict.id))).all() == []
