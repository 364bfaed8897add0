"""An entry against what people can send: versions of odd digits and crafted bodies never answer
500, a replaced deck leaves no file behind, line breaks in one-line fields cannot add mail
headers, error messages link to their fields, every entry post needs the CSRF token, and neither
a juror on its team nor another award's organiser reaches it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from award_jury.awards.models import Round
from award_jury.db import Database
from award_jury.entries.models import Entry
from award_jury.enums import EntryStatus, Role
from award_jury.settings import Settings
from tests.support.accounts import EN, outbox
from tests.support.apps import app_client, shared_app
from tests.support.confirm import confirm
from tests.support.entries import applicant, complete_values, form_version, freeze_clock, make_pdf, save, start_entry
from tests.support.setup_helpers import browser_for, field_errors, import_small, summary_errors

Client = httpx.AsyncClient
SLUG = "mini-award"


@pytest.fixture
async def org_client(settings: Settings, db: Database) -> AsyncIterator[Client]:
    async with app_client(shared_app(settings, db)) as c:
        yield c


@pytest.fixture
async def award_id(db: Database) -> int:
    return await import_small(db, SLUG)


def stored(settings: Settings, data: bytes) -> bool:
    digest = hashlib.sha256(data).hexdigest()
    return (settings.uploads_dir / digest[:2] / digest).exists()


# -- crafted requests ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["²", "٣", "¹²", "1²"])
async def test_a_version_of_odd_digits_is_stale_not_a_server_error(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    data = {**complete_values(), "action": "save", "version": version, "_csrf_token": b.token}
    response = await b.client.post(f"/entries/{entry_id}/edit", data=data, headers=EN, follow_redirects=False)
    assert response.status_code == 409, response.status_code
    json = await b.client.post(
        f"/entries/{entry_id}/edit", data={**data, "action": "autosave"}, headers={**EN, "accept": "application/json"}
    )
    assert json.status_code == 409 and json.json()["error"] == "stale"


async def test_crafted_bodies_never_answer_500(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    version = await form_version(b, entry_id)
    url = f"/entries/{entry_id}/edit"
    csrf = {"x-csrftoken": b.token, **EN}
    bodies: list[tuple[str, bytes]] = [
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"garbage"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n"),
        ("application/x-www-form-urlencoded", b"title=%ff%fe&version=" + str(version).encode()),
        ("application/x-www-form-urlencoded", b"title=\xff\xfe&version=" + str(version).encode()),
        ("application/json", b'{"title": "x"}'),
        ("text/plain", b"\x00\x01"),
    ]
    for content_type, body in bodies:
        response = await b.client.post(url, content=body, headers={**csrf, "content-type": content_type})
        assert response.status_code < 500, (content_type, body, response.status_code)
    # A file where text belongs, text where the file belongs, fields twice, huge fields.
    version = await form_version(b, entry_id)
    files = [("title", ("t.txt", b"as a file", "text/plain")), ("deck", ("", b"", "application/octet-stream"))]
    data = {**complete_values(), "action": "save", "version": str(version), "_csrf_token": b.token}
    as_file = await b.client.post(url, data={k: v for k, v in data.items() if k != "title"}, files=files, headers=EN)
    assert as_file.status_code in (303, 400), as_file.status_code
    version = await form_version(b, entry_id)
    data["version"] = str(version)
    text_deck = await b.client.post(url, data={**data, "deck": "not a file"}, headers=EN)
    assert text_deck.status_code in (303, 400), text_deck.status_code
    version = await form_version(b, entry_id)
    body = f"version={version}&version=1&title=a&title=b&action=save&_csrf_token={b.token}"
    urlencoded = {**EN, "content-type": "application/x-www-form-urlencoded"}
    twice = await b.client.post(url, content=body, headers=urlencoded)
    assert twice.status_code in (303, 400, 409), twice.status_code
    version = await form_version(b, entry_id)
    huge = {**data, "version": str(version), "title": "x" * 200_000, "pitch": "y" * 200_000}
    # As the browser sends the form (multipart: it has a file field): messages beside the fields,
    # and a draft is kept.
    empty_deck = {"deck": ("", b"", "application/octet-stream")}
    big = await b.client.post(url, data=huge, files=empty_deck, headers=EN)
    assert big.status_code == 200 and {"f-title", "f-pitch"} <= set(field_errors(big.text))
    # Url-encoded, it is held to the limit of forms without a file: the "too much text" page.
    crafted = await b.client.post(url, data=huge, headers=EN)
    assert crafted.status_code == 413 and "Too much text" in crafted.text


# -- files -----------------------------------------------------------------------------------


async def test_a_replaced_deck_leaves_no_file_behind(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    first, second = make_pdf(1), make_pdf(2)
    assert (await save(b, entry_id, complete_values(), deck=("a.pdf", first))).status_code == 303
    assert stored(settings, first)
    assert (await save(b, entry_id, complete_values(), action="submit", deck=("b.pdf", second))).status_code == 303
    assert stored(settings, second)
    assert not stored(settings, first), "the replaced deck is still on disk"
    # ... and anonymisation then leaves no uploaded file of the award at all.
    async with db.session() as s:
        rnd = (await s.execute(sa.select(Round).where(Round.slug == "pre-selection"))).scalar_one()
        rnd.finalised_at = datetime(2023, 10, 1, tzinfo=UTC)
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    assert (await confirm(organiser.client, f"/awards/{SLUG}/anonymise")).status_code == 303
    assert [p for p in settings.uploads_dir.rglob("*") if p.is_file()] == []


async def test_the_same_deck_in_two_entries_stays_while_one_still_uses_it(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    shared, other = make_pdf(1), make_pdf(3)
    lena = await applicant(client, db, settings)
    mine = await start_entry(lena)
    assert (await save(lena, mine, {"title": "a"}, deck=("a.pdf", shared))).status_code == 303
    tom = await applicant(org_client, db, settings, "tom@example.org")
    theirs = await start_entry(tom)
    assert (await save(tom, theirs, {"title": "b"}, deck=("b.pdf", shared))).status_code == 303
    assert (await save(tom, theirs, {"title": "b"}, deck=("c.pdf", other))).status_code == 303
    assert stored(settings, shared) and stored(settings, other)
    deck = await lena.get(f"/entries/{mine}/deck")
    assert deck.status_code == 200 and deck.content == shared


# -- e-mails ---------------------------------------------------------------------------------


async def test_line_breaks_in_one_line_fields_do_not_stop_the_confirmation(
    client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    values = complete_values(title="Potholes\r\nBcc: victim@example.org", startup_name="Strassen\nklar")
    response = await save(b, entry_id, values, action="submit", deck=("d.pdf", make_pdf()))
    assert response.status_code == 303, field_errors(response.text)
    [mail] = outbox(settings)
    assert mail["Bcc"] is None
    assert "victim@example.org" not in mail["To"]
    assert "\n" not in mail["Subject"]
    async with db.session() as s:
        entry = await s.get(Entry, entry_id)
        assert entry is not None and "\n" not in entry.title


# -- accessibility ---------------------------------------------------------------------------


async def test_errors_on_the_status_page_link_to_their_fields(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    bad = await b.post(f"/entries/{entry_id}/members", {"member_email": "kaputt", "member_name": "K"})
    assert bad.status_code == 400
    for target in summary_errors(bad.text):
        assert f'id="{target}"' in bad.text, f"the error summary links to #{target}, which is not on the page"
    # The organiser's decision: its message is tied to the choice it is about.
    response = await save(b, entry_id, complete_values(), action="submit", deck=("d.pdf", make_pdf()))
    assert response.status_code == 303
    organiser = await browser_for(org_client, db, settings, "olga@example.org", award_ids=(award_id,))
    no_choice = await organiser.post(f"/entries/{entry_id}/eligibility", {"decision": "", "reason": ""})
    assert no_choice.status_code == 400
    for target in summary_errors(no_choice.text):
        assert f'id="{target}"' in no_choice.text
    assert "f-decision" in field_errors(no_choice.text)
    assert 'aria-describedby="f-decision-error"' in no_choice.text


async def test_a_juror_who_was_made_a_co_editor_earlier_cannot_reach_the_entry(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    added = await b.post(f"/entries/{entry_id}/members", {"member_email": "later@juror.example", "member_name": "L"})
    assert added.status_code == 303
    juror = await browser_for(org_client, db, settings, "later@juror.example", role=Role.JUROR, award_ids=(award_id,))
    async with db.session() as s:
        entry = await s.get(Entry, entry_id)
        assert entry is not None and entry.status is EntryStatus.DRAFT
    for path in (f"/entries/{entry_id}", f"/entries/{entry_id}/edit", f"/entries/{entry_id}/deck"):
        assert (await juror.get(path)).status_code == 404, path
    assert (await juror.post(f"/entries/{entry_id}/withdraw", {"confirm": "yes"})).status_code == 404
    assert (await b.get(f"/entries/{entry_id}")).status_code == 200  # the others keep it


async def test_every_entry_post_needs_the_csrf_token_and_another_awards_organiser_sees_nothing(
    client: Client, org_client: Client, db: Database, settings: Settings, award_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    for action in ("edit", "withdraw", "delete", "members"):
        refused = await b.client.post(
            f"/entries/{entry_id}/{action}",
            data={"confirm": "yes", "version": "1"},
            headers={**EN, "accept": "application/json"},
        )
        assert refused.status_code == 403, action
    other_award = await import_small(db, "other-award")
    stranger = await browser_for(org_client, db, settings, "otto@example.org", award_ids=(other_award,))
    for path in (f"/entries/{entry_id}", f"/entries/{entry_id}/deck", f"/awards/{SLUG}/entries.csv"):
        assert (await stranger.get(path)).status_code in (403, 404), path
    decided = await stranger.post(f"/entries/{entry_id}/eligibility", {"decision": "accept"})
    assert decided.status_code == 404
