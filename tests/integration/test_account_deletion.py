"""A person deletes their own account (GDPR Art. 17, issue 19): the confirmation page says what
happens in numbers, the current password (or, without one, a link to the address) confirms it,
the person row is emptied and can never sign in again, a startup's lone drafts and their files
go, submitted entries and sheets stay (so rankings do not change), and the last organiser of an
award is refused."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from award_jury.accounts.deletion import deletion_token, deletion_token_problem
from award_jury.accounts.models import AwardRole, Person, WebSession
from award_jury.accounts.passwords import hash_password
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Criterion, Round
from award_jury.db import Database, utcnow
from award_jury.entries.models import Attachment, Entry, EntryMember
from award_jury.entries.storage import LocalStorage
from award_jury.enums import EntryStatus, MemberRole, Role, SheetStatus
from award_jury.judging.models import Score, ScoreSheet
from award_jury.ranking.queries import rank
from award_jury.settings import Settings
from tests.support.accounts import (
    EN,
    PASSWORD,
    make_person,
    outbox,
    page_token,
    post_form,
    sign_in,
    sign_in_as,
    use_cheap_argon2,
)
from tests.support.confirm import open_confirmation
from tests.support.scoring import ScoringWorld, build_world, scoring_bundle

Client = httpx.AsyncClient
DECK = b"%PDF-1.4 the draft's pitch deck %%EOF"


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_argon2(monkeypatch)


def bundle() -> dict[str, Any]:
    """E001–E003 submitted, E004 and E005 drafts. contact1 runs E001 (with a co-editor), E003 and
    the draft E004 alone; E005 is a draft contact1 shares with the co-editor."""
    doc = scoring_bundle("gone-award", entries=3, jurors=2)
    doc["entries"][2]["contact"] = dict(doc["entries"][0]["contact"])
    for ref in ("E004", "E005"):
        draft = copy.deepcopy(doc["entries"][0])
        draft.update(ref=ref, status="draft", title=f"Draft {ref}")
        doc["entries"].append(draft)
    return doc


async def build(db: Database, settings: Settings) -> tuple[ScoringWorld, dict[str, int], str]:
    async with db.session() as s:
        world = await build_world(s, bundle())
    juror1, juror2 = world.jurors
    submitted = ["E001", "E002", "E003"]
    await add_sheets(db, world, juror1, submitted)
    await add_sheets(db, world, juror2, submitted)
    editor = await make_person(db, "co.editor@startup.example", "Cora Coeditor")
    key = await LocalStorage(settings.uploads_dir).put(DECK)
    async with db.session() as s:
        contact1 = (await s.execute(sa.select(Person).where(Person.email == "contact1@startup.example"))).scalar_one()
        s.add(EntryMember(entry_id=world.entries["E001"], person_id=editor, role=MemberRole.EDITOR))
        s.add(EntryMember(entry_id=world.entries["E005"], person_id=editor, role=MemberRole.EDITOR))
        s.add(
            Attachment(
                entry_id=world.entries["E004"],
                name="deck.pdf",
                sha256=key,
                size=len(DECK),
                media_type="application/pdf",
                storage_key=key,
            )
        )
        # juror1 also has a draft sheet (of a draft entry: only for the count)
        round_id = (await s.execute(sa.select(ScoreSheet.round_id))).scalars().first()
        s.add(ScoreSheet(juror_id=juror1, entry_id=world.entries["E005"], round_id=round_id))
        j1 = await s.get(Person, juror1)
        assert j1 is not None
        j1.password_hash = hash_password(PASSWORD)
        people = {"juror1": juror1, "juror2": juror2, "contact1": contact1.id, "editor": editor}
    return world, people, key


async def add_sheets(db: Database, world: ScoringWorld, juror: int, refs: list[str]) -> None:
    """Submitted sheets whose scores differ by juror and entry (so a lost sheet would show)."""
    async with db.session() as s:
        criteria = list((await s.execute(sa.select(Criterion).order_by(Criterion.position))).scalars())
        for i, ref in enumerate(refs):
            values = {"innovation": Decimal((3 * i + juror) % 11), "impact": Decimal((i + 2 * juror) % 21) / 2}
            s.add(
                ScoreSheet(
                    juror_id=juror,
                    entry_id=world.entries[ref],
                    round_id=criteria[0].round_id,
                    status=SheetStatus.SUBMITTED,
                    scores=[Score(criterion_id=c.id, value=values[c.key]) for c in criteria],
                )
            )


async def ranking(db: Database, slug: str) -> list[tuple[str, Any, Any]]:
    async with db.session() as s:
        query = (
            sa.select(Award)
            .where(Award.slug == slug)
            .options(selectinload(Award.categories), selectinload(Award.rounds).selectinload(Round.criteria))
        )
        award = (await s.execute(query)).scalar_one()
        results = await rank(s, award, award.rounds[0])
        return [(r.ref, r.score, r.rank, r.sheets) for c in results for r in c.entries]


async def person(db: Database, person_id: int) -> Person:
    async with db.session() as s:
        found = await s.get(Person, person_id)
        assert found is not None
        return found


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as s:
        return int((await s.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one())


# ---------------------------------------------------------------- a juror with a password


async def test_a_juror_deletes_their_account_with_their_password_and_the_ranking_stays(
    client: Client, db: Database, settings: Settings
) -> None:
    world, people, _key = await build(db, settings)
    juror1 = people["juror1"]
    before = await ranking(db, world.slug)
    await sign_in_as(client, db, settings, juror1)

    account = await client.get("/account", headers=EN)
    assert 'href="/account/delete"' in account.text
    page = await open_confirmation(client, "/account/delete")
    assert page.status == 200
    assert page.refusals == []
    assert f"3 submitted score sheets stay and count, under the name “Juror #{juror1}”: rankings do not change." in (
        page.facts
    )
    assert "1 draft score sheet is deleted." in page.facts
    assert "You lose 1 role in an award." in page.facts
    assert "We send a last e-mail to juror1@jury.example to confirm the deletion. This cannot be undone." in page.facts
    assert 'name="current_password"' in page.html and 'autocomplete="current-password"' in page.html

    wrong = await client.post("/account/delete", data=page.fields | {"current_password": "not my password"}, headers=EN)
    assert wrong.status_code == 400
    assert "This is not your current password." in wrong.text
    assert (await person(db, juror1)).email == "juror1@jury.example"

    done = await client.post(
        "/account/delete", data=page.fields | {"current_password": PASSWORD}, headers=EN, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/account/deleted"
    goodbye = (await client.get("/account/deleted", headers=EN)).text
    assert "Your account is deleted" in goodbye

    gone = await person(db, juror1)
    assert (gone.name, gone.email, gone.password_hash, gone.is_active, gone.organisation) == (
        f"Juror #{juror1}",
        f"deleted-{juror1}@invalid.example",
        None,
        False,
        "",
    )
    assert await count(db, WebSession, WebSession.person_id == juror1) == 0
    assert await count(db, AwardRole, AwardRole.person_id == juror1) == 0
    sheets = await count(db, ScoreSheet, ScoreSheet.juror_id == juror1)
    assert sheets == await count(
        db, ScoreSheet, ScoreSheet.juror_id == juror1, ScoreSheet.status == SheetStatus.SUBMITTED
    )
    assert sheets == 3
    assert await ranking(db, world.slug) == before

    async with db.session() as s:
        event = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "account.deleted"))).scalar_one()
        assert (event.object_id, event.ip, event.actor_id) == (str(juror1), None, None)
        assert event.after is not None and event.after["sheets_kept"] == 3
        everything = " ".join(
            str(v) for e in (await s.execute(sa.select(AuditEvent))).scalars() for v in (e.before, e.after, e.object_id)
        )
        assert "juror1@jury.example" not in everything
        assert not (
            await s.execute(sa.select(AuditEvent.ip).where(AuditEvent.actor_id == juror1, AuditEvent.ip.is_not(None)))
        ).all()

    # the old session is over; neither the password nor a link signs in again
    assert (await client.get("/account", headers=EN, follow_redirects=False)).status_code == 303
    client.cookies.clear()
    assert (await sign_in(client, "juror1@jury.example", PASSWORD)).status_code == 400
    mails_before = len(outbox(settings))
    token = await page_token(client, "/signin")
    await post_form(client, "/signin/link", {"email": "juror1@jury.example"}, token=token)
    assert len(outbox(settings)) == mails_before

    mails = [m for m in outbox(settings) if m["To"] == "juror1@jury.example"]
    assert [m["Subject"] for m in mails] == ["Your award_jury account is deleted"]


# ---------------------------------------------------------------- a startup without a password


async def test_a_startup_without_password_confirms_by_e_mail_link_and_loses_only_its_lone_draft(
    client: Client, db: Database, settings: Settings
) -> None:
    world, people, key = await build(db, settings)
    contact1, editor = people["contact1"], people["editor"]
    before = await ranking(db, world.slug)
    await sign_in_as(client, db, settings, contact1)

    page = await open_confirmation(client, "/account/delete")
    assert page.status == 200
    assert 'name="current_password"' not in page.html
    assert "we send a link to contact1@startup.example" in page.html
    assert "1 draft entry that only you work on is deleted, with 1 uploaded file." in page.facts
    assert "1 draft entry you share with others stays with them; you leave its team." in page.facts
    assert "2 submitted entries stay in the award's records." in page.facts
    assert any(f.startswith("On 2 of them you are the contact") for f in page.facts)

    sent = await client.post("/account/delete", data=page.fields, headers=EN, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/account/deletion-link"
    assert (await person(db, contact1)).is_active  # nothing is deleted yet
    (mail,) = [m for m in outbox(settings) if m["To"] == "contact1@startup.example"]
    assert mail["Subject"] == "Confirm the deletion of your award_jury account"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    link = next(line for line in body.get_content().splitlines() if "/account/delete/" in line).strip()
    path = link.removeprefix(settings.base_url)

    confirm = await open_confirmation(client, path)
    assert confirm.status == 200 and confirm.fields.get("confirm") == "yes"
    done = await client.post(path, data=confirm.fields, headers=EN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account/deleted"

    gone = await person(db, contact1)
    assert (gone.name, gone.email, gone.is_active) == ("", f"deleted-{contact1}@invalid.example", False)
    async with db.session() as s:
        entries = {
            e.ref: e for e in (await s.execute(sa.select(Entry).where(Entry.award_id == world.award_id))).scalars()
        }
        assert sorted(entries) == ["E001", "E002", "E003", "E005"]  # the lone draft E004 is gone
        assert (entries["E001"].contact_name, entries["E001"].contact_email) == (
            "Cora Coeditor",
            "co.editor@startup.example",
        )
        assert (entries["E003"].contact_name, entries["E003"].contact_email) == ("", "")
        assert entries["E003"].status is EntryStatus.SUBMITTED
        assert entries["E005"].contact_email == "co.editor@startup.example"
        members = {(m.entry_id, m.person_id): m.role for m in (await s.execute(sa.select(EntryMember))).scalars()}
        assert members[(entries["E001"].id, editor)] is MemberRole.CONTACT
        assert members[(entries["E001"].id, contact1)] is MemberRole.EDITOR  # kept: conflicts depend on it
        assert (entries["E005"].id, contact1) not in members
    assert not await LocalStorage(settings.uploads_dir).exists(key)  # the draft's deck, after the commit
    assert await ranking(db, world.slug) == before

    # the link is useless now (it was bound to the address), also in a new session of nobody
    assert (await client.get(path, headers=EN, follow_redirects=False)).status_code == 303
    goodbye = [m["Subject"] for m in outbox(settings) if m["To"] == "contact1@startup.example"]
    assert goodbye == ["Confirm the deletion of your award_jury account", "Your award_jury account is deleted"]


async def test_a_deletion_link_works_only_for_its_person_and_not_after_30_minutes(
    client: Client, db: Database, settings: Settings
) -> None:
    world, people, _key = await build(db, settings)
    now = utcnow()
    async with db.session() as s:
        contact1 = await s.get(Person, people["contact1"])
        editor = await s.get(Person, people["editor"])
        assert contact1 is not None and editor is not None
        token = deletion_token(settings.secret_key, contact1, now)
        assert deletion_token_problem(settings.secret_key, token, contact1, now) is None
        assert deletion_token_problem(settings.secret_key, token, contact1, now + timedelta(minutes=31)) == "expired"
        assert deletion_token_problem(settings.secret_key, token, editor, now) == "unknown"
        assert deletion_token_problem("another secret key 123", token, contact1, now) == "unknown"
        other_expiry = token[:-1] + ("8" if token.endswith("9") else "9")  # (a changed expiry, never the same)
        assert deletion_token_problem(settings.secret_key, other_expiry, contact1, now) == "unknown"
        assert deletion_token_problem(settings.secret_key, "x" * 43 + "99999999999-1", contact1, now) == "unknown"

    await sign_in_as(client, db, settings, people["editor"])  # somebody else's link
    page = await client.get(f"/account/delete/{token}", headers=EN)
    assert page.status_code == 400 and "not valid for your account" in page.text
    posted = await client.post(
        f"/account/delete/{token}",
        data={"confirm": "yes", "state": "x", "_csrf_token": client.cookies.get("award_jury_csrf") or ""},
        headers=EN,
    )
    assert posted.status_code == 400
    assert (await person(db, people["editor"])).is_active and (await person(db, people["contact1"])).is_active
    assert world.slug == "gone-award"


# ---------------------------------------------------------------- organisers


async def test_the_last_organiser_of_an_award_cannot_delete_their_account(
    client: Client, db: Database, settings: Settings
) -> None:
    world, _people, _key = await build(db, settings)
    olga = await make_person(
        db, "olga@example.org", "Olga Organiser", password=PASSWORD, role=Role.ORGANISER, award_id=world.award_id
    )
    await sign_in_as(client, db, settings, olga)
    page = await open_confirmation(client, "/account/delete")
    assert page.status == 200
    assert page.refusals == [
        "You are the last organiser of Mini Award. Invite another organiser on its page “People and invitations”; "
        "once they have accepted, you can delete your account."
    ]
    assert page.fields == {}  # no form to send
    forged = await client.post(
        "/account/delete",
        data={
            "confirm": "yes",
            "state": "anything",
            "current_password": PASSWORD,
            "_csrf_token": client.cookies.get("award_jury_csrf") or "",
        },
        headers=EN,
    )
    assert forged.status_code == 409
    assert (await person(db, olga)).is_active

    # with a second organiser, Olga may go; the award keeps its organiser
    await make_person(db, "otto@example.org", "Otto Organiser", role=Role.ORGANISER, award_id=world.award_id)
    page = await open_confirmation(client, "/account/delete")
    assert page.refusals == []
    done = await client.post(
        "/account/delete", data=page.fields | {"current_password": PASSWORD}, headers=EN, follow_redirects=False
    )
    assert done.status_code == 303
    assert not (await person(db, olga)).is_active
    assert await count(db, AwardRole, AwardRole.award_id == world.award_id, AwardRole.role == Role.ORGANISER) == 1


async def test_a_stale_confirmation_changes_nothing(client: Client, db: Database, settings: Settings) -> None:
    _world, people, _key = await build(db, settings)
    await sign_in_as(client, db, settings, people["juror1"])
    page = await open_confirmation(client, "/account/delete")
    async with db.session() as s:  # meanwhile one of juror1's submitted sheets went back to a draft
        sheet = (
            await s.execute(
                sa.select(ScoreSheet)
                .where(ScoreSheet.juror_id == people["juror1"], ScoreSheet.status == SheetStatus.SUBMITTED)
                .limit(1)
            )
        ).scalar_one()
        sheet.status = SheetStatus.DRAFT
    stale = await client.post("/account/delete", data=page.fields | {"current_password": PASSWORD}, headers=EN)
    assert stale.status_code == 409
    assert "the situation changed" in stale.text
    assert (await person(db, people["juror1"])).is_active
    assert await count(db, WebSession, WebSession.person_id == people["juror1"]) == 1
