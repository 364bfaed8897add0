"""The assignment page: preview, apply (idempotent), shortfalls, release, access."""

from __future__ import annotations

import re
from typing import Any

import httpx
import sqlalchemy as sa

from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.audit.models import AuditEvent
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.demo import load_demo_bundle
from award_jury.entries.models import Entry, EntryRound
from award_jury.enums import Role, SheetStatus
from award_jury.judging.models import Assignment, Conflict, ScoreSheet
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from tests.support.confirm import confirm, open_confirmation
from tests.support.csrf import csrf_token

PAGE = "/awards/smart-country-startup-award-2026/rounds/vorauswahl/assignments"


async def organiser_client(client: httpx.AsyncClient, db: Database, settings: Settings) -> str:
    async with db.session() as s:
        award = await import_bundle(s, load_demo_bundle())
        person = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, person, Role.ORGANISER, award.id)
        token = await start_session(s, person, session_policy(settings), utcnow())
    client.cookies.set(settings.session_cookie_name, token)
    page = await client.get(PAGE, headers={"accept-language": "en"})
    return csrf_token(page)


async def count(db: Database, stmt: sa.Select) -> int:  # type: ignore[type-arg]
    async with db.session() as s:
        return int((await s.execute(stmt)).scalar_one())


async def test_preview_saves_nothing_and_apply_stores_the_same_plan(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser_client(client, db, settings)
    preview = await client.get(PAGE, params={"k": "3"}, headers={"accept-language": "en"})
    assert preview.status_code == 200
    assert "42 new assignments." in preview.text  # 14 submitted entries x 3 jurors
    assert "cannot get enough jurors" not in preview.text
    assert await count(db, sa.select(sa.func.count()).select_from(Assignment)) == 0

    applied = await client.post(PAGE, data={"k": "3", "_csrf_token": token}, follow_redirects=False)
    assert applied.headers["location"] == f"{PAGE}?applied=42"
    assert await count(db, sa.select(sa.func.count()).select_from(Assignment)) == 42
    conflicted = (
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(Conflict, sa.and_(Conflict.juror_id == Assignment.juror_id, Conflict.entry_id == Assignment.entry_id))
    )
    assert await count(db, conflicted) == 0
    again = await client.post(PAGE, data={"k": "3", "_csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == f"{PAGE}?applied=0"
    async with db.session() as s:
        events = (
            await s.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "assignments.applied"))
        ).scalars()
        assert [e["added"] for e in events] == [42, 0]


async def test_too_many_jurors_per_entry_shows_what_cannot_be_done(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser_client(client, db, settings)
    preview = await client.get(PAGE, params={"k": "5"}, headers={"accept-language": "en"})
    # GovTech has 4 jurors (one with a conflict on E011 and one on E014)
    assert "entries cannot get enough jurors" in preview.text
    assert "E011 (GovTech): 3 of 5 jurors" in preview.text
    assert "E009 (GovTech): 4 of 5 jurors" in preview.text


async def test_bad_number_of_jurors_is_refused_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser_client(client, db, settings)
    response = await client.get(PAGE, params={"k": "0"}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "Enter a number from 1 to 50." in response.text


async def test_release_keeps_assignments_with_submitted_sheets(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser_client(client, db, settings)
    await client.post(PAGE, data={"k": "5", "_csrf_token": token})
    async with db.session() as s:
        juror_id = (
            (await s.execute(sa.select(ScoreSheet.juror_id).where(ScoreSheet.status == SheetStatus.DRAFT)))
            .scalars()
            .first()
        )
        mine = (await s.execute(sa.select(Assignment.entry_id).where(Assignment.juror_id == juror_id))).scalars().all()
        done = sa.select(ScoreSheet.entry_id).where(
            ScoreSheet.juror_id == juror_id, ScoreSheet.status == SheetStatus.SUBMITTED
        )
        submitted = set((await s.execute(done)).scalars())
    expected = len([e for e in mine if e not in submitted])
    assert expected >= 1
    page = await client.get(PAGE, headers={"accept-language": "en"})
    assert f'href="{PAGE}/release?juror={juror_id}"' in page.text  # a link to the confirmation page
    # the old one-click form (no confirmation fields) changes nothing
    unconfirmed = await client.post(
        f"{PAGE}/release", data={"juror": str(juror_id), "_csrf_token": token}, follow_redirects=False
    )
    assert unconfirmed.status_code == 400
    assert "Nothing was changed: this needs your confirmation on this page first." in unconfirmed.text
    remaining = sa.select(sa.func.count()).select_from(Assignment).where(Assignment.juror_id == juror_id)
    assert await count(db, remaining) == len(mine)
    shown = await open_confirmation(client, f"{PAGE}/release?juror={juror_id}")
    assert shown.status == 200 and shown.refusals == []
    (removed, *_rest) = shown.facts
    assert removed.startswith(f"{expected} assignment{'s' if expected > 1 else ''} of ")
    async with db.session() as s:
        open_ids = [e for e in mine if e not in submitted]
        refs = sorted((await s.execute(sa.select(Entry.ref).where(Entry.id.in_(open_ids)))).scalars())
    assert removed.endswith(": " + ", ".join(refs) + ".")
    assert f"{len(submitted & set(mine))} assignment" in shown.facts[2]
    response = await confirm(client, f"{PAGE}/release", page=shown)
    assert response.headers["location"] == f"{PAGE}?released={expected}"
    assert await count(db, remaining) == len(mine) - expected
    # nothing open any more: the page says so and offers no button
    again = await open_confirmation(client, f"{PAGE}/release?juror={juror_id}")
    assert len(again.refusals) == 1 and again.refusals[0].endswith("has no open assignments in this round.")
    assert again.fields == {}


PROGRESS = "/awards/smart-country-startup-award-2026/rounds/vorauswahl/progress"


async def test_progress_counts_and_reminders_reach_jurors_with_open_sheets(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser_client(client, db, settings)
    await client.post(PAGE, data={"k": "4", "_csrf_token": token})
    page = await client.get(PROGRESS)
    assert page.status_code == 200
    # The demo has 57 submitted sheets in the round; what is assigned comes from the plan.
    async with db.session() as s:
        assigned = (await s.execute(sa.select(sa.func.count()).select_from(Assignment))).scalar_one()
        done = sa.select(ScoreSheet.juror_id, ScoreSheet.entry_id).where(ScoreSheet.status == SheetStatus.SUBMITTED)
        submitted_pairs = set((await s.execute(done)).all())
        pairs = set((await s.execute(sa.select(Assignment.juror_id, Assignment.entry_id))).all())
    assert f"57 of {assigned} assigned" in page.text
    open_jurors = {j for j, e in pairs if (j, e) not in submitted_pairs}
    reminded = await client.post(f"{PROGRESS}/remind", data={"_csrf_token": token}, follow_redirects=False)
    assert reminded.headers["location"] == f"{PROGRESS}?reminded={len(open_jurors)}"
    outbox = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(outbox) == len(open_jurors)
    assert all(b"open score sheet" in p.read_bytes() or b"offene" in p.read_bytes() for p in outbox)


async def test_reminders_need_no_request_a_command_sends_them_after_its_commit(
    db: Database, settings: Settings
) -> None:
    """The "who is told" rule is a service with the Mailer: a command or a job builds the mailer
    from the settings and sends what the service composed once its session has committed."""
    from award_jury.accounts.models import Person
    from award_jury.awards.services import get_award
    from award_jury.awards.setup import find_round
    from award_jury.judging import assignments, progress
    from award_jury.mail import Mailer

    async with db.session() as s:
        award = await import_bundle(s, load_demo_bundle())
        chair = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, chair, Role.ORGANISER, award.id)
        rnd = find_round(await get_award(s, award.slug), "vorauswahl")
        await assignments.apply_plan(s, award, rnd, 4, chair)
    mailer = Mailer.from_settings(settings)
    async with db.session() as s:
        award = await get_award(s, "smart-country-startup-award-2026")
        rnd = find_round(award, "vorauswahl")
        chair_row = await s.get(Person, chair.id)
        assert chair_row is not None
        mails = await progress.remind_jurors(s, mailer, award, rnd, chair_row)
        expected = {j.email for j in progress.to_remind(await progress.round_progress(s, award, rnd))}
        assert not settings.outbox_dir.exists() or not list(settings.outbox_dir.glob("*.eml"))  # nothing sent yet
    assert mails and {m.to for m in mails} == expected
    assert await mailer.send_all(mails) == len(mails)
    outbox = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(outbox) == len(expected)
    assert all(b"/account" in p.read_bytes() for p in outbox)
    async with db.session() as s:
        event = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "reminder.sent"))).scalar_one()
    assert sorted(event.after["recipients"]) == sorted(expected)


async def test_progress_query_count_does_not_grow_with_entries(
    client: httpx.AsyncClient, db: Database, settings: Settings, count_queries: Any
) -> None:
    from tests.support.factories import small_bundle

    await organiser_client(client, db, settings)
    count_queries.statements.clear()
    await client.get(PROGRESS)
    with_demo = count_queries.count
    small = small_bundle("mini-progress")
    async with db.session() as s:
        small["entries"] = [
            {**small["entries"][0], "ref": f"X{i:03d}", "contact": {"email": f"x{i}@example.org", "name": "X"}}
            for i in range(30)
        ]
        small["conflicts"], small["sheets"] = [], []
        award = await import_bundle(s, small)
        person = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, person, Role.ORGANISER, award.id)
    count_queries.statements.clear()
    await client.get("/awards/mini-progress/rounds/pre-selection/progress")
    assert count_queries.count == with_demo


