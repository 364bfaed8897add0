"""Results for organisers through HTTP (ranking, explanations, stability, tie decisions,
finalisation with its fingerprint, publication), the public winners page, who may see what,
and `award-jury finalise` (SPEC §1, §3)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.sessions import start_session
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Criterion, Round
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.demo import load_demo_bundle
from award_jury.entries.models import Entry
from award_jury.enums import Role
from award_jury.judging.models import Score, ScoreSheet
from award_jury.ranking import services as ranking_services
from award_jury.ranking.models import ResultSnapshot, TieDecision
from award_jury.settings import Settings
from award_jury.web.auth import session_policy
from award_jury.web.middleware import LANGUAGE_COOKIE
from tests.support.accounts import page_token, post_form, sign_in_as
from tests.support.apps import app_client, shared_app
from tests.support.cli import cli_env, run_cli
from tests.support.confirm import confirm, open_confirmation
from tests.support.csrf import csrf_token
from tests.support.factories import small_bundle

EN = {"accept-language": "en"}
DEMO = "smart-country-startup-award-2026"
DEMO_RESULTS = f"/awards/{DEMO}/rounds/vorauswahl/results"
TIE = "tie-award"
TIE_RESULTS = f"/awards/{TIE}/rounds/pre-selection/results"


def canonical_sha256(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading the pages -------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Every table row of a page as the whitespace-normalised texts of its cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> headed by the heading with the id ``heading_id``."""
    start = html.rindex("<section", 0, html.index(f'id="{heading_id}"'))
    return html[start : html.index("</section>", start)]


def sheet_rows(html: str) -> list[list[str]]:
    """The score sheet rows of a "why this rank" page (without the header and the means)."""
    rows = table_rows(section(html, "h-sheets"))
    return [row for row in rows if row and row[0] != "Juror" and not row[0].startswith("Mean")]


def entry_rows(html: str) -> dict[str, list[str]]:
    """Rows of the ranking tables by entry ref (their entry cell reads "E005 – Startup")."""
    return {row[1].split(" ")[0]: row for row in table_rows(html) if len(row) > 1 and re.match(r"E\d{3} ", row[1])}


# --- people and data ---------------------------------------------------------------------------


async def sign_in_organiser(client: httpx.AsyncClient, db: Database, settings: Settings, bundle: dict[str, Any]) -> str:
    """Import ``bundle``, sign in its organiser (English) and return a CSRF token."""
    async with db.session() as s:
        award = await import_bundle(s, bundle)
        person = await get_or_create_person(s, "chair@example.org", "Clara Chair", "en")
        await grant_role(s, person, Role.ORGANISER, award.id)
        token = await start_session(s, person, session_policy(settings), utcnow())
    client.cookies.set(settings.session_cookie_name, token)
    client.headers.update(EN)
    slug = bundle["award"]["slug"]
    page = await client.get(f"/awards/{slug}/rounds/{bundle['award']['rounds'][0]['slug']}/results")
    assert page.status_code == 200, page.text
    return csrf_token(page)


def _entry(ref: str, category: str, startup: str, email: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "category": category,
        "status": "submitted",
        "startup": {"name": startup},
        "contact": {"email": email, "name": f"Contact {ref}"},
        "title": f"Title {ref}",
        "pitch": "…",
        "rounds": ["pre-selection"],
        "attachments": [],
    }


def _sheet(juror: str, entry: str, innovation: float, impact: float) -> dict[str, Any]:
    return {
        "juror": juror,
        "entry": entry,
        "round": "pre-selection",
        "status": "submitted",
        "scores": {"innovation": innovation, "impact": impact},
        "comment": "",
    }


def tie_bundle() -> dict[str, Any]:
    """Smart City (1 prize): E001 and E002 get identical sheets, so they tie across the prize line.
    GovTech (2 prizes): E003 100 and 60 (exactly 40 apart), E005 70 and 70, E004 one sheet only.

    Criteria: innovation (weight 30) and impact (weight 25), both 0..10; min_sheets 2."""
    doc = small_bundle(TIE)
    doc["award"]["rounds"][0]["min_sheets"] = 2
    doc["jurors"] = [
        {"email": "j.doe@example.org", "name": "Jane Doe", "categories": ["smart-city", "govtech"]},
        {"email": "k.roe@example.org", "name": "Kim <i>Roe</i>", "categories": ["smart-city", "govtech"]},
    ]
    doc["conflicts"] = []
    doc["entries"] += [
        _entry("E003", "govtech", "Dritte KG", "e3@example.org"),
        _entry("E004", "govtech", "Vierte Solo GmbH", "e4@example.org"),
        _entry("E005", "govtech", "Fünfte eG", "e5@example.org"),
    ]
    doc["sheets"] = [
        _sheet("j.doe@example.org", "E001", 8, 6.5),
        _sheet("k.roe@example.org", "E001", 6, 5),
        _sheet("j.doe@example.org", "E002", 8, 6.5),
        _sheet("k.roe@example.org", "E002", 6, 5),
        _sheet("j.doe@example.org", "E003", 10, 10),
        _sheet("k.roe@example.org", "E003", 6, 6),
        _sheet("j.doe@example.org", "E004", 5, 5),
        _sheet("j.doe@example.org", "E005", 7, 7),
        _sheet("k.roe@example.org", "E005", 7, 7),
    ]
    return copy.deepcopy(doc)


