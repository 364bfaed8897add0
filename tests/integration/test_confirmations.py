"""Irreversible actions go through a confirmation page that states their consequences in numbers,
and the server checks the same rules again when the form comes back (finalise and publish; the
command line keeps the same rules). Refused: finalising while the round's call is open. Needs an
override with a written reason (audited): finalising while scoring is open or sheets are missing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Category, Criterion, Round
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.certificates.models import Certificate
from award_jury.certificates.services import issue_certificates
from award_jury.db import Database, utcnow
from award_jury.entries.models import Entry
from award_jury.enums import Role, SheetStatus
from award_jury.judging.models import Assignment, JurorCategory, ScoreSheet
from award_jury.ranking.models import ResultSnapshot
from award_jury.ranking.services import finalise_round
from award_jury.settings import Settings
from tests.support.accounts import page_token, post_form, sign_in_as
from tests.support.cli import cli_env, run_cli
from tests.support.confirm import EN, confirm, open_confirmation
from tests.support.factories import small_bundle

SLUG = "mini-award"
RESULTS = f"/awards/{SLUG}/rounds/pre-selection/results"
FINALISE, PUBLISH = f"{RESULTS}/finalise", f"{RESULTS}/publish"


def complete_bundle() -> dict[str, Any]:
    """One entry (E002) with its one submitted sheet; min_sheets 1; every window closed in 2023."""
    doc = small_bundle(SLUG)
    doc["entries"] = [e for e in doc["entries"] if e["ref"] != "E001"]
    doc["conflicts"] = []
    return doc


def with_windows(
    doc: dict[str, Any], *, call_days: int | None = None, scoring_days: int | None = None
) -> dict[str, Any]:
    """The round's call and scoring close this many days from now (negative: in the past)."""
    rnd = doc["award"]["rounds"][0]
    now = utcnow().replace(microsecond=0)
    if call_days is not None:
        rnd["submissions_open"] = (now - timedelta(days=30)).isoformat()
        rnd["submissions_close"] = (now + timedelta(days=call_days)).isoformat()
    if scoring_days is not None:
        rnd["scoring_close"] = (now + timedelta(days=scoring_days)).isoformat()
    return doc


async def organiser(
    client: httpx.AsyncClient, db: Database, settings: Settings, doc: dict[str, Any], locale: str = "en"
) -> str:
    async with db.session() as s:
        award = await import_bundle(s, doc)
        chair = await get_or_create_person(s, "chair@example.org", "Clara Chair", locale)
        await grant_role(s, chair, Role.ORGANISER, award.id)
    await sign_in_as(client, db, settings, chair.id)
    return await page_token(client, RESULTS)


async def stored(db: Database) -> tuple[list[ResultSnapshot], Round, list[AuditEvent]]:
    async with db.session() as s:
        snapshots = list((await s.execute(sa.select(ResultSnapshot))).scalars())
        rnd = (await s.execute(sa.select(Round).join(Award).where(Award.slug == SLUG))).scalar_one()
        events = list(
            (
                await s.execute(sa.select(AuditEvent).where(AuditEvent.action.like("round.%")).order_by(AuditEvent.id))
            ).scalars()
        )
    return snapshots, rnd, events


# --- the web pages ----------------------------------------------------------------------------