async def test_manual_assignment_follows_the_same_rules(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser_client(client, db, settings)
    async with db.session() as s:
        conflict = (await s.execute(sa.select(Conflict))).scalars().first()
        assert conflict is not None
        juror_id, entry_id = conflict.juror_id, conflict.entry_id
    refused = await client.post(
        f"{PAGE}/add", data={"juror": str(juror_id), "entry": str(entry_id), "_csrf_token": token}
    )
    assert refused.status_code == 400
    assert "This juror has a conflict of interest with the entry." in refused.text
    async with db.session() as s:
        other = (
            (
                await s.execute(
                    sa.select(ScoreSheet.juror_id).where(
                        ScoreSheet.entry_id == entry_id, ScoreSheet.juror_id != juror_id
                    )
                )
            )
            .scalars()
            .first()
        )
    added = await client.post(
        f"{PAGE}/add", data={"juror": str(other), "entry": str(entry_id), "_csrf_token": token}, follow_redirects=False
    )
    assert added.status_code == 303
    again = await client.post(f"{PAGE}/add", data={"juror": str(other), "entry": str(entry_id), "_csrf_token": token})
    assert "This juror is assigned to the entry already." in again.text
    removed = await client.post(
        f"{PAGE}/remove",
        data={"juror": str(other), "entry": str(entry_id), "_csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert await count(db, sa.select(sa.func.count()).select_from(Assignment)) == 0


async def test_advancing_adds_chosen_entries_to_the_next_round_once(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser_client(client, db, settings)
    advance = "/awards/smart-country-startup-award-2026/rounds/vorauswahl/advance"
    page = await client.get(advance)
    assert page.status_code == 200
    async with db.session() as s:
        ids = dict((await s.execute(sa.select(Entry.ref, Entry.id))).all())
    chosen = [str(ids["E005"]), str(ids["E013"]), str(ids["E007"])]  # E007 is a draft: not advanced
    response = await client.post(advance, data={"entries": chosen, "_csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == f"{advance}?advanced=2"
    again = await client.post(advance, data={"entries": chosen, "_csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == f"{advance}?advanced=0"
    async with db.session() as s:
        refs = (
            (
                await s.execute(
                    sa.select(Entry.ref)
                    .join(EntryRound, EntryRound.entry_id == Entry.id)
                    .where(
                        EntryRound.round_id
                        != sa.select(EntryRound.round_id).where(EntryRound.entry_id == ids["E001"]).scalar_subquery()
                    )
                )
            )
            .scalars()
            .all()
        )
        events = (
            (await s.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "entries.advanced")))
            .scalars()
            .all()
        )
    assert sorted(refs) == ["E005", "E013"]
    assert events[0]["entries"] == ["E005", "E013"]


async def test_top_n_preselection_follows_the_ranking(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser_client(client, db, settings)
    page = await client.get("/awards/smart-country-startup-award-2026/rounds/vorauswahl/advance", params={"top": "1"})
    assert page.status_code == 200
    checked = re.findall(r'<input type="checkbox" name="entries" value="\d+" checked>\s*(E\d+)', page.text)
    # the demo's leaders: E005 in Smart City, E013 in GovTech
    assert sorted(checked) == ["E005", "E013"]
    bad = await client.get("/awards/smart-country-startup-award-2026/rounds/vorauswahl/advance", params={"top": "x"})
    assert bad.status_code == 400