async def snapshots(db: Database) -> list[ResultSnapshot]:
    async with db.session() as s:
        return list((await s.execute(sa.select(ResultSnapshot).order_by(ResultSnapshot.id))).scalars())


async def round_row(db: Database, award_slug: str, round_slug: str) -> Round:
    async with db.session() as s:
        return (
            await s.execute(
                sa.select(Round)
                .join(Award, Award.id == Round.award_id)
                .where(Award.slug == award_slug, Round.slug == round_slug)
            )
        ).scalar_one()


async def decisions(db: Database) -> list[TieDecision]:
    async with db.session() as s:
        return list((await s.execute(sa.select(TieDecision))).scalars())


# --- the results page of the demo --------------------------------------------------------------

# (ref, rank, score, sheets, ranks under mean, median, trimmed, zscore), from the demo bundle
DEMO_ROWS = {
    "smart-city": [
        ("E005", "1", "84.80", "5", ("1", "1", "1", "1")),
        ("E001", "2", "76.90", "5", ("2", "3", "3", "2")),
        ("E003", "3", None, "4", ("3", "2", "2", "3")),  # 76.125: the page rounds halves to even
        ("E008", "4", "68.10", "5", ("4", "4", "4", "4")),
        ("E004", "5", "67.00", "5", ("5", "5", "5", "5")),
        ("E006", "6", None, "4", ("6", "6", "6", "6")),  # 64.125
        ("E002", "7", "55.88", "4", ("7", "7", "7", "7")),
    ],
    "govtech": [
        ("E013", "1", "84.75", "4", ("1", "1", "1", "1")),
        ("E012", "2", "76.88", "4", ("2", "2", "2", "2")),
        ("E011", "3", "74.17", "3", ("3", "4", "3", "4")),
        ("E009", "4", None, "4", ("4", "5", "4", "3")),  # 70.625
        ("E014", "5", "69.00", "3", ("5", "3", "5", "5")),
        ("E010", "6", "59.33", "3", ("6", "6", "6", "6")),
        ("E015", "7", "54.25", "4", ("7", "7", "7", "7")),
    ],
}