async def test_finalise_and_publish_of_a_complete_round_need_only_a_plain_confirmation(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser(client, db, settings, complete_bundle())
    results = await client.get(RESULTS)
    assert f'href="{FINALISE}"' in results.text and f'action="{FINALISE}"' not in results.text  # a link, no form
    page = await open_confirmation(client, FINALISE)
    assert page.status == 200
    assert page.facts == [
        "1 entry takes part in this round; its result is frozen with a fingerprint.",
        "1 entry wins a prize.",
        "1 score sheet is submitted and counts.",
        "The score sheets of 1 juror become read-only.",
        "The call for entries closed on 31 Aug 2023, 23:59.",
    ]
    assert (page.refusals, page.warnings, page.asks_for_reason) == ([], [], False)
    done = await confirm(client, FINALISE, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"{RESULTS}?finalised=1"
    snapshots, rnd, events = await stored(db)
    assert len(snapshots) == 1 and rnd.finalised_at is not None
    assert [(e.action, e.after) for e in events] == [
        ("round.finalised", {"sha256": snapshots[0].sha256, "method": "mean"})
    ]

    publishing = await open_confirmation(client, PUBLISH)
    assert publishing.facts[:2] == [
        "The award's public results page names 1 winner.",
        "1 startup sees its result on its status page.",
    ]
    published = await confirm(client, PUBLISH, page=publishing)
    assert published.status_code == 303 and published.headers["location"] == f"{RESULTS}?published=1"
    _snapshots, rnd, events = await stored(db)
    assert rnd.published_at is not None and [e.action for e in events] == ["round.finalised", "round.published"]
    assert (await open_confirmation(client, PUBLISH)).refusals == ["The results are published already."]


async def test_a_post_without_the_confirmation_step_changes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings, complete_bundle())
    for path in (FINALISE, PUBLISH):
        response = await post_form(client, path, token=token)  # the old one-click button
        assert response.status_code == 400, path
        assert "Nothing was changed: this needs your confirmation on this page first." in response.text
        assert 'name="confirm" value="yes"' in response.text or "Not possible now" in response.text
    no_state = await post_form(client, FINALISE, {"confirm": "yes"}, token=token)
    assert no_state.status_code == 400
    snapshots, rnd, events = await stored(db)
    assert (snapshots, rnd.finalised_at, rnd.published_at, events) == ([], None, None, [])


async def test_finalising_is_refused_while_the_call_is_open_even_with_a_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await organiser(client, db, settings, with_windows(complete_bundle(), call_days=14, scoring_days=40))
    async with db.session() as s:
        close = (await s.execute(sa.select(Round.submissions_close))).scalar_one()
    page = await open_confirmation(client, FINALISE)
    assert page.status == 200 and page.fields == {}  # nothing to confirm
    (refusal,) = page.refusals
    assert refusal.startswith("The call for entries is open until ")
    assert "finalising now would close it and lock the startups' entries" in refusal
    assert close.strftime("%Y") in refusal
    forged = await post_form(
        client, FINALISE, {"confirm": "yes", "state": "x", "override_reason": "hurry"}, token=token
    )
    assert forged.status_code == 409
    assert "Nothing was changed: this is not possible now." in forged.text
    snapshots, rnd, events = await stored(db)
    assert (snapshots, rnd.finalised_at, events) == ([], None, [])


async def test_finalising_while_scoring_is_open_with_missing_sheets_needs_an_audited_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = with_windows(complete_bundle(), call_days=-10, scoring_days=40)
    doc["jurors"] += [
        {"email": "k.roe@example.org", "name": "Kim Roe", "categories": ["smart-city"]},
        {"email": "m.poe@example.org", "name": "Mo Poe", "categories": ["smart-city"]},
    ]
    doc["sheets"].append(
        {
            "juror": "k.roe@example.org",
            "entry": "E002",
            "round": "pre-selection",
            "status": "draft",
            "scores": {"innovation": 5},
            "comment": "",
        }
    )
    await organiser(client, db, settings, doc)
    async with db.session() as s:
        mo = (await s.execute(sa.select(Person).where(Person.email == "m.poe@example.org"))).scalar_one()
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E002"))).scalar_one()
        rnd = (await s.execute(sa.select(Round))).scalar_one()
        s.add(Assignment(round_id=rnd.id, entry_id=entry.id, juror_id=mo.id))
    page = await open_confirmation(client, FINALISE)
    assert "1 sheet is still a draft and will not count." in page.facts
    assert "1 assigned sheet is not started." in page.facts
    assert page.refusals == []
    (scoring, missing) = page.warnings
    assert scoring.startswith("Scoring is open until ")
    assert scoring.endswith(": jurors can still submit and change sheets.")
    assert missing == "2 score sheets are missing (drafts and sheets not started)."
    assert page.asks_for_reason

    no_reason = await confirm(client, FINALISE, page=page)
    assert no_reason.status_code == 400
    assert "Write down why you go ahead despite the warnings." in no_reason.text
    assert 'aria-invalid="true"' in no_reason.text
    assert (await stored(db))[0] == []

    done = await confirm(client, FINALISE, page=page, override_reason="Pitch day moved the final forward")
    assert done.status_code == 303
    snapshots, rnd, events = await stored(db)
    (event,) = events
    assert event.action == "round.finalised" and event.actor_label == ""
    assert event.after == {
        "sha256": snapshots[0].sha256,
        "method": "mean",
        "overridden": [scoring, missing],
        "override_reason": "Pitch day moved the final forward",
    }


async def test_a_confirmation_given_on_a_page_that_no_longer_matches_is_refused(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = complete_bundle()
    doc["jurors"].append({"email": "k.roe@example.org", "name": "Kim Roe", "categories": ["smart-city"]})
    await organiser(client, db, settings, doc)
    page = await open_confirmation(client, FINALISE)
    assert page.warnings == []
    async with db.session() as s:  # meanwhile a juror is assigned and has not started
        kim = (await s.execute(sa.select(Person).where(Person.email == "k.roe@example.org"))).scalar_one()
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E002"))).scalar_one()
        rnd = (await s.execute(sa.select(Round))).scalar_one()
        s.add(Assignment(round_id=rnd.id, entry_id=entry.id, juror_id=kim.id))
    stale = await confirm(client, FINALISE, page=page, override_reason="")
    assert stale.status_code == 409
    assert "the situation changed since the page was shown" in stale.text
    assert "1 assigned sheet is not started." in stale.text
    assert (await stored(db))[0] == []


async def test_the_confirmation_page_speaks_german(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    await organiser(client, db, settings, complete_bundle(), locale="de")
    page = await open_confirmation(client, FINALISE, headers={"accept-language": "de"})
    assert '<html lang="de">' in page.html
    assert page.facts == [
        "1 Beitrag nimmt an dieser Runde teil; sein Ergebnis wird mit einem Fingerabdruck eingefroren.",
        "1 Beitrag gewinnt einen Preis.",
        "1 Bewertungsbogen ist abgegeben und zählt.",
        "Die Bewertungsbögen von 1 Jurymitglied werden schreibgeschützt.",
        "Die Ausschreibung endete am 31.08.2023, 23:59 Uhr.",
    ]
    assert "%(round)s abschließen?".replace("%(round)s", "Pre-selection") in page.html


# --- revoking a certificate --------------------------------------------------------------------


async def issued_certificate(db: Database) -> tuple[int, str]:
    """The round finalised and its certificates issued: E002's winner certificate (id, code)."""
    async with db.session() as s:
        award = await get_award(s, SLUG)
        await finalise_round(s, award, award.rounds[0], None, "test")
        certs = await issue_certificates(s, award, award.rounds[0], "all", None, "test")
    return certs[0].id, certs[0].code


async def test_revoking_a_certificate_names_holder_and_code_and_needs_a_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser(client, db, settings, complete_bundle())
    cert_id, code = await issued_certificate(db)
    overview = await client.get(f"/awards/{SLUG}/certificates/rounds/pre-selection", headers=EN)
    revoke = f"/awards/{SLUG}/certificates/{cert_id}/revoke"
    assert f'href="{revoke}"' in overview.text and f'action="{revoke}"' not in overview.text  # a link, no form
    page = await open_confirmation(client, revoke)
    assert page.status == 200 and f"Revoke the certificate {code}?" in page.html
    assert page.facts == [
        f"The certificate {code} of E002 – Zweite AG is revoked.",
        f"Anyone who checks the code {code} on the verification page is told that the certificate was revoked "
        "and is no longer valid.",
        "Newly generated files leave the certificate out. The reason stays with the organisers.",
    ]
    assert 'name="reason"' in page.html and page.refusals == []

    without = await client.post(
        revoke, data={"reason": "cheated", "_csrf_token": page.fields["_csrf_token"]}, headers=EN
    )  # the old one-click form
    assert without.status_code == 400 and "needs your confirmation on this page first" in without.text
    no_reason = await client.post(revoke, data=page.fields, headers=EN)
    assert no_reason.status_code == 400 and "Write down why the certificate is revoked." in no_reason.text
    async with db.session() as s:
        assert (await s.get(Certificate, cert_id)).revoked_at is None  # type: ignore[union-attr]

    done = await client.post(revoke, data={**page.fields, "reason": "cheated"}, headers=EN)
    assert done.status_code == 303
    verified = await client.get(f"/verify/{code}", headers=EN)
    assert "Certificate revoked" in verified.text
    again = await client.post(revoke, data={**page.fields, "reason": "twice"}, headers=EN)
    assert again.status_code == 409 and "This certificate is revoked already." in again.text
    assert (await open_confirmation(client, revoke)).refusals == ["This certificate is revoked already."]
    async with db.session() as s:
        events = (await s.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "certificate.revoked"))).all()
    assert [e for (e,) in events] == [{"code": code, "reason": "cheated"}]


# --- deleting a category, a round, a criterion ------------------------------------------------


def setup_bundle() -> dict[str, Any]:
    """complete_bundle with Jane judging both categories and an empty second round "Final" with
    one criterion, where E002 holds a draft sheet (not taking part: imported sheets only)."""
    doc = complete_bundle()
    doc["jurors"][0]["categories"] = ["smart-city", "govtech"]
    final = {**doc["award"]["rounds"][0], "slug": "final", "name": "Final"}
    final["criteria"] = [{"key": "team", "name": "Team", "weight": 10, "min": 0, "max": 10, "step": 1}]
    doc["award"]["rounds"].append(final)
    return doc


async def test_deleting_a_category_states_entries_prizes_and_jurors(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser(client, db, settings, setup_bundle())
    async with db.session() as s:
        ids = dict((await s.execute(sa.select(Category.slug, Category.id))).all())
    used, empty = (f"/awards/{SLUG}/categories/{ids[slug]}/delete" for slug in ("smart-city", "govtech"))
    setup_page = await client.get(f"/awards/{SLUG}/setup", headers=EN)
    assert f'href="{empty}"' in setup_page.text and f'action="{empty}"' not in setup_page.text

    refused = await open_confirmation(client, used)
    assert refused.facts == [
        "The category Smart City with its 1 prize is deleted.",
        "1 entry is in this category.",
        "1 juror no longer judges this category; their other categories stay.",
    ]
    assert refused.refusals == ["This category has entries and cannot be deleted."] and refused.fields == {}
    page = await open_confirmation(client, empty)
    assert page.facts == [
        "The category GovTech with its 2 prizes is deleted.",
        "0 entries are in this category.",
        "1 juror no longer judges this category; their other categories stay.",
    ]
    without = await client.post(empty, data={"_csrf_token": page.fields["_csrf_token"]}, headers=EN)
    assert without.status_code == 400 and "needs your confirmation on this page first" in without.text
    forced = await client.post(used, data=page.fields | {"state": "x"}, headers=EN)
    assert forced.status_code == 409 and "This category has entries and cannot be deleted." in forced.text
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Category)) == 2
    done = await confirm(client, empty, page=page)
    assert done.status_code == 303
    async with db.session() as s:
        assert (await s.execute(sa.select(Category.slug))).scalars().all() == ["smart-city"]
        assert await s.scalar(sa.select(sa.func.count()).select_from(JurorCategory)) == 1


