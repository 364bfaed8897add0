"""The call for entries: call page, applying by e-mail link, drafts and submission with
every required field, the pitch deck checked by content, the deadline on the server's clock
(across daylight-saving changes), stale forms (409), withdrawing, deleting a draft, the
organiser's list, eligibility decisions, the CSV export and anonymisation."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.awards.models import Award, Round
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.entries.models import Attachment, Entry, EntryMember, Startup
from award_jury.entries.validators import REQUIRED
from award_jury.enums import EntryStatus, Role
from award_jury.judging.models import ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import EN, mail_parts, outbox, page_token, post_form
from tests.support.apps import app_client, shared_app
from tests.support.confirm import confirm, open_confirmation
from tests.support.entries import (
    DURING_CALL,
    PNG,
    applicant,
    complete_values,
    form_version,
    freeze_clock,
    make_pdf,
    save,
    start_entry,
)
from tests.support.factories import small_bundle
from tests.support.setup_helpers import browser_for, events, field_errors, import_small, input_value

Client = httpx.AsyncClient
SLUG = "mini-award"


@pytest.fixture
async def org_client(settings: Settings, db: Database) -> AsyncIterator[Client]:
    """A second browser, for the organiser or another person (cookies are per client)."""
    async with app_client(shared_app(settings, db)) as c:
        yield c


@pytest.fixture
async def award_id(db: Database) -> int:
    return await import_small(db, SLUG)


async def entry_row(db: Database, entry_id: int) -> Entry:
    async with db.session() as s:
        entry = await s.get(Entry, entry_id)
        assert entry is not None
        await s.refresh(entry, ["startup", "attachments"])
        return entry


async def submitted_entry(client: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    response = await save(b, entry_id, complete_values(), action="submit", deck=("deck.pdf", make_pdf()))
    assert response.status_code == 303, field_errors(response.text)
    return entry_id


# -- the call page ---------------------------------------------------------------------------


async def test_call_page_shows_the_deadline_in_the_awards_zone_and_locale(
    client: Client, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = freeze_clock(monkeypatch)
    de = await client.get(f"/awards/{SLUG}/call", headers={"accept-language": "de"})
    assert de.status_code == 200
    assert "Einsendeschluss: 31.08.2023, 23:59 Uhr" in de.text
    assert 'href="/awards/mini-award/apply"' in de.text
    assert "Smart City" in de.text and "GovTech" in de.text
    en = await client.get(f"/awards/{SLUG}/call", headers=EN)
    assert "Deadline for entries: 31 Aug 2023, 23:59" in en.text
    clock.now = datetime(2023, 9, 1, tzinfo=UTC)
    closed = await client.get(f"/awards/{SLUG}/call", headers=EN)
    assert "The call for entries is closed." in closed.text
    assert "Apply now" not in closed.text
    assert (await client.get("/awards/nope/call")).status_code == 404


async def test_call_page_says_closed_early_when_the_round_was_finalised_before_its_deadline(
    client: Client, db: Database, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)  # during the call (deadline 31 Aug 2023)
    async with db.session() as s:  # finalised on 16 Aug, two weeks early (allowed before finalising checked it)
        rnd = (await s.execute(sa.select(Round).where(Round.award_id == award_id))).scalar_one()
        rnd.finalised_at = datetime(2023, 8, 16, 10, 0, tzinfo=UTC)
    en = await client.get(f"/awards/{SLUG}/call", headers=EN)
    assert "The call for entries closed early, on 16 Aug 2023, 12:00." in en.text
    assert "The deadline was" not in en.text and "Apply now" not in en.text
    de = await client.get(f"/awards/{SLUG}/call", headers={"accept-language": "de"})
    assert "Die Ausschreibung wurde vorzeitig beendet, am 16.08.2023, 12:00 Uhr." in de.text


async def test_a_new_startup_applies_by_e_mail_link(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    token = await page_token(client, f"/awards/{SLUG}/apply")
    bad = await post_form(client, f"/awards/{SLUG}/apply/link", {"email": "nope", "name": ""}, token=token)
    assert bad.status_code == 400
    assert set(field_errors(bad.text)) == {"f-email", "f-name"}
    sent = await post_form(
        client, f"/awards/{SLUG}/apply/link", {"email": "New@Startup.example", "name": "Nina Neu"}, token=token
    )
    assert sent.status_code == 200 and "new@startup.example" in sent.text.lower()
    [mail] = outbox(settings)
    assert mail["To"] == "new@startup.example"
    text, _html = mail_parts(mail)
    link = re.search(r"http://testserver\.local(/signin/link/[A-Za-z0-9_-]+\?next=\S+)", text)
    assert link, text
    confirm = await client.get(link.group(1), headers=EN)
    assert confirm.status_code == 200 and 'name="next" value="/awards/mini-award/apply"' in confirm.text
    used = await post_form(
        client, link.group(1).split("?")[0], {"next": "/awards/mini-award/apply"}, token=await page_token(client, "/")
    )
    assert used.status_code == 303 and used.headers["location"] == "/awards/mini-award/apply"
    page = await client.get("/awards/mini-award/apply", headers=EN)
    assert "Start your application" in page.text
    started = await post_form(client, f"/awards/{SLUG}/apply", token=await page_token(client, "/account"))
    assert started.status_code == 303
    entry_id = int(started.headers["location"].split("/")[2])
    async with db.session() as s:
        person = (await s.execute(sa.select(Person).where(Person.email == "new@startup.example"))).scalar_one()
        member = (await s.execute(sa.select(EntryMember).where(EntryMember.entry_id == entry_id))).scalar_one()
        assert member.person_id == person.id
        entry = await s.get(Entry, entry_id)
        assert entry is not None and entry.contact_email == "new@startup.example" and entry.ref == "E003"


async def test_jurors_of_the_award_cannot_apply(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    juror = await browser_for(org_client, db, settings, "j.doe@example.org", role=Role.JUROR, award_ids=(award_id,))
    assert (await juror.get(f"/awards/{SLUG}/apply")).status_code == 403
    assert (await juror.post(f"/awards/{SLUG}/apply")).status_code == 403


# -- drafts, required fields, submission -----------------------------------------------------


@pytest.mark.parametrize("missing", REQUIRED)
async def test_submitting_without_a_required_field_names_it_and_changes_nothing(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    values = complete_values(**({missing: ""} if missing != "deck" else {}))
    deck = None if missing == "deck" else ("deck.pdf", make_pdf())
    response = await save(b, entry_id, values, action="submit", deck=deck)
    assert response.status_code == 400
    errors = field_errors(response.text)
    expected = "f-category" if missing == "category" else f"f-{missing}"
    assert list(errors) == [expected], errors
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.DRAFT and entry.title == "" and entry.attachments == []
    # What was typed comes back in the form.
    if missing != "title":
        assert "Potholes reported in seconds" in response.text


async def test_a_draft_saves_what_is_there_and_shows_each_problem_beside_its_field(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    ok = await save(b, entry_id, {"startup_name": "Halb fertig", "title": "Erster Entwurf"})
    assert ok.status_code == 303 and ok.headers["location"] == f"/entries/{entry_id}/edit?saved=1"
    entry = await entry_row(db, entry_id)
    assert (entry.startup.name, entry.title, entry.status) == ("Halb fertig", "Erster Entwurf", EntryStatus.DRAFT)
    wrong = {
        "founded": "1700",
        "employees": "viele",
        "website": "behoerdenfunk.example",
        "video_url": "http://insecure.example/video",
        "contact_email": "nope",
        "category": "space",
        "stage": "moon",
        "pitch": "x" * 601,
    }
    # One slip does not block the draft: everything is saved, each problem is shown beside its field.
    bad = await save(b, entry_id, {"startup_name": "Geändert", "title": "Zweiter Entwurf", **wrong})
    assert bad.status_code == 200
    assert set(field_errors(bad.text)) == {f"f-{k}" for k in wrong}
    assert "Your draft is saved" in bad.text
    assert input_value(bad.text, "f-website") == "behoerdenfunk.example"
    entry = await entry_row(db, entry_id)
    assert (entry.startup.name, entry.title, entry.status) == ("Geändert", "Zweiter Entwurf", EntryStatus.DRAFT)
    # the checked columns never hold a wrong value; the text as typed is kept with the draft
    assert (entry.startup.website, entry.startup.founded, entry.startup.employees, entry.video_url) == (None,) * 4
    assert entry.contact_email == "" and entry.stage == "" and entry.pitch == ""
    assert entry.draft_values == {k: v for k, v in wrong.items()}
    # The next visit shows the text as typed and the problems again.
    page = await b.get(f"/entries/{entry_id}/edit")
    assert page.status_code == 200 and set(field_errors(page.text)) == {f"f-{k}" for k in wrong}
    assert input_value(page.text, "f-website") == "behoerdenfunk.example"
    assert input_value(page.text, "f-employees") == "viele" and "x" * 601 in page.text
    # A corrected field is stored in its column and leaves the kept text.
    fixed = await save(b, entry_id, {"startup_name": "Geändert", **wrong, "website": "https://behoerdenfunk.example"})
    assert fixed.status_code == 200 and "f-website" not in field_errors(fixed.text)
    entry = await entry_row(db, entry_id)
    assert entry.startup.website == "https://behoerdenfunk.example" and "website" not in (entry.draft_values or {})
    # Submitting insists: a wrong value refuses the submission, and nothing is submitted.
    refused = await save(
        b, entry_id, complete_values(website="behoerdenfunk.example"), action="submit", deck=("deck.pdf", make_pdf())
    )
    assert refused.status_code == 400 and set(field_errors(refused.text)) == {"f-website"}
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.DRAFT and entry.submitted_at is None
    # Once everything is right, the submission stores clean values and nothing kept aside.
    done = await save(b, entry_id, complete_values(), action="submit", deck=("deck.pdf", make_pdf()))
    assert done.status_code == 303, field_errors(done.text)
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.SUBMITTED and not entry.draft_values
    # A submitted entry stays complete and valid: a wrong value changes nothing.
    strict = await save(b, entry_id, complete_values(website="behoerdenfunk.example", title="Changed"))
    assert strict.status_code == 400 and set(field_errors(strict.text)) == {"f-website"}
    entry = await entry_row(db, entry_id)
    assert entry.title == complete_values()["title"] and not entry.draft_values


async def test_autosave_saves_a_draft_with_a_wrong_value_and_answers_its_problems(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    version = await form_version(b, entry_id)
    values = {"startup_name": "Behördenfunk", "website": "behoerdenfunk.example", "title": "Funk für alle"}
    answer = await save(b, entry_id, values, action="autosave", version=version, json=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True and body["version"] == version + 1
    assert set(body["errors"]) == {"website"} and "https://" in body["errors"]["website"]
    entry = await entry_row(db, entry_id)
    assert (entry.startup.name, entry.title, entry.startup.website) == ("Behördenfunk", "Funk für alle", None)
    assert entry.draft_values == {"website": "behoerdenfunk.example"}
    # corrected by the next autosave: no problems left, nothing kept aside
    values["website"] = "https://behoerdenfunk.example"
    again = await save(b, entry_id, values, action="autosave", version=version + 1, json=True)
    assert again.status_code == 200 and again.json()["errors"] == {}
    entry = await entry_row(db, entry_id)
    assert entry.startup.website == "https://behoerdenfunk.example" and not entry.draft_values


async def test_submission_sends_a_confirmation_and_the_status_page_shows_it(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    response = await save(
        b, entry_id, complete_values(category="govtech"), action="submit", deck=("Unser Deck (final).pdf", make_pdf(3))
    )
    assert response.status_code == 303 and response.headers["location"] == f"/entries/{entry_id}?done=submitted"
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.SUBMITTED and entry.submitted_at == DURING_CALL
    assert entry.consent_at == DURING_CALL
    [mail] = outbox(settings)
    text, _html = mail_parts(mail)
    assert mail["To"] == "lena@strassenklar.example"
    assert "Potholes reported in seconds" in text and "GovTech" in text and f"/entries/{entry_id}" in text
    assert "01 Jul 2023, 12:00" in text or "1 Jul 2023, 12:00" in text  # Berlin time
    page = await b.get(f"/entries/{entry_id}")
    assert page.status_code == 200
    assert "Judging starts after the deadline" in page.text and "Entry submitted" in page.text
    assert "Unser_Deck_final_.pdf" in page.text or "Unser Deck _final_.pdf" in page.text
    assert [e.object_id for e in await events(db, "entry.submitted")] == [str(entry_id)]
    # Edits stay possible until the deadline, and must keep the entry complete.
    incomplete = await save(b, entry_id, complete_values(problem=""))
    assert incomplete.status_code == 400 and "f-problem" in field_errors(incomplete.text)
    edited = await save(b, entry_id, complete_values(title="Potholes, fixed"))
    assert edited.status_code == 303
    assert (await entry_row(db, entry_id)).title == "Potholes, fixed"


# -- uploads ---------------------------------------------------------------------------------


async def test_the_deck_is_checked_by_content(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    pdf = make_pdf(2)
    cases = {
        "renamed PNG": (PNG, "not a PDF"),
        "truncated": (pdf[: len(pdf) // 2], "incomplete"),
        "empty": (b"", "empty"),
        "garbage after header": (b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n", "cannot be opened"),
    }
    for name, (data, message) in cases.items():
        response = await save(b, entry_id, {"title": "T"}, deck=("deck.pdf", data))
        assert response.status_code == 200, name  # a draft: the text is saved, the file is not
        assert message in field_errors(response.text)["f-deck"], (name, field_errors(response.text))
    entry = await entry_row(db, entry_id)
    assert entry.attachments == [] and entry.title == "T"
    ok = await save(b, entry_id, {"title": "T"}, deck=("../../etc/passwd", pdf))
    assert ok.status_code == 303
    [attachment] = (await entry_row(db, entry_id)).attachments
    digest = hashlib.sha256(pdf).hexdigest()
    assert (attachment.sha256, attachment.storage_key, attachment.size) == (digest, digest, len(pdf))
    assert attachment.name == "passwd.pdf"
    stored = settings.uploads_dir / digest[:2] / digest
    assert stored.read_bytes() == pdf
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".upload-")]
    download = await b.get(f"/entries/{entry_id}/deck")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    # A new upload replaces the deck.
    newer = make_pdf(1)
    assert (await save(b, entry_id, {"title": "T"}, deck=("neu.pdf", newer))).status_code == 303
    [attachment] = (await entry_row(db, entry_id)).attachments
    assert attachment.sha256 == hashlib.sha256(newer).hexdigest() and attachment.name == "neu.pdf"


async def test_oversize_uploads_get_a_message_or_a_friendly_413_page(
    settings: Settings, db: Database, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    small = replace(settings, max_upload_bytes=256 * 1024)
    async with app_client(shared_app(small, db)) as client:
        b = await applicant(client, db, small)
        entry_id = await start_entry(b)
        big = make_pdf(1, padding=300 * 1024)
        response = await save(b, entry_id, {"title": "T"}, deck=("big.pdf", big))
        assert response.status_code == 200  # a draft: saved without the file
        assert "larger than 256 KB" in field_errors(response.text)["f-deck"]
        huge = make_pdf(1, padding=2 * 1024 * 1024)
        too_big = await save(b, entry_id, {"title": "T"}, deck=("huge.pdf", huge))
        assert too_big.status_code == 413
        assert "File too large" in too_big.text and "Traceback" not in too_big.text
        assert "Files can be at most 256 KB" in too_big.text
        assert f'href="/entries/{entry_id}/edit"' in too_big.text
        assert (await entry_row(db, entry_id)).attachments == []


# -- the deadline ----------------------------------------------------------------------------

DST_CASES = {
    # Autumn: the clocks go back at 03:00 CEST; 02:30 happens twice, this is the second (CET).
    "autumn": ("2023-10-29T02:30:00+01:00", datetime(2023, 10, 29, 1, 30, tzinfo=UTC), "29.10.2023, 02:30 Uhr"),
    # Spring: the clocks jump from 02:00 to 03:00 CET -> CEST.
    "spring": ("2024-03-31T03:00:00+02:00", datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "31.03.2024, 03:00 Uhr"),
}


@pytest.mark.parametrize("case", sorted(DST_CASES))
async def test_the_deadline_holds_to_the_second_across_a_daylight_saving_change(
    client: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    close_text, close_utc, shown = DST_CASES[case]
    bundle = small_bundle(SLUG)
    bundle["award"]["rounds"][0]["submissions_open"] = "2023-06-01T00:00:00+02:00"
    bundle["award"]["rounds"][0]["submissions_close"] = close_text
    bundle["award"]["rounds"][0]["scoring_close"] = "2024-12-31T23:59:59+01:00"
    async with db.session() as s:
        await import_bundle(s, bundle)
    clock = freeze_clock(monkeypatch, close_utc - timedelta(seconds=1))
    page = await client.get(f"/awards/{SLUG}/call", headers={"accept-language": "de"})
    assert f"Einsendeschluss: {shown}" in page.text
    b = await applicant(client, db, settings)
    first = await start_entry(b)
    second = await start_entry(b)
    in_time = await save(b, first, complete_values(), action="submit", deck=("d.pdf", make_pdf()))
    assert in_time.status_code == 303
    version = await form_version(b, second)
    assert (await save(b, second, {"title": "Entwurf"}, version=version)).status_code == 303
    version = await form_version(b, second)
    clock.now = close_utc + timedelta(seconds=1)
    late = await save(b, second, complete_values(), action="submit", deck=("d.pdf", make_pdf()), version=version)
    assert late.status_code == 409
    assert "The call for entries is closed" in late.text
    assert "Potholes reported in seconds" in late.text  # what was typed is shown, to copy
    entry = await entry_row(db, second)
    assert entry.status is EntryStatus.DRAFT and entry.title == "Entwurf" and entry.attachments == []
    too_late = await save(b, first, complete_values(title="zu spät"), version=await form_version(b, first))
    assert too_late.status_code == 409
    assert (await entry_row(db, first)).title == "Potholes reported in seconds"
    assert (await b.post(f"/awards/{SLUG}/apply")).status_code == 409


# -- concurrent edits ------------------------------------------------------------------------


async def test_a_stale_form_is_refused_with_409_and_the_newer_text_is_kept(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    tab_one = await form_version(b, entry_id)
    tab_two = await form_version(b, entry_id)
    assert tab_one == tab_two
    first = await save(b, entry_id, {"title": "Text from tab one", "pitch": "Pitch one"}, version=tab_one)
    assert first.status_code == 303
    second = await save(b, entry_id, {"title": "Text from tab two", "pitch": "Pitch one"}, version=tab_two)
    assert second.status_code == 409
    assert "Someone saved this entry in the meantime" in second.text
    assert 'value="Text from tab one"' in second.text  # the form shows the newer version
    assert "Text from tab two" in second.text  # and the stale text to copy
    assert (await entry_row(db, entry_id)).title == "Text from tab one"
    # Autosave answers in JSON with the same rule.
    stale_json = await save(b, entry_id, {"title": "again two"}, action="autosave", version=tab_two, json=True)
    assert stale_json.status_code == 409 and stale_json.json()["error"] == "stale"
    current = await form_version(b, entry_id)
    fresh = await save(b, entry_id, {"title": "autosaved"}, action="autosave", version=current, json=True)
    assert fresh.status_code == 200 and fresh.json()["version"] == current + 1
    assert (await entry_row(db, entry_id)).title == "autosaved"


# -- withdraw, delete ------------------------------------------------------------------------


async def test_withdrawing_is_possible_until_judging_starts(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    assert (await save(b, entry_id, complete_values(), action="submit", deck=("d.pdf", make_pdf()))).status_code == 303
    unconfirmed = await b.post(f"/entries/{entry_id}/withdraw")
    assert unconfirmed.status_code == 303 and (await entry_row(db, entry_id)).status is EntryStatus.SUBMITTED
    clock.now = datetime(2023, 9, 1, tzinfo=UTC)
    late = await b.post(f"/entries/{entry_id}/withdraw", {"confirm": "yes"})
    assert late.headers["location"].endswith("withdraw_refused")
    assert (await entry_row(db, entry_id)).status is EntryStatus.SUBMITTED
    clock.now = DURING_CALL
    done = await b.post(f"/entries/{entry_id}/withdraw", {"confirm": "yes"})
    assert done.headers["location"] == f"/entries/{entry_id}?done=withdrawn"
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.WITHDRAWN and entry.withdrawn_at == DURING_CALL
    page = await b.get(f"/entries/{entry_id}")
    assert "Entry withdrawn" in page.text
    assert (await save(b, entry_id, complete_values())).status_code == 409
    assert len(await events(db, "entry.withdrawn")) == 1


async def test_a_startup_deletes_its_draft_with_its_file(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    pdf = make_pdf()
    assert (await save(b, entry_id, {"title": "weg"}, deck=("d.pdf", pdf))).status_code == 303
    stored = settings.uploads_dir / hashlib.sha256(pdf).hexdigest()[:2] / hashlib.sha256(pdf).hexdigest()
    assert stored.exists()
    gone = await b.post(f"/entries/{entry_id}/delete", {"confirm": "yes"})
    assert gone.status_code == 303 and gone.headers["location"] == f"/awards/{SLUG}/apply?deleted=1"
    async with db.session() as s:
        assert await s.get(Entry, entry_id) is None
        blank = sa.select(sa.func.count()).select_from(Startup).where(Startup.name == "")
        assert (await s.execute(blank)).scalar() == 0
    assert not stored.exists()
    assert (await b.get(f"/entries/{entry_id}")).status_code == 404


async def test_a_submitted_entry_cannot_be_deleted(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = await submitted_entry(client, db, settings, monkeypatch)
    b = await applicant(client, db, settings)
    refused = await b.post(f"/entries/{entry_id}/delete", {"confirm": "yes"})
    assert refused.headers["location"].endswith("delete_refused")
    assert (await entry_row(db, entry_id)).status is EntryStatus.SUBMITTED


# -- who sees what ---------------------------------------------------------------------------


async def test_only_the_startups_people_and_organisers_see_an_entry(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = await submitted_entry(client, db, settings, monkeypatch)
    other = await applicant(org_client, db, settings, "other@startup.example")
    for path in (f"/entries/{entry_id}", f"/entries/{entry_id}/edit", f"/entries/{entry_id}/deck"):
        assert (await other.get(path)).status_code == 404, path
    assert (await other.post(f"/entries/{entry_id}/edit", {"title": "x"})).status_code == 404
    juror = await browser_for(org_client, db, settings, "j.doe@example.org", role=Role.JUROR, award_ids=(award_id,))
    assert (await juror.get(f"/entries/{entry_id}")).status_code == 404
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    assert (await organiser.get(f"/entries/{entry_id}")).status_code == 200
    assert (await organiser.get(f"/entries/{entry_id}/deck")).status_code == 200
    assert (await organiser.get(f"/entries/{entry_id}/edit")).status_code == 403
    client.cookies.clear()
    anonymous = await client.get(f"/entries/{entry_id}", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/signin")


async def test_a_colleague_is_invited_and_can_edit(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    bad = await b.post(f"/entries/{entry_id}/members", {"member_email": "kaputt", "member_name": "K"})
    assert bad.status_code == 400 and "m-member_email" in field_errors(bad.text)
    juror = await b.post(f"/entries/{entry_id}/members", {"member_email": "j.doe@example.org", "member_name": "J"})
    assert juror.status_code == 400 and "jury" in field_errors(juror.text)["m-member_email"]
    members = f"/entries/{entry_id}/members"
    added = await b.post(members, {"member_email": "Tom@Strassenklar.example", "member_name": "Tom"})
    assert added.status_code == 303
    [mail] = outbox(settings)
    assert mail["To"] == "tom@strassenklar.example" and "/signin/link/" in mail_parts(mail)[0]
    again = await b.post(members, {"member_email": "tom@strassenklar.example", "member_name": "Tom"})
    assert again.status_code == 400
    tom = await applicant(org_client, db, settings, "tom@strassenklar.example")
    assert (await save(tom, entry_id, {"title": "Von Tom"})).status_code == 303
    assert (await entry_row(db, entry_id)).title == "Von Tom"


# -- organisers ------------------------------------------------------------------------------

EVIL_NAME = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x")'


async def test_hostile_names_stay_plain_text_on_every_page_and_in_the_csv(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    values = complete_values(startup_name=EVIL_NAME, title=FORMULA, contact_name="@SUM(A1)", city="+49 Stadt")
    assert (await save(b, entry_id, values, action="submit", deck=("d.pdf", make_pdf()))).status_code == 303
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    pages = [
        await b.get(f"/entries/{entry_id}"),
        await b.get(f"/entries/{entry_id}/edit"),
        await b.get(f"/awards/{SLUG}/apply"),
        await organiser.get(f"/awards/{SLUG}/entries"),
        await organiser.get(f"/entries/{entry_id}"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert EVIL_NAME not in page.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    exported = await organiser.get(f"/awards/{SLUG}/entries.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    mine = next(r for r in rows if r["ref"] == "E003")
    assert mine["startup"] == EVIL_NAME
    assert mine["title"] == "'" + FORMULA
    assert mine["contact_name"] == "'@SUM(A1)" and mine["city"] == "'+49 Stadt"
    assert {r["ref"] for r in rows} == {"E001", "E002", "E003"}


async def test_the_entry_list_filters_and_eligibility_decisions_are_audited(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = await submitted_entry(client, db, settings, monkeypatch)
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    listing = await organiser.get(f"/awards/{SLUG}/entries?status=submitted&category=smart-city&round=pre-selection")
    assert listing.status_code == 200
    assert "Strassenklar GmbH" in listing.text and "Beispiel GmbH" in listing.text
    assert "Strassenklar" not in (await organiser.get(f"/awards/{SLUG}/entries?category=govtech")).text
    assert "Strassenklar" not in (await organiser.get(f"/awards/{SLUG}/entries?status=draft")).text
    odd = await organiser.get(f"/awards/{SLUG}/entries?status=%00&category=%27&round=x")
    assert odd.status_code == 200
    no_reason = await organiser.post(f"/entries/{entry_id}/eligibility", {"decision": "disqualify", "reason": " "})
    assert no_reason.status_code == 400 and "f-reason" in field_errors(no_reason.text)
    out = await organiser.post(
        f"/entries/{entry_id}/eligibility", {"decision": "disqualify", "reason": "Founded more than 5 years ago."}
    )
    assert out.status_code == 303
    startup = await applicant(client, db, settings)
    page = await startup.get(f"/entries/{entry_id}")
    assert "Disqualified" in page.text and "Founded more than 5 years ago." in page.text
    back = await organiser.post(f"/entries/{entry_id}/eligibility", {"decision": "accept"})
    assert back.status_code == 303
    entry = await entry_row(db, entry_id)
    assert entry.status is EntryStatus.SUBMITTED and entry.accepted_at is not None and entry.status_reason == ""
    [disq] = await events(db, "entry.disqualified")
    assert disq.before == {"status": "submitted", "reason": ""}
    assert disq.after == {"status": "disqualified", "reason": "Founded more than 5 years ago."}
    assert len(await events(db, "entry.accepted")) == 1
    startup_tries = await startup.post(f"/entries/{entry_id}/eligibility", {"decision": "accept"})
    assert startup_tries.status_code == 403


async def test_anonymising_an_ended_award_removes_personal_data_and_keeps_scores(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = await submitted_entry(client, db, settings, monkeypatch)
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    anonymise = f"/awards/{SLUG}/anonymise"
    assert (await open_confirmation(organiser.client, anonymise)).refusals == [
        "The award has not ended yet: finalise its last round first."
    ]
    early = await organiser.post(anonymise, {"confirm": "yes", "state": "any"})
    assert early.status_code == 409
    assert (await entry_row(db, entry_id)).contact_email == "lena@strassenklar.example"
    async with db.session() as s:
        rnd = (await s.execute(sa.select(Round).where(Round.slug == "pre-selection"))).scalar_one()
        rnd.finalised_at = datetime(2023, 10, 1, tzinfo=UTC)
        sheets_before = (await s.execute(sa.select(sa.func.count()).select_from(ScoreSheet))).scalar_one()
    wrong = await organiser.post(anonymise, {"confirm": SLUG})  # the old form's field
    assert wrong.status_code == 400 and "needs your confirmation on this page first" in wrong.text
    deck = (await entry_row(db, entry_id)).attachments[0]
    stored = settings.uploads_dir / deck.sha256[:2] / deck.sha256
    async with db.session() as s:  # traces of the startup's address and of where it worked from
        from award_jury.accounts import ratelimit
        from award_jury.accounts.models import RateLimitHit
        from award_jury.audit.services import record_event

        record_event(s, "signin.failed", object_type="email", object_id="lena@strassenklar.example", ip="192.0.2.7")
        record_event(s, "entry.viewed", award_id=award_id, object_type="entry", object_id=entry_id, ip="192.0.2.7")
        address = "lena@strassenklar.example"
        s.add(RateLimitHit(bucket=ratelimit.LINK_MAILS_PER_EMAIL.bucket(address)))
        s.add(RateLimitHit(bucket=ratelimit.SIGNIN_FAILURES_PER_PAIR.bucket(ratelimit.pair(address, "192.0.2.7"))))
    assert stored.exists()
    done = await confirm(organiser.client, anonymise)
    assert done.status_code == 303
    entry = await entry_row(db, entry_id)
    assert (entry.contact_name, entry.contact_email, entry.video_url, entry.startup.investors) == ("", "", None, "")
    assert entry.attachments == [] and not stored.exists()
    assert entry.startup.name == "Strassenklar GmbH" and entry.title == "Potholes reported in seconds"
    async with db.session() as s:
        lena = (await s.execute(sa.select(Person).where(Person.name == "Lena Berg"))).scalar_one_or_none()
        assert lena is None
        assert (await s.execute(sa.select(sa.func.count()).select_from(EntryMember))).scalar_one() == 0
        assert (await s.execute(sa.select(sa.func.count()).select_from(ScoreSheet))).scalar_one() == sheets_before
        award = (await s.execute(sa.select(Award).where(Award.slug == SLUG))).scalar_one()
        assert award.anonymised_at is not None
        imported = (await s.execute(sa.select(Entry).where(Entry.ref == "E001"))).scalar_one()
        assert imported.contact_email == ""
        assert (await s.execute(sa.select(sa.func.count()).select_from(Attachment))).scalar_one() == 0
    assert len(await events(db, "award.anonymised")) == 1
    [failed] = await events(db, "signin.failed")
    assert (failed.object_id, failed.ip) == ("anonymised", None)
    assert [e.ip for e in await events(db, "entry.viewed")] == [None]
    async with db.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(RateLimitHit))).scalar_one() == 0


async def test_the_status_page_shows_the_outcome_once_results_are_published(
    client: Client, db: Database, settings: Settings, award_id: int
) -> None:
    from award_jury.awards.services import get_award
    from award_jury.ranking.services import finalise_round, publish_round

    async with db.session() as s:
        organiser = (await s.execute(sa.select(Person).where(Person.email == "j.doe@example.org"))).scalar_one()
        entries = {e.ref: e.id for e in (await s.execute(sa.select(Entry))).scalars()}
    winner = await applicant(client, db, settings, "hallo@zweite.example")
    before = await winner.get(f"/entries/{entries['E002']}")
    assert "With the jury" in before.text and "Winner" not in before.text
    async with db.session() as s:
        award = await get_award(s, SLUG)
        await finalise_round(s, award, award.rounds[0], None, "test", override_reason="test data: some sheets missing")
    finalised = await winner.get(f"/entries/{entries['E002']}")
    assert "Winner" not in finalised.text  # finalised is not published yet
    async with db.session() as s:
        award = await get_award(s, SLUG)
        await publish_round(s, award, award.rounds[0], organiser)
    page = await winner.get(f"/entries/{entries['E002']}")
    assert "Winner – place 1" in page.text and "Results published: winner of Pre-selection" in page.text
    other = await applicant(client, db, settings, "team@example.org")
    assert "Not selected" in (await other.get(f"/entries/{entries['E001']}")).text


async def test_the_entry_list_needs_the_same_queries_for_3_or_30_entries(
    org_client: Client, db: Database, settings: Settings, count_queries: Any
) -> None:
    def bundle(slug: str, n: int) -> dict[str, Any]:
        doc = small_bundle(slug)
        template = doc["entries"][0]
        doc["entries"] = [
            {
                **template,
                "ref": f"E{i:03d}",
                "attachments": [
                    {"name": "deck.pdf", "sha256": f"{i:064x}", "size": 10, "media_type": "application/pdf"}
                ],
            }
            for i in range(1, n + 1)
        ]
        doc["conflicts"], doc["sheets"] = [], []
        return doc

    async with db.session() as s:
        small = await import_bundle(s, bundle("three", 3))
        large = await import_bundle(s, bundle("thirty", 30))
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(small.id, large.id))
    counts = []
    for slug in ("three", "thirty"):
        for path in (f"/awards/{slug}/entries", f"/awards/{slug}/entries.csv"):
            count_queries.statements.clear()
            response = await organiser.get(path)
            assert response.status_code == 200
            counts.append(count_queries.count)
    assert counts[:2] == counts[2:], counts