async def test_results_page_shows_every_category_with_ranks_scores_sheets_flags_and_methods(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    page = await client.get(DEMO_RESULTS)
    assert page.status_code == 200
    assert "Method: Mean. Entries need at least 3 submitted sheets for a rank." in page.text
    for slug, name, expected in (
        ("smart-city", "Smart City", DEMO_ROWS["smart-city"]),
        ("govtech", "GovTech", DEMO_ROWS["govtech"]),
    ):
        html = section(page.text, f"h-{slug}")
        # the demo's "Vorauswahl" is a pre-selection round: its leaders advance, they do not win
        assert f'<h2 id="h-{slug}">{name} <span class="count">1 place in the next round</span>' in html
        header = next(row for row in table_rows(html) if row and row[0] == "Rank")
        assert header == [
            "Rank",
            "Entry",
            "Score",
            "Sheets",
            "Spread",
            "Flags",
            "Mean",
            "Median",
            "Trimmed mean",
            "Z-score",
        ]
        rows = entry_rows(html)
        assert list(rows) == [ref for ref, *_ in expected]  # by rank, and only this category's entries
        for ref, rank, score, sheets, methods in expected:
            row = rows[ref]
            assert row[0] == rank, ref
            if score is not None:
                assert row[2] == score, ref
            assert re.fullmatch(r"\d+\.\d\d", row[2]), ref
            assert row[3] == sheets, ref
            assert [cell.split(" ")[0] for cell in row[6:10]] == list(methods), ref
            prize = rank == "1"
            assert all(("(advances)" in cell) is prize for cell in row[6:10]), ref
            assert ("advances" in row[5]) is prize and "winner" not in row[5], ref
            assert "changes" not in " ".join(row[6:10])  # every method gives the same winners
            for flag in ("tied", "decision needed", "too few sheets", "strong disagreement"):
                assert flag not in row[5], (ref, flag)
    # E007 is a draft and E016 withdrawn: neither is ranked
    assert "E007" not in page.text and "E016" not in page.text
    # E005's totals 87.5, 84.5, 75.5, 97, 79.5: mean 84.8, squared deviations sum to 270.8
    assert entry_rows(page.text)["E005"][4] == "σ 7.4, 75.5–97.0"
    calibration = section(page.text, "h-calibration")
    assert 'role="img"' in calibration and "<title" in calibration
    assert "Jana Schröder" in calibration and "Friederike Roß" in calibration


async def test_why_this_rank_shows_every_sheet_with_its_total_and_the_tie_break_order(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    page = await client.get(f"{DEMO_RESULTS}/entries/E005")
    assert page.status_code == 200
    assert "Why E005 – Quellwächter AG has this rank" in page.text
    sheets = {row[0]: row for row in sheet_rows(page.text)}
    # Weights innovation 30, impact 25, feasibility 20, scalability 15, team 10 (sum 100), scale 0..10:
    # T = 100 * sum(w * s / 10) / 100 = sum(w * s) / 10.
    # Katrin Müller: 9, 10, 10, 10, 10 -> (270 + 250 + 200 + 150 + 100) / 10 = 97.00
    assert sheets["Katrin Müller"][1:] == ["9", "10", "10", "10", "10", "97.00"]
    # Friederike Roß: 9, 10, 7, 9, 8 -> (270 + 250 + 140 + 135 + 80) / 10 = 87.50
    assert sheets["Friederike Roß"][-1] == "87.50"
    totals = {name: row[-1] for name, row in sheets.items()}
    assert totals == {
        "Friederike Roß": "87.50",
        "Jana Schröder": "84.50",
        "Jörg Weiß": "75.50",
        "Katrin Müller": "97.00",
        "Tobias Brandt": "79.50",
    }
    # the mean of the five, with the results table's two decimals
    assert "<dt>Score</dt><dd>84.80</dd>" in page.text
    ties = section(page.text, "h-ties")
    order = re.findall(r"<li>([^<(]+) \(weight (\d+)\)</li>", ties)
    assert order == [
        ("Innovationsgrad", "30"),
        ("Nutzen für Verwaltung und Bürger", "25"),
        ("Umsetzbarkeit", "20"),
        ("Übertragbarkeit und Skalierung", "15"),
        ("Team", "10"),
    ]
    assert "84.80" in ties and "84.8000" not in page.text  # the neighbours too

    draft_sheet = await client.get(f"{DEMO_RESULTS}/entries/E002")  # Tobias Brandt's sheet is a draft
    names = [row[0] for row in sheet_rows(draft_sheet.text)]
    assert sorted(names) == ["Friederike Roß", "Jana Schröder", "Jörg Weiß", "Katrin Müller"]


async def test_why_this_rank_in_german_uses_the_tables_number_format_and_criterion_names(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    client.cookies.set(LANGUAGE_COOKIE, "de")
    page = await client.get(f"{DEMO_RESULTS}/entries/E001")
    assert page.status_code == 200
    assert "<dt>Punktzahl</dt><dd>76,90</dd>" in page.text
    table = await client.get(DEMO_RESULTS)
    assert entry_rows(table.text)["E001"][2] == "76,90"  # the same number, the same way
    ties = section(page.text, "h-ties")
    assert "<li>Innovationsgrad (Gewicht 30)</li>" in ties
    assert "innovation" not in ties and "feasibility" not in ties
    assert "76,9000" not in page.text and "76.90" not in page.text


async def test_calibration_chart_writes_its_offsets_like_its_table(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    for language, decimal in (("de", ","), ("en", ".")):
        client.cookies.set(LANGUAGE_COOKIE, language)
        page = await client.get(DEMO_RESULTS)
        calibration = section(page.text, "h-calibration")
        rows = table_rows(calibration)
        offsets = [row[4] for row in rows if len(row) == 5 and row[0] not in ("Juror", "Jurymitglied")]
        assert len(offsets) == 7 and all(re.fullmatch(rf"[+-]\d+\{decimal}\d", o) for o in offsets), offsets
        chart = calibration[calibration.index("<svg") : calibration.index("</svg>")]
        drawn = re.findall(r'font-size="12"[^>]*>([^<]+)</text>', chart)
        assert sorted(drawn) == sorted(offsets), language


async def test_only_the_last_round_has_winners_earlier_rounds_name_who_advances(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    client.cookies.set(LANGUAGE_COOKIE, "de")
    german = await client.get(DEMO_RESULTS)
    flags = entry_rows(german.text)["E005"][5]
    assert "Weiter in die nächste Runde" in flags
    assert "Gewinner" not in german.text and "(Preis)" not in german.text
    assert "1 Platz in der nächsten Runde" in german.text
    client.cookies.set(LANGUAGE_COOKIE, "en")
    english = await client.get(f"{DEMO_RESULTS}/stability")
    assert "Reaches the next round" in english.text and "prize" not in english.text

    # the tie award has one round: it is the last, so its leaders win
    client.cookies.clear()
    await sign_in_organiser(client, db, settings, tie_bundle())
    page = await client.get(TIE_RESULTS)
    rows = entry_rows(page.text)
    assert "winner" in rows["E003"][5] and "advances" not in rows["E003"][5]
    assert '<span class="count">2 prizes</span>' in page.text
    assert "(prize)" in rows["E003"][6]
    stability = await client.get(f"{TIE_RESULTS}/stability")
    assert "Reaches a prize" in stability.text


async def test_why_this_rank_of_an_unknown_or_unranked_entry_is_404(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    for ref in ("E999", "E007", "E016", "e005"):  # unknown, a draft, a withdrawn entry, the wrong case
        assert (await client.get(f"{DEMO_RESULTS}/entries/{ref}")).status_code == 404, ref
    assert (await client.get(f"/awards/{DEMO}/rounds/no-such-round/results")).status_code == 404
    assert (await client.get(f"/awards/{DEMO}/rounds/no-such-round/results/entries/E005")).status_code == 404
    assert (await client.get("/awards/no-such-award/rounds/vorauswahl/results")).status_code == 404


async def test_stability_page_gives_shares_with_one_decimal(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    page = await client.get(f"{DEMO_RESULTS}/stability")
    assert page.status_code == 200
    rows = entry_rows(page.text)
    assert len(rows) == 14
    shares = {}
    for ref, row in rows.items():
        match = re.fullmatch(r"(\d{1,3}\.\d) %", row[2])
        assert match, row
        shares[ref] = float(match.group(1))
        assert 0.0 <= shares[ref] <= 100.0
    assert shares["E005"] > 50 and shares["E013"] > 50  # the winners win most resamples
    assert shares["E002"] == 0.0 and shares["E015"] == 0.0
    again = await client.get(f"{DEMO_RESULTS}/stability")  # seeded: the same shares every time
    assert {ref: row[2] for ref, row in entry_rows(again.text).items()} == {ref: row[2] for ref, row in rows.items()}


# --- a tie across the prize line, decided, finalised, published ----------------------------------


async def test_tie_decision_finalisation_fingerprint_and_publication(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await sign_in_organiser(client, db, settings, tie_bundle())
    page = await client.get(TIE_RESULTS)
    rows = entry_rows(page.text)
    # E001 and E002: j.doe (8, 6.5) -> 100 * (30 * 0.8 + 25 * 0.65) / 55 = 73.18; k.roe (6, 5) -> 55.45
    for ref in ("E001", "E002"):
        assert rows[ref][:4] == ["1", f"{ref} – {'Beispiel GmbH' if ref == 'E001' else 'Zweite AG'}", "64.32", "2"]
        assert "tied" in rows[ref][5] and "decision needed" in rows[ref][5] and "winner" not in rows[ref][5]
    assert "strong disagreement" in rows["E003"][5]  # 100 and 60: exactly 40 points apart
    assert rows["E003"][4] == "σ 20.0, 60.0–100.0"
    assert "winner" in rows["E003"][5] and "winner" in rows["E005"][5]
    assert rows["E004"][0] == "–" and "too few sheets" in rows["E004"][5]
    assert "strong disagreement" not in rows["E005"][5]
    # a juror's name is text everywhere, in the calibration table and in the chart
    assert "<i>Roe</i>" not in page.text
    assert section(page.text, "h-calibration").count("Kim &lt;i&gt;Roe&lt;/i&gt;") == 2
    why = await client.get(f"{TIE_RESULTS}/entries/E003")
    assert [(row[0], row[-1]) for row in sheet_rows(why.text)] == [("Jane Doe", "100.00"), ("Kim <i>Roe</i>", "60.00")]
    assert "<i>Roe</i>" not in why.text

    # publishing before finalising is refused: the confirmation page says why and offers no form,
    # and a confirmation forged past it is refused too
    early = await open_confirmation(client, f"{TIE_RESULTS}/publish")
    assert early.refusals == ["Finalise the round before publishing it."] and early.fields == {}
    forged = {"confirm": "yes", "state": "x", "_csrf_token": token}
    early_post = await post_form(client, f"{TIE_RESULTS}/publish", forged, token=token)
    assert early_post.status_code == 409
    assert "Finalise the round before publishing it." in early_post.text
    assert (await round_row(db, TIE, "pre-selection")).published_at is None

    # finalising is refused while the tie needs a decision, naming the entries; nothing is stored
    tied = await open_confirmation(client, f"{TIE_RESULTS}/finalise")
    assert tied.refusals == ["A tie needs a decision first: E001, E002."] and tied.fields == {}
    refused = await post_form(client, f"{TIE_RESULTS}/finalise", forged, token=token)
    assert refused.status_code == 409
    assert "A tie needs a decision first: E001, E002." in refused.text
    assert await snapshots(db) == []
    assert (await round_row(db, TIE, "pre-selection")).finalised_at is None

    # a decision without a reason, or without a complete order, is refused beside the form
    decide = f"{TIE_RESULTS}/decisions"
    no_reason = await post_form(
        client, decide, {"category": "smart-city", "place_E001": "2", "place_E002": "1", "reason": "   "}, token=token
    )
    assert no_reason.status_code == 400
    form = no_reason.text[no_reason.text.index(f'action="{decide}"') :]
    form = form[: form.index("</form>")]
    assert '<p class="field-error" id="reason-smart-city-error">Write down why you decided this way.</p>' in form
    assert 'aria-invalid="true"' in form
    for incomplete in ({"place_E001": "1"}, {"place_E001": "1", "place_E002": "1"}, {}):
        response = await post_form(
            client, decide, {"category": "smart-city", "reason": "Live pitch", **incomplete}, token=token
        )
        assert response.status_code == 400, incomplete
        card = response.text[response.text.index("Decide the tie") : response.text.index(f'action="{decide}"')]
        assert "Put every tied entry in order, each once." in card, incomplete
    assert await decisions(db) == []

    # places 2 then 1: E002 first, and the winner
    done = await post_form(
        client,
        decide,
        {"category": "smart-city", "place_E001": "2", "place_E002": "1", "reason": "Stronger live pitch"},
        token=token,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{TIE_RESULTS}?decided=1"
    (decision,) = await decisions(db)
    assert (decision.ordered_refs, decision.reason) == (["E002", "E001"], "Stronger live pitch")
    async with db.session() as s:
        chair = (await s.execute(sa.select(Person).where(Person.email == "chair@example.org"))).scalar_one()
        (event,) = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "tie.decided"))).scalars()
    assert event.actor_id == chair.id
    assert event.after == {"category": "smart-city", "order": ["E002", "E001"], "reason": "Stronger live pitch"}
    page = await client.get(done.headers["location"])
    assert "The decision is recorded." in page.text
    assert "Decided order: E002, E001. Reason: Stronger live pitch" in page.text
    rows = entry_rows(page.text)
    assert list(rows)[:2] == ["E002", "E001"]
    assert rows["E002"][0] == "1" and "winner" in rows["E002"][5] and "decision needed" not in rows["E002"][5]
    assert rows["E001"][0] == "2" and "winner" not in rows["E001"][5]

    # finalise: E004 has one sheet of two, so the confirmation page asks for a reason to go ahead
    confirmation = await open_confirmation(client, f"{TIE_RESULTS}/finalise")
    assert confirmation.facts == [
        "5 entries take part in this round; their results are frozen with a fingerprint.",
        "3 entries win a prize.",
        "9 score sheets are submitted and count.",
        "1 entry has fewer than 2 submitted sheets and gets no rank.",
        "The score sheets of 2 jurors become read-only.",
        "The call for entries closed on 31 Aug 2023, 23:59.",
    ]
    assert confirmation.refusals == [] and confirmation.warnings == ["1 entry has too few sheets for a rank."]
    no_reason = await confirm(client, f"{TIE_RESULTS}/finalise", override_reason="  ", page=confirmation)
    assert no_reason.status_code == 400
    assert "Write down why you go ahead despite the warnings." in no_reason.text
    assert await snapshots(db) == []
    # the snapshot's fingerprint is the SHA-256 of its payload's canonical JSON
    final = await confirm(client, f"{TIE_RESULTS}/finalise", override_reason="E004's second juror fell ill")
    assert final.status_code == 303
    assert final.headers["location"] == f"{TIE_RESULTS}?finalised=1"
    (snapshot,) = await snapshots(db)
    assert snapshot.sha256 == canonical_sha256(snapshot.payload)
    assert snapshot.finalised_by_id == chair.id
    async with db.session() as s:
        (audited,) = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "round.finalised"))).scalars()
    assert audited.actor_id == chair.id
    assert audited.after == {
        "sha256": snapshot.sha256,
        "method": "mean",
        "override_reason": "E004's second juror fell ill",
        "overridden": ["1 entry has too few sheets for a rank."],
    }
    assert (snapshot.payload["award"], snapshot.payload["round"], snapshot.payload["method"]) == (
        TIE,
        "pre-selection",
        "mean",
    )
    won = {c["category"]: [e["ref"] for e in c["entries"] if e["winner"]] for c in snapshot.payload["categories"]}
    assert won == {"smart-city": ["E002"], "govtech": ["E003", "E005"]}
    assert (await round_row(db, TIE, "pre-selection")).finalised_at is not None
    page = await client.get(final.headers["location"])
    assert "The round is finalised." in page.text
    assert f'<code class="hash">{snapshot.sha256}</code>' in page.text
    assert "Recomputing from the score sheets gives the same fingerprint." in page.text
    assert "different fingerprint" not in page.text
    async with app_client(shared_app(settings, db)) as anonymous:
        unpublished = await anonymous.get(f"/awards/{TIE}/results", headers=EN)
    assert unpublished.status_code == 200 and "No results are published yet." in unpublished.text
    assert "Zweite AG" not in unpublished.text

    # a second finalisation is refused and changes nothing
    assert (await open_confirmation(client, f"{TIE_RESULTS}/finalise")).refusals == ["This round is finalised already."]
    again = await post_form(client, f"{TIE_RESULTS}/finalise", {**forged, "override_reason": "again"}, token=token)
    assert again.status_code == 409
    assert [s.sha256 for s in await snapshots(db)] == [snapshot.sha256]

    # publish: the confirmation page counts what becomes public; then the public page names the winners
    publishing = await open_confirmation(client, f"{TIE_RESULTS}/publish")
    assert publishing.facts == [
        "The award's public results page names 3 winners.",
        "5 startups see their result on their status pages.",
        "The award's jurors do not see the ranking (the round's setting).",
        "Publishing cannot be undone.",
    ]
    assert publishing.warnings == [] and not publishing.asks_for_reason
    published = await confirm(client, f"{TIE_RESULTS}/publish", page=publishing)
    assert published.status_code == 303
    assert published.headers["location"] == f"{TIE_RESULTS}?published=1"
    assert (await round_row(db, TIE, "pre-selection")).published_at is not None
    async with app_client(shared_app(settings, db)) as anonymous:
        public = await anonymous.get(f"/awards/{TIE}/results", headers=EN)
    assert public.status_code == 200
    assert "Pre-selection" in public.text
    smart_city = public.text[public.text.index("<h3>Smart City</h3>") : public.text.index("<h3>GovTech</h3>")]
    govtech = public.text[public.text.index("<h3>GovTech</h3>") :]
    assert "Zweite AG" in smart_city and "Dritte KG" not in smart_city
    assert "Dritte KG" in govtech and "Fünfte eG" in govtech
    for secret in (
        "Beispiel GmbH",
        "Vierte Solo GmbH",
        "E001",
        "E004",
        "64.32",
        "64.3182",
        "80.00",
        "70.00",
        "73.18",
        "55.45",
        "Jane Doe",
        "Roe",
        "Stronger live pitch",
        "insufficient",
    ):
        assert secret not in public.text, secret

    # a score changed behind the app's back: the recomputation no longer matches
    async with db.session() as s:
        score = (
            await s.execute(
                sa.select(Score)
                .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
                .join(Entry, Entry.id == ScoreSheet.entry_id)
                .join(Award, Award.id == Entry.award_id)
                .join(Criterion, Criterion.id == Score.criterion_id)
                .join(Person, Person.id == ScoreSheet.juror_id)
                .where(
                    Award.slug == TIE,
                    Entry.ref == "E005",
                    Criterion.key == "innovation",
                    Person.email == "k.roe@example.org",
                )
            )
        ).scalar_one()
        score.value = score.value - 3
    page = await client.get(TIE_RESULTS)
    assert "Recomputing from the score sheets gives a different fingerprint" in page.text
    assert "gives the same fingerprint" not in page.text
    assert f'<code class="hash">{snapshot.sha256}</code>' in page.text
    assert [s.sha256 for s in await snapshots(db)] == [snapshot.sha256]  # the frozen results stay
    async with app_client(shared_app(settings, db)) as anonymous:
        public_after = await anonymous.get(f"/awards/{TIE}/results", headers=EN)
    assert "Fünfte eG" in public_after.text  # still the frozen winners


async def test_tie_places_default_to_distinct_places_so_the_form_as_shown_is_accepted(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await sign_in_organiser(client, db, settings, tie_bundle())
    page = await client.get(TIE_RESULTS)
    chosen = {}
    for ref in ("E001", "E002"):
        select = page.text[page.text.index(f'name="place_{ref}"') :]
        select = select[: select.index("</select>")]
        chosen[f"place_{ref}"] = re.findall(r'<option value="(\d+)" selected>', select)
    assert chosen == {"place_E001": ["1"], "place_E002": ["2"]}  # one default each, and no two alike
    form = {"category": "smart-city", "reason": "Stronger team", **{k: v[0] for k, v in chosen.items()}}
    sent = await post_form(client, f"{TIE_RESULTS}/decisions", form, token=token)
    assert sent.status_code == 303
    assert [d.ordered_refs for d in await decisions(db)] == [["E001", "E002"]]


async def test_second_finalise_does_not_claim_that_a_tie_needs_a_decision(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await sign_in_organiser(client, db, settings, load_demo_bundle())
    page = await open_confirmation(client, f"{DEMO_RESULTS}/finalise")
    assert (await confirm(client, f"{DEMO_RESULTS}/finalise", override_reason="drafts", page=page)).status_code == 303
    again = await confirm(client, f"{DEMO_RESULTS}/finalise", override_reason="drafts", page=page)  # the same form
    assert again.status_code == 409
    assert len(await snapshots(db)) == 1
    # No tie needs a decision here: the refusal must not say so (with an empty list of entries).
    assert "This round is finalised already." in again.text
    assert "A tie needs a decision" not in again.text


async def test_a_stale_decision_form_is_refused_with_a_visible_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    token = await sign_in_organiser(client, db, settings, tie_bundle())
    form = {"category": "smart-city", "place_E001": "1", "place_E002": "2", "reason": "Stronger team"}
    assert (await post_form(client, f"{TIE_RESULTS}/decisions", form, token=token)).status_code == 303
    # the same form sent again (a second tab, another organiser): the tie is decided already
    stale = await post_form(
        client, f"{TIE_RESULTS}/decisions", {**form, "place_E001": "2", "place_E002": "1"}, token=token
    )
    assert stale.status_code == 400
    assert [d.ordered_refs for d in await decisions(db)] == [["E001", "E002"]]
    # The refusal must tell why; today the message has no place on the page once the tie is decided.
    assert "No decision is needed in this category." in stale.text


# --- who may -----------------------------------------------------------------------------------


async def test_a_juror_of_the_award_gets_403_on_every_results_page_and_post(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    async with db.session() as s:
        await import_bundle(s, load_demo_bundle())
        jana = (await s.execute(sa.select(Person).where(Person.email == "jana.schroeder@juror.example"))).scalar_one()
    await sign_in_as(client, db, settings, jana.id)
    token = await page_token(client, "/account")
    for path in (DEMO_RESULTS, f"{DEMO_RESULTS}/entries/E005", f"{DEMO_RESULTS}/stability"):
        response = await client.get(path, headers=EN)
        assert response.status_code == 403, path
        assert "Access denied" in response.text
    posts = [
        ("decisions", {"category": "smart-city", "place_E005": "1", "reason": "x"}),
        ("finalise", {}),
        ("publish", {}),
    ]
    for action, data in posts:
        response = await post_form(client, f"{DEMO_RESULTS}/{action}", data, token=token)
        assert response.status_code == 403, action
    assert await snapshots(db) == []
    assert await decisions(db) == []
    row = await round_row(db, DEMO, "vorauswahl")
    assert (row.finalised_at, row.published_at) == (None, None)
    async with app_client(shared_app(settings, db)) as anonymous:
        public = await anonymous.get(f"/awards/{DEMO}/results", headers=EN)
    assert public.status_code == 200 and "No results are published yet." in public.text


# --- award-jury finalise -----------------------------------------------------------------------


@pytest.fixture
def env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    return cli_env(make_database_url("fin", migrated=True), tmp_path / "var")


def imported(env: dict[str, str], tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run_cli(env, "import", str(path))
    assert result.exit_code == 0, result.output
    return str(doc["award"]["slug"])


def test_cli_finalise_prints_the_fingerprint_and_refuses_a_second_time(env: dict[str, str], tmp_path: Path) -> None:
    doc = tie_bundle()
    doc["sheets"][2]["scores"]["innovation"] = 9  # E002 ahead of E001: no tie
    doc["entries"] = [e for e in doc["entries"] if e["ref"] != "E004"]  # and no entry short of sheets
    doc["sheets"] = [s for s in doc["sheets"] if s["entry"] != "E004"]
    slug = imported(env, tmp_path, doc)
    expected = json.loads(run_cli(env, "results", slug, "--round", "pre-selection").stdout)
    result = run_cli(env, "finalise", slug)  # the award's last (and only) round
    assert result.exit_code == 0, result.output
    sha = re.search(r"sha256 ([0-9a-f]{64})", result.stdout)
    assert sha, result.stdout
    assert sha.group(1) == canonical_sha256(expected)
    assert result.stderr == ""

    again = run_cli(env, "finalise", slug, "--round", "pre-selection")
    assert again.exit_code == 1
    assert again.stderr.count("\n") == 1 and "finalised already" in again.stderr


def test_cli_finalise_refuses_a_tie_naming_the_entries(env: dict[str, str], tmp_path: Path) -> None:
    slug = imported(env, tmp_path, tie_bundle())
    result = run_cli(env, "finalise", slug, "--round", "pre-selection")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "E001" in result.stderr and "E002" in result.stderr
    assert "E003" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""

    unknown_award = run_cli(env, "finalise", "no-such-award")
    assert unknown_award.exit_code == 1
    assert unknown_award.stderr.count("\n") == 1 and "no-such-award" in unknown_award.stderr
    unknown_round = run_cli(env, "finalise", slug, "--round", "no-such-round")
    assert unknown_round.exit_code == 1
    assert unknown_round.stderr.count("\n") == 1 and "no-such-round" in unknown_round.stderr
    assert "finalised already" not in run_cli(env, "finalise", slug).stderr  # nothing was stored


async def test_jurors_see_a_published_ranking_only_where_the_round_allows_it(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:

    ranking = "/awards/smart-country-startup-award-2026/rounds/vorauswahl/results/published"
    async with db.session() as s:
        award = await import_bundle(s, load_demo_bundle())
        juror = (await s.execute(sa.select(Person).where(Person.email == "jana.schroeder@juror.example"))).scalar_one()
        juror.locale = "en"
        token = await start_session(s, juror, session_policy(settings), utcnow())
    client.cookies.set(settings.session_cookie_name, token)
    assert (await client.get(ranking)).status_code == 403  # not published

    async with db.session() as s:
        chair = await get_or_create_person(s, "chair@example.org", "Chair", "en")
        await grant_role(s, chair, Role.ORGANISER, award.id)
        full = await get_award(s, award.slug)
        rnd = full.rounds[0]
        await ranking_services.finalise_round(s, full, rnd, chair.id, override_reason="two drafts left")
        await ranking_services.publish_round(s, full, rnd, chair)
    assert (await client.get(ranking)).status_code == 403  # published, but not shown to jurors

    async with db.session() as s:
        await s.execute(sa.update(Round).where(Round.slug == "vorauswahl").values(results_visible_to_jurors=True))
    page = await client.get(ranking)
    assert page.status_code == 200
    assert "E005 – Quellwächter AG" in page.text and "advances" in page.text  # a pre-selection: nobody wins yet
    assert "winner" not in page.text
    account = await client.get("/account")
    assert f'href="{ranking}"' in account.text
    # the page's old address (".../ranking") still leads there, permanently
    moved = await client.get("/awards/smart-country-startup-award-2026/rounds/vorauswahl/ranking?x=1")
    assert (moved.status_code, moved.headers["location"]) == (301, f"{ranking}?x=1")
    followed = await client.get(moved.headers["location"])
    assert followed.status_code == 200 and "E005 – Quellwächter AG" in followed.text


async def test_the_public_page_says_a_pre_selection_names_who_advances(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    async with db.session() as s:
        award = await import_bundle(s, load_demo_bundle())
        chair = await get_or_create_person(s, "chair@example.org", "Chair", "de")
        await grant_role(s, chair, Role.ORGANISER, award.id)
        full = await get_award(s, award.slug)
        await ranking_services.finalise_round(
            s, full, full.rounds[0], chair.id, override_reason="the demo keeps two drafts"
        )
        await ranking_services.publish_round(s, full, full.rounds[0], chair)
    for language, lead in (
        ("de", "Diese Startups kommen in die nächste Runde."),
        ("en", "These startups advance to the next round."),
    ):
        client.cookies.set(LANGUAGE_COOKIE, language)
        page = await client.get(f"/awards/{DEMO}/results")
        assert page.status_code == 200
        section_html = section(page.text, "p-vorauswahl")
        assert lead in section_html and "Quellwächter AG" in section_html, language