async def test_deleting_a_round_states_entries_sheets_assignments_and_criteria(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser(client, db, settings, setup_bundle())
    used, empty = (f"/awards/{SLUG}/rounds/{slug}/delete" for slug in ("pre-selection", "final"))
    round_page = await client.get(f"/awards/{SLUG}/rounds/final", headers=EN)
    assert f'href="{empty}"' in round_page.text and f'action="{empty}"' not in round_page.text
    refused = await open_confirmation(client, used)
    assert refused.facts == [
        "The round Pre-selection and its 2 criteria are deleted.",
        "1 entry takes part in this round.",
        "1 score sheet exists in this round.",
        "0 assignments of jurors are removed.",  # the import makes no assignments
    ]
    assert refused.refusals == ["This round has entries or score sheets and cannot be deleted."]
    page = await open_confirmation(client, empty)
    assert page.facts == [
        "The round Final and its 1 criterion are deleted.",
        "0 entries take part in this round.",
        "0 score sheets exist in this round.",
        "0 assignments of jurors are removed.",
    ]
    assert page.refusals == []
    without = await client.post(empty, data={"_csrf_token": page.fields["_csrf_token"]}, headers=EN)
    assert without.status_code == 400
    stale = await client.post(empty, data=page.fields | {"state": "0" * 20}, headers=EN)
    assert stale.status_code == 409 and "the situation changed since the page was shown" in stale.text
    async with db.session() as s:
        assert (await s.execute(sa.select(Round.slug).order_by(Round.id))).scalars().all() == ["pre-selection", "final"]
    done = await confirm(client, empty, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"/awards/{SLUG}/setup?saved=rounds#rounds"
    async with db.session() as s:
        assert (await s.execute(sa.select(Round.slug))).scalars().all() == ["pre-selection"]
        events = (await s.execute(sa.select(AuditEvent.action).where(AuditEvent.action == "round.deleted"))).all()
    assert len(events) == 1


async def test_deleting_a_criterion_states_its_levels_and_draft_values(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    doc = setup_bundle()
    doc["sheets"][0]["status"] = "draft"  # nothing submitted: the criteria may still change
    await organiser(client, db, settings, doc)
    path = f"/awards/{SLUG}/rounds/pre-selection/criteria/impact/delete"
    round_page = await client.get(f"/awards/{SLUG}/rounds/pre-selection", headers=EN)
    assert f'href="{path}"' in round_page.text and f'action="{path}"' not in round_page.text
    page = await open_confirmation(client, path)
    assert page.facts == [
        "The criterion Impact (weight 25) is deleted from the round Pre-selection.",
        "1 value given for it on draft sheets is deleted.",
        "1 other criterion stays in this round.",
    ]
    without = await client.post(path, data={"_csrf_token": page.fields["_csrf_token"]}, headers=EN)
    assert without.status_code == 400
    async with db.session() as s:  # meanwhile the sheet is submitted: the round's criteria are fixed
        await s.execute(sa.update(ScoreSheet).values(status=SheetStatus.SUBMITTED, submitted_at=utcnow()))
    refused = await confirm(client, path, page=page)
    assert refused.status_code == 409 and "its criteria can no longer change" in refused.text
    assert (await open_confirmation(client, path)).refusals == [
        "Scores have been submitted in this round: its criteria can no longer change."
    ]
    async with db.session() as s:
        await s.execute(sa.update(ScoreSheet).values(status=SheetStatus.DRAFT, submitted_at=None))
    done = await confirm(client, path)
    assert done.status_code == 303
    async with db.session() as s:
        assert (await s.execute(sa.select(Criterion.key).order_by(Criterion.id))).scalars().all() == [
            "innovation",
            "team",
        ]


# --- removing personal data -------------------------------------------------------------------


async def test_anonymising_states_what_is_removed_and_is_refused_before_the_award_ends(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await organiser(client, db, settings, with_windows(complete_bundle(), scoring_days=3))
    path = f"/awards/{SLUG}/anonymise"
    entries = await client.get(f"/awards/{SLUG}/entries", headers=EN)
    assert f'action="{path}"' not in entries.text
    early = await open_confirmation(client, path)
    assert early.refusals == ["The award has not ended yet: finalise its last round first."] and early.fields == {}
    async with db.session() as s:
        await s.execute(sa.update(Round).values(scoring_close=utcnow() - timedelta(days=1)))
    page = await open_confirmation(client, path)
    assert page.facts == [
        "1 entry loses its contact's name and e-mail address, investors, website and video link.",
        "1 entry still names a contact person.",
        "0 uploaded files are deleted.",
        "1 person of the startups loses access to the entries; accounts they use nowhere else are emptied and closed.",
        "The startups' names, the entries' texts, the jury's scores and the ranks stay.",
    ]
    without = await client.post(path, data={"_csrf_token": page.fields["_csrf_token"], "confirm": SLUG}, headers=EN)
    assert without.status_code == 400
    async with db.session() as s:
        assert (await s.execute(sa.select(Entry.contact_email))).scalar_one() != ""
    done = await confirm(client, path, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"/awards/{SLUG}/entries?anonymised=1"
    async with db.session() as s:
        assert (await s.execute(sa.select(Entry.contact_email))).scalar_one() == ""
    again = await open_confirmation(client, path)
    assert "1 entry still names" not in again.html and "0 entries still name a contact person." in again.facts


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    return cli_env(make_database_url("conf", migrated=True), tmp_path / "var")


def imported(env: dict[str, str], tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run_cli(env, "import", str(path))
    assert result.exit_code == 0, result.output


def test_cli_finalise_refuses_an_open_call_even_with_an_override_reason(env: dict[str, str], tmp_path: Path) -> None:
    imported(env, tmp_path, with_windows(complete_bundle(), call_days=14, scoring_days=40))
    result = run_cli(env, "finalise", SLUG, "--override-reason", "hurry")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "The call for entries is open until" in result.stderr


def test_cli_finalise_needs_an_override_reason_while_scoring_is_open(env: dict[str, str], tmp_path: Path) -> None:
    imported(env, tmp_path, with_windows(complete_bundle(), call_days=-1, scoring_days=3))
    refused = run_cli(env, "finalise", SLUG)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert "Scoring is open until" in refused.stderr and "--override-reason" in refused.stderr
    done = run_cli(env, "finalise", SLUG, "--override-reason", "jury met early")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"finalised {SLUG} / pre-selection (sha256 ")


def test_cli_publish_needs_a_finalised_round_and_publishes_once(env: dict[str, str], tmp_path: Path) -> None:
    imported(env, tmp_path, complete_bundle())
    early = run_cli(env, "publish", SLUG)
    assert early.exit_code == 1 and "Finalise the round before publishing it." in early.stderr
    assert run_cli(env, "finalise", SLUG).exit_code == 0
    published = run_cli(env, "publish", SLUG, "--round", "pre-selection")
    assert published.exit_code == 0 and published.stdout == f"published {SLUG} / pre-selection\n"
    again = run_cli(env, "publish", SLUG)
    assert again.exit_code == 1 and "The results are published already." in again.stderr
