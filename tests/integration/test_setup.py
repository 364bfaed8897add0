"""The organiser's set-up: a new award, its settings, categories, rounds and weighted
criteria with value descriptions, copying criteria, the lock after the first submitted sheet,
who may do it, and odd input that must never answer 500."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import AwardRole
from award_jury.awards.models import Award, Category, Criterion, Round, RubricLevel
from award_jury.db import Database
from award_jury.enums import Method, Role, SheetStatus
from award_jury.judging.models import ScoreSheet
from award_jury.settings import Settings
from tests.support.accounts import EN, HOST, page_token, post_form
from tests.support.confirm import confirm, open_confirmation
from tests.support.setup_helpers import (
    AWARD,
    CRITERION,
    ROUND,
    Browser,
    browser_for,
    count_rows,
    events,
    field_errors,
    get_award,
    import_small,
    input_value,
    load_award,
    summary_errors,
)

Client = httpx.AsyncClient
SETUP = "/awards/smart-country/setup"
ROUNDS = "/awards/smart-country/rounds"
MINI = "/awards/mini-award"
LOCKED_CRITERIA = "Scores have been submitted in this round: its criteria can no longer change."
LOCKED_SCALES = "Scores have been submitted in this round: its scales are fixed."
BOTH_OR_NEITHER = "Give both the opening and the closing of submissions, or neither."


def outside_scale(line: int) -> str:
    return f"Line {line}: the values must lie within the scale, the smaller first."


@pytest.fixture
async def olga(client: Client, db: Database, settings: Settings) -> Browser:
    """A platform-wide organiser (may create awards and set up every award)."""
    return await browser_for(client, db, settings, "olga@example.org")


@pytest.fixture
async def award(olga: Browser) -> Browser:
    """Olga has created "smart-country" through the form."""
    assert await olga.ok("/awards/new", AWARD) == f"{SETUP}?created=1"
    return olga


@pytest.fixture
async def with_round(award: Browser) -> Browser:
    """…and its round "pre-selection" (no criteria yet)."""
    await award.ok("/awards/smart-country/rounds", ROUND)
    return award


async def add_criterion(browser: Browser, round_path: str, **fields: str) -> str:
    return await browser.ok(f"{round_path}/criteria", {**CRITERION, **fields})


def locked_round_values(**changes: str) -> dict[str, str]:
    """The edit form of the small bundle's "innovation" criterion as the page fills it in."""
    return {**CRITERION, "weight": "30", "min_value": "0", "max_value": "10", "step": "1", **changes}


async def confirmed(browser: Browser, path: str) -> str:
    """Through the action's confirmation page (which must allow it); returns where it redirects to."""
    done = await confirm(browser.client, path)
    assert done.status_code == 303, (path, done.status_code)
    return done.headers["location"]


# --- a new award -----------------------------------------------------------------------------


async def test_create_award_redirects_to_setup_and_makes_creator_organiser(olga: Browser, db: Database) -> None:
    form = await olga.get("/awards/new")
    assert form.status_code == 200
    assert 'name="slug"' in form.text

    response = await olga.post("/awards/new", AWARD)
    assert response.status_code == 303
    assert response.headers["location"] == "/awards/smart-country/setup?created=1"

    award = await get_award(db, "smart-country")
    assert (award.name, award.locale, award.time_zone) == ("Smart Country Award", "en", "Europe/Berlin")
    assert (award.description, award.primary_color) == ("Startups for the public sector.", "#0b5394")
    async with db.session() as s:
        roles = (await s.execute(sa.select(AwardRole).where(AwardRole.award_id == award.id))).scalars().all()
    assert [(r.person_id, r.role) for r in roles] == [(olga.person_id, Role.ORGANISER)]
    [event] = await events(db, "award.created")
    assert (event.actor_id, event.award_id, event.object_type) == (olga.person_id, award.id, "award")
    assert event.after == {**AWARD}

    page = await olga.get(response.headers["location"])
    assert page.status_code == 200
    assert "The award is created." in page.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 201}, "name", "Use at most 200 characters."),
        ({"slug": ""}, "slug", "Use lower-case letters, digits and dashes, like smart-city."),
        ({"slug": "smart country"}, "slug", "Use lower-case letters, digits and dashes, like smart-city."),
        ({"slug": "-smart"}, "slug", "Use lower-case letters, digits and dashes, like smart-city."),
        ({"slug": "smärt"}, "slug", "Use lower-case letters, digits and dashes, like smart-city."),
        ({"slug": "new"}, "slug", "This address is reserved. Choose another one."),
        ({"locale": "fr"}, "locale", "Choose German or English."),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose a time zone from the list, like Europe/Berlin."),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "Choose a time zone from the list, like Europe/Berlin."),
        ({"time_zone": ""}, "time_zone", "Choose a time zone from the list, like Europe/Berlin."),
        (
            {"primary_color": "#777777"},
            "primary_color",
            "Text on this colour would be hard to read. Choose a darker or a lighter colour.",
        ),
        ({"primary_color": "#zzz"}, "primary_color", "Use a colour like #0b5394."),
        ({"primary_color": "red"}, "primary_color", "Use a colour like #0b5394."),
        ({"description": "d" * 20_001}, "description", "Use at most 20000 characters."),
    ],
)
async def test_create_award_refuses_bad_field_with_message_beside_it(
    olga: Browser, db: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = await olga.post("/awards/new", {**AWARD, **changes})
    assert response.status_code == 400
    assert field_errors(response.text) == {f"f-{field}": message}
    assert summary_errors(response.text) == {f"f-{field}": message}
    # The other values are shown again.
    if field != "name":
        assert input_value(response.text, "f-name") == "Smart Country Award"
    assert await count_rows(db, Award) == 0
    assert await events(db, "award.created") == []


async def test_create_award_upper_case_slug_is_lower_cased(olga: Browser, db: Database) -> None:
    assert await olga.ok("/awards/new", {**AWARD, "slug": "Smart-Country"}) == f"{SETUP}?created=1"
    assert (await get_award(db, "smart-country")).name == "Smart Country Award"


async def test_create_award_without_colour_is_fine(olga: Browser, db: Database) -> None:
    await olga.ok("/awards/new", {**AWARD, "primary_color": ""})
    assert (await get_award(db, "smart-country")).primary_color is None


async def test_create_award_refuses_duplicate_slug(award: Browser, db: Database) -> None:
    response = await award.post("/awards/new", {**AWARD, "name": "Another one"})
    assert response.status_code == 400
    assert field_errors(response.text) == {"f-slug": "Another award has this address already."}
    assert await count_rows(db, Award) == 1
    assert (await get_award(db, "smart-country")).name == "Smart Country Award"
    assert len(await events(db, "award.created")) == 1


async def test_only_platform_organisers_create_awards(client: Client, db: Database, settings: Settings) -> None:
    award_id = await import_small(db)
    local = await browser_for(client, db, settings, "lou@example.org", "Lou Local", award_ids=(award_id,))
    assert (await local.get("/awards/new")).status_code == 403
    assert (await local.post("/awards/new", AWARD)).status_code == 403
    assert await load_award(db, "smart-country") is None


# --- award settings --------------------------------------------------------------------------


async def test_setup_page_shows_award_settings(award: Browser) -> None:
    page = await award.get(SETUP)
    assert page.status_code == 200
    assert input_value(page.text, "f-name") == "Smart Country Award"
    assert input_value(page.text, "f-primary_color") == "#0b5394"
    assert 'name="slug"' not in page.text  # the address cannot change
    assert "No categories yet." in page.text and "No rounds yet." in page.text


async def test_update_award_keeps_slug_and_audits_before_and_after(award: Browser, db: Database) -> None:
    changes = {
        "name": "Smart Country Award 2027",
        "slug": "hijacked",
        "locale": "de",
        "time_zone": "Europe/Vienna",
        "description": "New call.",
        "primary_color": "",
    }
    assert await award.ok(SETUP, changes) == f"{SETUP}?saved=award"
    stored = await get_award(db, "smart-country")
    assert (stored.name, stored.locale, stored.time_zone) == ("Smart Country Award 2027", "de", "Europe/Vienna")
    assert (stored.description, stored.primary_color) == ("New call.", None)
    assert await load_award(db, "hijacked") is None
    [event] = await events(db, "award.updated")
    assert event.actor_id == award.person_id and event.award_id == stored.id
    assert event.before == {**AWARD}
    assert event.after == {**changes, "slug": "smart-country"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"locale": "fr"}, "locale", "Choose German or English."),
        ({"time_zone": "Berlin"}, "time_zone", "Choose a time zone from the list, like Europe/Berlin."),
        (
            {"primary_color": "#777777"},
            "primary_color",
            "Text on this colour would be hard to read. Choose a darker or a lighter colour.",
        ),
    ],
)
async def test_update_award_refuses_bad_field_and_changes_nothing(
    award: Browser, db: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = await award.post(SETUP, {**AWARD, "name": "Changed", **changes})
    assert response.status_code == 400
    assert field_errors(response.text) == {f"f-{field}": message}
    stored = await get_award(db, "smart-country")
    assert (stored.name, stored.locale, stored.primary_color) == ("Smart Country Award", "en", "#0b5394")
    assert await events(db, "award.updated") == []


# --- categories ------------------------------------------------------------------------------


async def test_add_and_edit_category_with_audit(award: Browser, db: Database) -> None:
    location = await award.ok(
        "/awards/smart-country/categories", {"name": "Smart City", "description": "Towns", "prizes": "2"}
    )
    assert location == f"{SETUP}?saved=categories#categories"
    [category] = (await get_award(db, "smart-country")).categories
    assert (category.slug, category.name) == ("smart-city", "Smart City")
    assert (category.description, category.prizes) == ("Towns", 2)

    path = f"/awards/smart-country/categories/{category.id}"
    await award.ok(path, {"name": "Smart Cities", "description": "Towns and villages", "prizes": "3"})
    [edited] = (await get_award(db, "smart-country")).categories
    assert (edited.id, edited.slug, edited.name, edited.prizes) == (category.id, "smart-city", "Smart Cities", 3)
    assert edited.description == "Towns and villages"

    saved = await events(db, "category.saved")
    assert [(e.before, e.after) for e in saved] == [
        (None, {"name": "Smart City", "prizes": 2}),
        ({"name": "Smart City", "prizes": 2}, {"name": "Smart Cities", "prizes": 3}),
    ]
    page = await award.get(SETUP)
    assert "Smart Cities" in page.text and "3 prizes" in page.text


async def test_duplicate_category_name_is_refused(award: Browser, db: Database) -> None:
    await award.ok("/awards/smart-country/categories", {"name": "Smart City", "description": "", "prizes": "1"})
    for name in ("Smart City", "smart  city!"):
        response = await award.post(
            "/awards/smart-country/categories", {"name": name, "description": "", "prizes": "1"}
        )
        assert response.status_code == 400
        assert field_errors(response.text) == {"nc-name": "There is a category with this name already."}
    assert await count_rows(db, Category) == 1


@pytest.mark.parametrize(
    ("prizes", "message"),
    [
        ("-1", "Enter a number from 0 to 100."),
        ("101", "Enter a number from 0 to 100."),
        ("abc", "Enter a whole number."),
        ("1.5", "Enter a whole number."),
        ("", "Enter a whole number."),
    ],
)
async def test_bad_number_of_prizes_is_refused(award: Browser, db: Database, prizes: str, message: str) -> None:
    response = await award.post(
        "/awards/smart-country/categories", {"name": "GovTech", "description": "", "prizes": prizes}
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {"nc-prizes": message}
    assert input_value(response.text, "nc-name") == "GovTech"
    assert await count_rows(db, Category) == 0

    await award.ok("/awards/smart-country/categories", {"name": "GovTech", "description": "", "prizes": "1"})
    [category] = (await get_award(db, "smart-country")).categories
    path = f"/awards/smart-country/categories/{category.id}"
    response = await award.post(path, {"name": "GovTech 2", "description": "", "prizes": prizes})
    assert response.status_code == 400
    assert field_errors(response.text) == {f"category-{category.id}-prizes": message}
    [unchanged] = (await get_award(db, "smart-country")).categories
    assert (unchanged.name, unchanged.prizes) == ("GovTech", 1)


async def test_renaming_to_another_categorys_or_rounds_name_is_refused(award: Browser, db: Database) -> None:
    for name in ("Smart City", "GovTech"):
        await award.ok("/awards/smart-country/categories", {"name": name, "description": "", "prizes": "1"})
    govtech = (await get_award(db, "smart-country")).categories[1]
    response = await award.post(
        f"/awards/smart-country/categories/{govtech.id}", {"name": "Smart City", "description": "", "prizes": "1"}
    )
    assert response.status_code == 400, "two categories may not share a name"
    assert field_errors(response.text) == {f"category-{govtech.id}-name": "There is a category with this name already."}

    for name in ("Pre-selection", "Final"):
        await award.ok("/awards/smart-country/rounds", {**ROUND, "name": name})
    response = await award.post(f"{ROUNDS}/final", {**ROUND, "name": "Pre-selection"})
    assert response.status_code == 400, "two rounds may not share a name"
    assert field_errors(response.text) == {"r-name": "There is a round with this name already."}
    stored = await get_award(db, "smart-country")
    assert [c.name for c in stored.categories] == ["Smart City", "GovTech"]
    assert [r.name for r in stored.rounds] == ["Pre-selection", "Final"]


async def test_category_with_entries_cannot_be_deleted_but_an_empty_one_can(olga: Browser, db: Database) -> None:
    await import_small(db)
    categories = {c.slug: c for c in (await get_award(db, "mini-award")).categories}

    path = f"{MINI}/categories/{categories['smart-city'].id}/delete"
    page = await open_confirmation(olga.client, path)
    assert page.refusals == ["This category has entries and cannot be deleted."] and page.fields == {}
    response = await olga.post(path, {"confirm": "yes", "state": "any"})
    assert response.status_code == 409 and "This category has entries and cannot be deleted." in response.text
    assert await events(db, "category.deleted") == []

    location = await confirmed(olga, f"{MINI}/categories/{categories['govtech'].id}/delete")
    assert location == f"{MINI}/setup?saved=categories#categories"
    assert [c.slug for c in (await get_award(db, "mini-award")).categories] == ["smart-city"]
    [event] = await events(db, "category.deleted")
    assert event.before == {"name": "GovTech"} and event.object_id == str(categories["govtech"].id)


async def test_unknown_category_is_not_found(award: Browser, db: Database) -> None:
    await award.ok("/awards/smart-country/categories", {"name": "GovTech", "description": "", "prizes": "1"})
    await import_small(db)
    elsewhere = (await get_award(db, "mini-award")).categories[1].id  # mini-award's (empty) "GovTech"
    for category_id in (999999, elsewhere):
        for path in (
            f"/awards/smart-country/categories/{category_id}",
            f"/awards/smart-country/categories/{category_id}/delete",
        ):
            response = await award.post(path, {"name": "X", "description": "", "prizes": "1"})
            assert response.status_code == 404, path
    assert [c.name for c in (await get_award(db, "smart-country")).categories] == ["GovTech"]
    assert [c.name for c in (await get_award(db, "mini-award")).categories] == ["Smart City", "GovTech"]


# --- rounds ----------------------------------------------------------------------------------


async def test_add_round_stores_dates_in_utc_from_the_awards_time_zone(award: Browser, db: Database) -> None:
    location = await award.ok("/awards/smart-country/rounds", ROUND)
    assert location == f"{ROUNDS}/pre-selection?created=1"

    [rnd] = (await get_award(db, "smart-country")).rounds
    assert rnd.slug == "pre-selection" and rnd.name == "Pre-selection"
    assert rnd.submissions_open == datetime(2026, 5, 31, 22, 0, tzinfo=UTC)
    assert rnd.submissions_close == datetime(2026, 8, 31, 21, 59, tzinfo=UTC)
    assert rnd.scoring_close == datetime(2026, 9, 30, 21, 59, tzinfo=UTC)
    assert (rnd.method, rnd.min_sheets, rnd.results_visible_to_jurors) == (Method.MEAN, 3, True)
    [event] = await events(db, "round.saved")
    assert event.before is None
    assert event.after is not None
    assert datetime.fromisoformat(event.after["submissions_close"]) == datetime(2026, 8, 31, 21, 59, tzinfo=UTC)

    page = await award.get(location)
    assert page.status_code == 200
    assert "The round is created." in page.text
    assert input_value(page.text, "r-submissions_close") == "2026-08-31T23:59"
    assert input_value(page.text, "r-submissions_open") == "2026-06-01T00:00"
    assert "No criteria yet." in page.text


async def test_round_dates_follow_a_winter_time_zone_too(olga: Browser, db: Database) -> None:
    await olga.ok("/awards/new", {**AWARD, "time_zone": "America/New_York"})
    await olga.ok("/awards/smart-country/rounds", {**ROUND, "submissions_open": "2026-01-10T09:00"})
    [rnd] = (await get_award(db, "smart-country")).rounds
    assert rnd.submissions_open == datetime(2026, 1, 10, 14, 0, tzinfo=UTC)
    assert rnd.submissions_close == datetime(2026, 9, 1, 3, 59, tzinfo=UTC)


async def test_round_without_submission_window_is_fine(award: Browser, db: Database) -> None:
    values = {**ROUND, "name": "Live final", "submissions_open": "", "submissions_close": "", "scoring_close": ""}
    await award.ok("/awards/smart-country/rounds", {k: v for k, v in values.items() if k != "results_visible"})
    [rnd] = (await get_award(db, "smart-country")).rounds
    assert rnd.slug == "live-final"
    assert (rnd.submissions_open, rnd.submissions_close, rnd.scoring_close) == (None, None, None)
    assert rnd.results_visible_to_jurors is False


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"submissions_close": ""}, "submissions_close", BOTH_OR_NEITHER),
        ({"submissions_open": ""}, "submissions_close", BOTH_OR_NEITHER),
        ({"submissions_close": "2026-05-31T23:59"}, "submissions_close", "Submissions must close after they open."),
        ({"submissions_close": "2026-06-01T00:00"}, "submissions_close", "Submissions must close after they open."),
        ({"scoring_close": "2026-08-31T23:58"}, "scoring_close", "Scoring cannot end before submissions close."),
        ({"scoring_close": "soon"}, "scoring_close", "Enter a date and time, like 2026-08-31 23:59."),
        ({"method": "best-of"}, "method", "Choose a method."),
        ({"method": ""}, "method", "Choose a method."),
        ({"min_sheets": "x"}, "min_sheets", "Enter a whole number."),
        ({"min_sheets": "-1"}, "min_sheets", "Enter a number from 0 to 1000."),
        ({"min_sheets": "1001"}, "min_sheets", "Enter a number from 0 to 1000."),
    ],
)
async def test_add_round_refuses_bad_field_with_message_beside_it(
    award: Browser, db: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = await award.post("/awards/smart-country/rounds", {**ROUND, **changes})
    assert response.status_code == 400
    assert field_errors(response.text) == {f"nr-{field}": message}
    assert await count_rows(db, Round) == 0
    assert await events(db, "round.saved") == []


async def test_duplicate_round_name_is_refused(with_round: Browser, db: Database) -> None:
    response = await with_round.post("/awards/smart-country/rounds", {**ROUND, "name": "Pre-Selection"})
    assert response.status_code == 400
    assert field_errors(response.text) == {"nr-name": "There is a round with this name already."}
    assert await count_rows(db, Round) == 1


async def test_edit_round_keeps_slug_and_audits(with_round: Browser, db: Database) -> None:
    changes = {**ROUND, "name": "Pre-selection 2026", "method": "median", "min_sheets": "2", "scoring_close": ""}
    del changes["results_visible"]
    assert await with_round.ok(f"{ROUNDS}/pre-selection", changes) == f"{ROUNDS}/pre-selection?saved=round"
    [rnd] = (await get_award(db, "smart-country")).rounds
    assert (rnd.slug, rnd.name, rnd.method, rnd.min_sheets) == ("pre-selection", "Pre-selection 2026", Method.MEDIAN, 2)
    assert rnd.scoring_close is None and rnd.results_visible_to_jurors is False
    edit = (await events(db, "round.saved"))[-1]
    assert edit.before is not None and edit.after is not None
    assert (edit.before["name"], edit.after["name"]) == ("Pre-selection", "Pre-selection 2026")
    assert (edit.before["method"], edit.after["method"]) == ("mean", "median")
    assert (edit.before["results_visible_to_jurors"], edit.after["results_visible_to_jurors"]) == (True, False)


async def test_audit_of_an_edit_shows_unchanged_values_unchanged(with_round: Browser, db: Database) -> None:
    """Only the name changes; the audit's before and after must differ in the name only."""
    await with_round.ok(f"{ROUNDS}/pre-selection", {**ROUND, "name": "Pre-selection 2026"})
    edit = (await events(db, "round.saved"))[-1]
    assert edit.before is not None and edit.after is not None
    changed = {k for k in edit.after if edit.before.get(k) != edit.after[k]}
    assert changed == {"name"}, {k: (edit.before.get(k), edit.after[k]) for k in changed}

    await add_criterion(with_round, f"{ROUNDS}/pre-selection", weight="12.5", step="0.5")
    await with_round.ok(
        f"{ROUNDS}/pre-selection/criteria/innovation", {**CRITERION, "name": "Novelty", "weight": "12,5", "step": "0,5"}
    )
    edit = (await events(db, "criterion.saved"))[-1]
    assert edit.before is not None and edit.after is not None
    changed = {k for k in edit.after if edit.before.get(k) != edit.after[k]}
    assert changed == {"name"}, {k: (edit.before.get(k), edit.after[k]) for k in changed}


async def test_edit_round_refuses_bad_dates_and_changes_nothing(with_round: Browser, db: Database) -> None:
    response = await with_round.post(
        f"{ROUNDS}/pre-selection", {**ROUND, "name": "Renamed", "scoring_close": "2026-01-01T00:00"}
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {"r-scoring_close": "Scoring cannot end before submissions close."}
    assert input_value(response.text, "r-name") == "Renamed"  # what was typed is shown again
    [rnd] = (await get_award(db, "smart-country")).rounds
    assert rnd.name == "Pre-selection" and rnd.scoring_close == datetime(2026, 9, 30, 21, 59, tzinfo=UTC)
    assert len(await events(db, "round.saved")) == 1


async def test_round_with_entries_cannot_be_deleted_but_an_empty_one_can(olga: Browser, db: Database) -> None:
    await import_small(db)
    page = await open_confirmation(olga.client, f"{MINI}/rounds/pre-selection/delete")
    assert page.refusals == ["This round has entries or score sheets and cannot be deleted."]
    response = await olga.post(f"{MINI}/rounds/pre-selection/delete", {"confirm": "yes", "state": "any"})
    assert response.status_code == 409
    assert "This round has entries or score sheets and cannot be deleted." in response.text

    await olga.ok(f"{MINI}/rounds", {**ROUND, "name": "Final"})
    await add_criterion(olga, f"{MINI}/rounds/final")
    assert await confirmed(olga, f"{MINI}/rounds/final/delete") == f"{MINI}/setup?saved=rounds#rounds"
    assert [r.slug for r in (await get_award(db, "mini-award")).rounds] == ["pre-selection"]
    [event] = await events(db, "round.deleted")
    assert event.before is not None and event.before["name"] == "Final"
    async with db.session() as s:
        keys = (await s.execute(sa.select(Criterion.key).order_by(Criterion.key))).scalars().all()
    assert keys == ["impact", "innovation"]  # only the bundle's round's criteria are left


async def test_unknown_round_is_not_found(with_round: Browser) -> None:
    assert (await with_round.get(f"{ROUNDS}/no-such-round")).status_code == 404
    for suffix in ("", "/delete", "/criteria", "/criteria/innovation", "/copy-criteria"):
        response = await with_round.post(f"{ROUNDS}/no-such-round{suffix}", {**ROUND, **CRITERION})
        assert response.status_code == 404, suffix


# --- criteria --------------------------------------------------------------------------------


async def test_add_criterion_with_german_decimal_step(with_round: Browser, db: Database) -> None:
    location = await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="Impact", weight="25", step="0,5")
    assert location == f"{ROUNDS}/pre-selection?saved=criteria#criteria"
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert (criterion.key, criterion.name, criterion.description) == ("impact", "Impact", "How new is the idea?")
    assert (criterion.weight, criterion.min_value, criterion.max_value, criterion.step) == (25, 0, 10, Decimal("0.5"))
    [event] = await events(db, "criterion.saved")
    assert event.before is None and event.after is not None
    assert Decimal(event.after["step"]) == Decimal("0.5") and event.after["key"] == "impact"


async def test_criterion_key_is_made_from_the_name(with_round: Browser, db: Database) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="Größe & Wirkung")
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="2nd opinion")
    criteria = (await get_award(db, "smart-country")).rounds[0].criteria
    assert [c.key for c in criteria] == ["groesse_wirkung", "c_2nd_opinion"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"weight": "0"}, "weight", "The weight must be greater than 0."),
        ({"weight": "-2"}, "weight", "The weight must be greater than 0."),
        ({"weight": "0,0"}, "weight", "The weight must be greater than 0."),
        ({"weight": "abc"}, "weight", "Enter a number, like 7.5."),
        ({"weight": ""}, "weight", "Enter a number, like 7.5."),
        ({"weight": "NaN"}, "weight", "Enter a number, like 7.5."),
        ({"weight": "Infinity"}, "weight", "Enter a number, like 7.5."),
        ({"weight": "1e9"}, "weight", "Enter a number, like 7.5."),
        ({"weight": "1,23456"}, "weight", "Use at most 4 decimal places."),
        ({"min_value": "0.00001"}, "min_value", "Use at most 4 decimal places."),
        ({"max_value": "10.12345"}, "max_value", "Use at most 4 decimal places."),
        ({"step": "0.00005"}, "step", "Use at most 4 decimal places."),
        ({"min_value": "10"}, "max_value", "The maximum must be greater than the minimum."),
        ({"min_value": "11"}, "max_value", "The maximum must be greater than the minimum."),
        ({"step": "3"}, "step", "The step must divide the range from the minimum to the maximum."),
        ({"step": "0,3"}, "step", "The step must divide the range from the minimum to the maximum."),
        ({"step": "0"}, "step", "The step must be greater than 0."),
        ({"step": "-1"}, "step", "The step must be greater than 0."),
        ({"levels": "0-11: off the scale"}, "levels", outside_scale(1)),
        ({"levels": "0-2: none\n5-3: backwards"}, "levels", outside_scale(2)),
        ({"min_value": "1", "levels": "0: below"}, "levels", outside_scale(1)),
        ({"levels": "nothing useful"}, "levels", "Line 1: write “0-2: what these values mean”."),
        ({"key": "Bad Key"}, "key", "Use lower-case letters, digits and underscores, starting with a letter."),
    ],
)
async def test_add_criterion_refuses_bad_field_with_message_beside_it(
    with_round: Browser, db: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = await with_round.post(f"{ROUNDS}/pre-selection/criteria", {**CRITERION, **changes})
    assert response.status_code == 400
    assert summary_errors(response.text)[f"nk-{field}"] == message
    if field != "key":  # the form has no key field: the key comes from the name
        assert field_errors(response.text) == {f"nk-{field}": message}
    assert await count_rows(db, Criterion) == 0
    assert await events(db, "criterion.saved") == []


async def test_duplicate_criterion_key_is_refused_beside_a_field(with_round: Browser, db: Database) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection")
    for data in (
        {**CRITERION},
        {**CRITERION, "name": "INNOVATION!"},
        {**CRITERION, "name": "Other", "key": "innovation"},
    ):
        response = await with_round.post(f"{ROUNDS}/pre-selection/criteria", data)
        assert response.status_code == 400
        summary, beside = summary_errors(response.text), field_errors(response.text)
        assert "Another criterion of this round has this key." in summary.values()
        # The message must stand beside a field the form has (the form has no key field).
        assert "Another criterion of this round has this key." in beside.values(), (
            f"only in the summary, linking to a missing field: {summary}; beside fields: {beside}"
        )
    assert await count_rows(db, Criterion) == 1


async def test_value_descriptions_are_stored_and_shown_again(with_round: Browser, db: Database) -> None:
    levels = "0-2: none\n9-10: great"
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", levels=levels)
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert [(lv.min_value, lv.max_value, lv.text) for lv in criterion.levels] == [(0, 2, "none"), (9, 10, "great")]
    page = await with_round.get(f"{ROUNDS}/pre-selection")
    assert input_value(page.text, "criterion-innovation-levels") == levels
    assert input_value(page.text, "criterion-innovation-weight") == "30"
    assert input_value(page.text, "criterion-innovation-step") == "1"


async def test_value_descriptions_with_single_values_and_german_decimals(with_round: Browser, db: Database) -> None:
    await add_criterion(
        with_round, f"{ROUNDS}/pre-selection", step="0,5", levels="\n0: nothing\n0,5 – 4,5: some\n\n10: all"
    )
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert [(lv.min_value, lv.max_value, lv.text) for lv in criterion.levels] == [
        (0, 0, "nothing"),
        (Decimal("0.5"), Decimal("4.5"), "some"),
        (10, 10, "all"),
    ]
    page = await with_round.get(f"{ROUNDS}/pre-selection")
    assert input_value(page.text, "criterion-innovation-levels") == "0: nothing\n0.5-4.5: some\n10: all"


async def test_saving_the_edit_form_unchanged_keeps_value_descriptions(with_round: Browser, db: Database) -> None:
    """The edit form shows the value descriptions again; sending it back as it is must work."""
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", levels="0-2: none\n9-10: great")
    page = await with_round.get(f"{ROUNDS}/pre-selection")
    shown = {
        name: input_value(page.text, f"criterion-innovation-{name}")
        for name in ("name", "description", "weight", "min_value", "max_value", "step", "levels")
    }
    response = await with_round.post(f"{ROUNDS}/pre-selection/criteria/innovation", {**shown, "name": "Innovation!"})
    assert response.status_code == 303, (response.status_code, field_errors(response.text))
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert criterion.name == "Innovation!"
    assert [(lv.min_value, lv.max_value, lv.text) for lv in criterion.levels] == [(0, 2, "none"), (9, 10, "great")]


async def test_value_descriptions_starting_at_the_same_value_are_refused(with_round: Browser, db: Database) -> None:
    """rubric_level is unique by (criterion, min_value): such input needs a message, not a 500."""
    cases = [
        "0-2: none\n0-3: also none",  # two bands start at 0
        "3: three\n3-4: three or four",
        "0.00001-1: almost none\n0.00002-2: a little",  # more than 4 decimals: both become 0.0000
    ]
    answers = {}
    for levels in cases:
        response = await with_round.post(f"{ROUNDS}/pre-selection/criteria", {**CRITERION, "levels": levels})
        answers[levels] = (response.status_code, "nk-levels" in field_errors(response.text))
    assert answers == dict.fromkeys(cases, (400, True))
    assert await count_rows(db, Criterion) == 0


async def test_edit_criterion_changes_levels_and_audits(with_round: Browser, db: Database) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", levels="0-2: none")
    changes = {**CRITERION, "name": "Novelty", "weight": "12,5", "max_value": "5", "levels": "3-5: new"}
    await with_round.ok(f"{ROUNDS}/pre-selection/criteria/innovation", {**changes, "key": "renamed"})
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert (criterion.key, criterion.name) == ("innovation", "Novelty")
    assert (criterion.weight, criterion.max_value) == (Decimal("12.5"), 5)
    assert [(lv.min_value, lv.max_value, lv.text) for lv in criterion.levels] == [(3, 5, "new")]
    assert await count_rows(db, RubricLevel) == 1
    edit = (await events(db, "criterion.saved"))[-1]
    assert edit.before is not None and edit.after is not None
    assert (edit.before["name"], edit.after["name"]) == ("Innovation", "Novelty")
    assert (Decimal(edit.before["weight"]), Decimal(edit.after["weight"])) == (30, Decimal("12.5"))


async def test_edit_criterion_refuses_bad_scale_beside_the_field(with_round: Browser, db: Database) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection")
    response = await with_round.post(
        f"{ROUNDS}/pre-selection/criteria/innovation", {**CRITERION, "name": "Novelty", "step": "3"}
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {
        "criterion-innovation-step": "The step must divide the range from the minimum to the maximum."
    }
    assert input_value(response.text, "criterion-innovation-name") == "Novelty"
    [criterion] = (await get_award(db, "smart-country")).rounds[0].criteria
    assert (criterion.name, criterion.step) == ("Innovation", 1)


async def test_delete_criterion(with_round: Browser, db: Database) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", levels="0-2: none")
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="Impact")
    location = await confirmed(with_round, f"{ROUNDS}/pre-selection/criteria/innovation/delete")
    assert location == f"{ROUNDS}/pre-selection?saved=criteria#criteria"
    assert [c.key for c in (await get_award(db, "smart-country")).rounds[0].criteria] == ["impact"]
    assert await count_rows(db, RubricLevel) == 0
    [event] = await events(db, "criterion.deleted")
    assert event.before is not None and event.before["key"] == "innovation"


async def test_unknown_criterion_is_not_found(with_round: Browser) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection")
    for path in ("criteria/impact", "criteria/impact/delete", "criteria/INNOVATION"):
        response = await with_round.post(f"{ROUNDS}/pre-selection/{path}", CRITERION)
        assert response.status_code == 404, path


async def test_round_page_shows_weight_shares_with_one_decimal(
    with_round: Browser, client: Client, db: Database
) -> None:
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="Innovation", weight="30")
    await add_criterion(with_round, f"{ROUNDS}/pre-selection", name="Impact", weight="25")
    page = await with_round.get(f"{ROUNDS}/pre-selection")
    assert '<td>Innovation</td><td class="num">30</td><td class="num">54.5 %</td>' in page.text
    assert '<td>Impact</td><td class="num">25</td><td class="num">45.5 %</td>' in page.text

    client.cookies.set("award_jury_lang", "de", domain=HOST, path="/")
    german = await with_round.get(f"{ROUNDS}/pre-selection", headers={"accept-language": "de"})
    assert "54,5 %" in german.text and "45,5 %" in german.text
    assert "54.5 %" not in german.text


async def test_german_messages_beside_the_field(with_round: Browser, client: Client) -> None:
    client.cookies.set("award_jury_lang", "de", domain=HOST, path="/")
    response = await with_round.post(
        f"{ROUNDS}/pre-selection/criteria", {**CRITERION, "weight": "0"}, headers={"accept-language": "de"}
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {"nk-weight": "Das Gewicht muss größer als 0 sein."}


# --- the lock after the first submitted sheet ------------------------------------------------


async def test_submitted_sheet_locks_scales_and_set_of_criteria(olga: Browser, db: Database) -> None:
    await import_small(db)
    round_path = f"{MINI}/rounds/pre-selection"
    page = await olga.get(round_path)
    assert "Its criteria and scales are fixed." in page.text
    assert "Add a criterion" not in page.text and "Delete criterion" not in page.text

    response = await olga.post(f"{round_path}/criteria", {**CRITERION, "name": "Team"})
    assert response.status_code == 400
    # (A locked round's page has no form to add a criterion; it says why instead.)
    assert "Its criteria and scales are fixed." in response.text

    assert (await open_confirmation(olga.client, f"{round_path}/criteria/innovation/delete")).refusals == [
        LOCKED_CRITERIA
    ]
    response = await olga.post(f"{round_path}/criteria/innovation/delete", {"confirm": "yes", "state": "any"})
    assert response.status_code == 409 and LOCKED_CRITERIA in response.text

    for change in ({"max_value": "20"}, {"min_value": "1"}, {"step": "0,5"}):
        response = await olga.post(f"{round_path}/criteria/innovation", locked_round_values(**change))
        assert response.status_code == 400, change
        assert field_errors(response.text) == {"criterion-innovation-min_value": LOCKED_SCALES}, change

    # A weight change is not made straight away: first a page shows which ranks would move.
    response = await olga.post(f"{round_path}/criteria/innovation", locked_round_values(weight="40"))
    assert response.status_code == 200
    assert "Change a weight?" in response.text and 'name="confirm" value="1"' in response.text

    await olga.ok(f"{MINI}/rounds", {**ROUND, "name": "Final"})
    await add_criterion(olga, f"{MINI}/rounds/final", name="Team")
    final = (await get_award(db, "mini-award")).rounds[1]
    response = await olga.post(f"{round_path}/copy-criteria", {"source": str(final.id)})
    assert response.status_code == 409
    assert "Its criteria and scales are fixed." in response.text
    assert await events(db, "criteria.copied") == []

    rnd = (await get_award(db, "mini-award")).rounds[0]
    assert [(c.key, c.weight, c.min_value, c.max_value, c.step) for c in rnd.criteria] == [
        ("innovation", 30, 0, 10, 1),
        ("impact", 25, 0, 10, Decimal("0.5")),
    ]
    locked_ids = {str(c.id) for c in rnd.criteria}
    assert [e for e in await events(db, "criterion.saved") if e.object_id in locked_ids] == []
    assert await events(db, "criterion.deleted") == []

    # Name, rubric text and value descriptions may still change ("30,0" is the same weight).
    await olga.ok(
        f"{round_path}/criteria/innovation",
        locked_round_values(
            name="Degree of innovation", description="New to the market?", weight="30,0", levels="9-10: new"
        ),
    )
    innovation = (await get_award(db, "mini-award")).rounds[0].criteria[0]
    assert (innovation.name, innovation.description) == ("Degree of innovation", "New to the market?")
    assert [(lv.min_value, lv.text) for lv in innovation.levels] == [(9, "new")]
    assert (innovation.weight, innovation.max_value) == (30, 10)

    # Confirmed, the weight changes and the audit says so.
    # (new levels: re-sending stored ones hits test_saving_the_edit_form_unchanged_keeps_value_descriptions)
    confirmed = locked_round_values(name="Degree of innovation", weight="40", levels="8-10: new", confirm="1")
    await olga.ok(f"{round_path}/criteria/innovation", confirmed)
    assert (await get_award(db, "mini-award")).rounds[0].criteria[0].weight == 40
    last = (await events(db, "criterion.saved"))[-1]
    assert last.before is not None and last.after is not None
    assert (last.before["weight"], last.after["weight"]) == ("30", "40")


async def test_round_with_only_draft_sheets_is_not_locked(olga: Browser, db: Database) -> None:
    await import_small(db)
    async with db.session() as s:
        await s.execute(sa.update(ScoreSheet).values(status=SheetStatus.DRAFT, submitted_at=None))
    round_path = f"{MINI}/rounds/pre-selection"
    page = await olga.get(round_path)
    assert "Its criteria and scales are fixed." not in page.text and "Add a criterion" in page.text

    await add_criterion(olga, round_path, name="Team")
    await confirmed(olga, f"{round_path}/criteria/impact/delete")
    await olga.ok(f"{round_path}/criteria/innovation", locked_round_values(max_value="20", weight="40", step="2"))
    rnd = (await get_award(db, "mini-award")).rounds[0]
    assert [(c.key, c.weight, c.max_value) for c in rnd.criteria] == [("innovation", 40, 20), ("team", 30, 10)]


# --- copying criteria ------------------------------------------------------------------------


async def _two_awards(olga: Browser) -> None:
    """smart-country/pre-selection (innovation with levels, impact) and target-award/final (impact)."""
    await olga.ok("/awards/new", AWARD)
    await olga.ok("/awards/smart-country/rounds", ROUND)
    await add_criterion(olga, f"{ROUNDS}/pre-selection", levels="0-2: none\n9-10: great")
    await add_criterion(olga, f"{ROUNDS}/pre-selection", name="Impact", weight="25", step="0,5", levels="10: huge")
    await olga.ok("/awards/new", {**AWARD, "slug": "target-award", "name": "Target Award"})
    await olga.ok("/awards/target-award/rounds", {**ROUND, "name": "Final"})
    await add_criterion(olga, "/awards/target-award/rounds/final", name="Impact", weight="50")
    await olga.ok("/awards/target-award/rounds", {**ROUND, "name": "Semi-final"})  # so the copy form shows


async def _award_id(db: Database, slug: str) -> int:
    return (await get_award(db, slug)).id


async def test_copy_criteria_from_another_award_one_organises(
    olga: Browser, client: Client, db: Database, settings: Settings
) -> None:
    await _two_awards(olga)
    source = (await get_award(db, "smart-country")).rounds[0]
    ids = (await _award_id(db, "smart-country"), await _award_id(db, "target-award"))
    tom = await browser_for(client, db, settings, "tom@example.org", "Tom Two-Awards", award_ids=ids)

    page = await tom.get("/awards/target-award/rounds/final")
    assert f'<option value="{source.id}">Smart Country Award – Pre-selection</option>' in page.text
    location = await tom.ok("/awards/target-award/rounds/final/copy-criteria", {"source": str(source.id)})
    assert location == "/awards/target-award/rounds/final?copied=1#criteria"
    assert "1 criterion copied." in (await tom.get(location)).text

    target = (await get_award(db, "target-award")).rounds[0]
    assert [(c.key, c.name, c.weight, c.position) for c in target.criteria] == [
        ("impact", "Impact", 50, 0),
        ("innovation", "Innovation", 30, 1),
    ]
    assert target.criteria[0].levels == []  # the existing "impact" was left alone
    innovation = target.criteria[1]
    assert (innovation.description, innovation.min_value, innovation.max_value, innovation.step) == (
        "How new is the idea?",
        0,
        10,
        1,
    )
    assert [(lv.min_value, lv.max_value, lv.text) for lv in innovation.levels] == [(0, 2, "none"), (9, 10, "great")]
    # The source is unchanged.
    assert [c.key for c in (await get_award(db, "smart-country")).rounds[0].criteria] == ["innovation", "impact"]
    [event] = await events(db, "criteria.copied")
    assert event.actor_id == tom.person_id and event.after == {"from_round": source.id, "copied": 1}

    again = await tom.ok("/awards/target-award/rounds/final/copy-criteria", {"source": str(source.id)})
    assert again == "/awards/target-award/rounds/final?copied=0#criteria"
    assert await count_rows(db, Criterion) == 4


async def test_copy_criteria_from_an_award_one_does_not_organise_is_refused(
    olga: Browser, client: Client, db: Database, settings: Settings
) -> None:
    await _two_awards(olga)
    source = (await get_award(db, "smart-country")).rounds[0]
    rita = await browser_for(
        client, db, settings, "rita@example.org", "Rita Target", award_ids=(await _award_id(db, "target-award"),)
    )
    page = await rita.get("/awards/target-award/rounds/final")
    assert "Target Award – Semi-final" in page.text
    assert "Smart Country Award" not in page.text  # not offered as a source

    response = await rita.post("/awards/target-award/rounds/final/copy-criteria", {"source": str(source.id)})
    assert response.status_code == 400
    assert field_errors(response.text) == {"cp-source": "Choose a round to copy from."}
    assert [c.key for c in (await get_award(db, "target-award")).rounds[0].criteria] == ["impact"]
    assert await events(db, "criteria.copied") == []


async def test_copy_criteria_with_bad_source_is_refused(with_round: Browser, db: Database) -> None:
    await with_round.ok("/awards/smart-country/rounds", {**ROUND, "name": "Final"})  # so the copy form shows
    await add_criterion(with_round, f"{ROUNDS}/final")
    # "²" passes str.isdigit() but not int(); 30 digits overflow the database's integer.
    sources = ["", "abc", "-1", "0", "999999", "1.5", " ", "²", "9" * 30]
    answers = {}
    for source in sources:
        response = await with_round.post(f"{ROUNDS}/pre-selection/copy-criteria", {"source": source})
        answers[source] = (response.status_code, field_errors(response.text).get("cp-source"))
    assert answers == dict.fromkeys(sources, (400, "Choose a round to copy from."))
    assert [c.key for c in (await get_award(db, "smart-country")).rounds[0].criteria] == []


# --- who may do it ---------------------------------------------------------------------------


def every_setup_post(award: str = "mini-award", category_id: int = 1) -> list[str]:
    base = f"/awards/{award}"
    rounds = f"{base}/rounds/pre-selection"
    return [
        "/awards/new",
        f"{base}/setup",
        f"{base}/categories",
        f"{base}/categories/{category_id}",
        f"{base}/categories/{category_id}/delete",
        f"{base}/rounds",
        rounds,
        f"{rounds}/delete",
        f"{rounds}/criteria",
        f"{rounds}/criteria/innovation",
        f"{rounds}/criteria/innovation/delete",
        f"{rounds}/copy-criteria",
    ]


async def _snapshot(db: Database) -> tuple[int, int, int, int, int, str]:
    award = await get_award(db, "mini-award")
    return (
        await count_rows(db, Award),
        await count_rows(db, Category),
        await count_rows(db, Round),
        await count_rows(db, Criterion),
        await count_rows(db, RubricLevel),
        award.name,
    )


async def test_juror_gets_403_on_every_setup_page_and_post(client: Client, db: Database, settings: Settings) -> None:
    await import_small(db)
    before = await _snapshot(db)
    category_id = (await get_award(db, "mini-award")).categories[1].id
    juror = await browser_for(client, db, settings, "j.doe@example.org", role=None)
    for path in ("/awards/new", f"{MINI}/setup", f"{MINI}/rounds/pre-selection"):
        assert (await juror.get(path)).status_code == 403, path
    data = {**AWARD, **ROUND, **CRITERION, "prizes": "1", "source": "1", "slug": "juror-award"}
    for path in every_setup_post(category_id=category_id):
        response = await juror.post(path, data)
        assert response.status_code == 403, path
    assert await _snapshot(db) == before
    assert await events(db, "criterion.saved") == []


async def test_organiser_of_another_award_gets_403(client: Client, db: Database, settings: Settings) -> None:
    await import_small(db)
    other_id = await import_small(db, "other-award")
    before = await _snapshot(db)
    category_id = (await get_award(db, "mini-award")).categories[1].id
    otto = await browser_for(client, db, settings, "otto@example.org", "Otto Other", award_ids=(other_id,))
    assert (await otto.get("/awards/other-award/setup")).status_code == 200
    for path in (f"{MINI}/setup", f"{MINI}/rounds/pre-selection"):
        assert (await otto.get(path)).status_code == 403, path
    data = {**AWARD, **ROUND, **CRITERION, "prizes": "1", "source": "1"}
    for path in every_setup_post(category_id=category_id)[1:]:
        assert (await otto.post(path, data)).status_code == 403, path
    assert await _snapshot(db) == before


async def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: Database) -> None:
    await import_small(db)
    before = await _snapshot(db)
    for path in ("/awards/new", f"{MINI}/setup", f"{MINI}/rounds/pre-selection"):
        response = await client.get(path, headers=EN, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/signin?next={path.replace('/', '%2F')}"
    token = await page_token(client, "/signin")
    for path in every_setup_post():
        response = await post_form(client, path, {**AWARD, **ROUND, "prizes": "1"}, token=token)
        assert response.status_code == 401, path
    assert await _snapshot(db) == before


async def test_unknown_award_is_not_found(olga: Browser) -> None:
    assert (await olga.get("/awards/no-such-award/setup")).status_code == 404
    assert (await olga.post("/awards/no-such-award/setup", AWARD)).status_code == 404
    assert (await olga.post("/awards/no-such-award/rounds", ROUND)).status_code == 404


async def test_setup_post_without_csrf_token_changes_nothing(award: Browser, db: Database) -> None:
    response = await post_form(award.client, SETUP, {**AWARD, "name": "Changed"}, token="")
    assert response.status_code == 403
    assert (await get_award(db, "smart-country")).name == "Smart Country Award"


# --- odd input never answers 500 -------------------------------------------------------------


def odd_posts() -> list[tuple[str, dict[str, str]]]:
    round_path = f"{ROUNDS}/pre-selection"
    return [
        ("/awards/new", AWARD),
        (SETUP, AWARD),
        ("/awards/smart-country/categories", {"name": "C", "description": "", "prizes": "1"}),
        ("/awards/smart-country/rounds", ROUND),
        (round_path, ROUND),
        (f"{round_path}/criteria", CRITERION),
        (f"{round_path}/criteria/innovation", CRITERION),
        (f"{round_path}/copy-criteria", {"source": "1"}),
    ]


async def _prepared(browser: Browser) -> None:
    """A criterion "innovation", and a second round so the copy form shows."""
    await add_criterion(browser, f"{ROUNDS}/pre-selection")
    await browser.ok("/awards/smart-country/rounds", {**ROUND, "name": "Final"})


async def test_odd_query_strings_on_the_pages(with_round: Browser) -> None:
    for query in ("copied=abc", "copied=-5", f"copied={'9' * 50}", "saved=%00&created=%FF"):
        response = await with_round.get(f"{ROUNDS}/pre-selection?{query}")
        assert response.status_code == 200, query
    assert (await with_round.get(f"{SETUP}?saved=%FF%FE&created=1")).status_code == 200


class TestVeryLongValues:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # About the fields' limits, not the body's: room for every field far beyond its limit
        # (a form's own limit, AWARD_JURY_MAX_FORM_KB, is tested in test_hostile_clients.py).
        return replace(settings, max_form_bytes=8 * 1024 * 1024)

    async def test_very_long_values_get_messages_not_errors(self, with_round: Browser, db: Database) -> None:
        await _prepared(with_round)
        long = "ä" * 30_000  # beyond every field's limit, within the request size limit
        for path, data in odd_posts():
            response = await with_round.post(path, {name: long for name in data})
            assert response.status_code == 400, (path, response.status_code)
            assert field_errors(response.text), path
        assert (await get_award(db, "smart-country")).name == "Smart Country Award"
        assert await count_rows(db, Award) == 1 and await count_rows(db, Criterion) == 1


async def test_a_form_beyond_the_form_limit_gets_the_too_much_text_page(with_round: Browser) -> None:
    response = await with_round.post(f"{ROUNDS}/pre-selection", {name: "ä" * 30_000 for name in ROUND})
    assert response.status_code == 413
    assert "Too much text" in response.text or "Zu viel Text" in response.text


async def test_missing_fields_get_messages_not_errors(with_round: Browser, db: Database) -> None:
    await _prepared(with_round)
    for path, _data in odd_posts():
        response = await with_round.post(path, {})
        assert response.status_code == 400, (path, response.status_code)
        assert field_errors(response.text), path
    response = await with_round.post("/awards/new", {})
    assert set(field_errors(response.text)) == {"f-name", "f-slug", "f-locale", "f-time_zone"}
    assert await count_rows(db, Award) == 1 and await count_rows(db, Round) == 2


async def test_non_utf8_bytes_never_answer_500(with_round: Browser, db: Database) -> None:
    await _prepared(with_round)
    for path, _data in odd_posts():
        for body in (b"name=%FF%FE%FD&weight=%C0%80&slug=%ED%A0%80", b"name=\xff\xfe&prizes=\xc3&levels=1:%ED%A0%80"):
            response = await with_round.client.post(
                path,
                content=body + f"&_csrf_token={with_round.token}".encode(),
                headers={**EN, "content-type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
            assert response.status_code == 400, (path, body, response.status_code)
            assert field_errors(response.text), (path, body)
    assert await count_rows(db, Award) == 1 and await count_rows(db, Criterion) == 1


async def test_form_posted_as_json_never_answers_500(with_round: Browser, db: Database) -> None:
    await _prepared(with_round)
    for path, data in odd_posts():
        response = await with_round.client.post(
            path, json=data, headers={**EN, "x-csrftoken": with_round.token}, follow_redirects=False
        )
        assert response.status_code == 400, (path, response.status_code)
    assert await count_rows(db, Award) == 1 and await count_rows(db, Criterion) == 1


@pytest.mark.parametrize("value", ["A\x00B", "line\r\nbreak\x07", "\u202eevil\ufeff"])
async def test_control_characters_never_answer_500(with_round: Browser, db: Database, value: str) -> None:
    await _prepared(with_round)
    for path, data in odd_posts():
        fields = {**data, "name": value, "description": value, "levels": f"1: {value}", "slug": "odd-award"}
        response = await with_round.post(path, fields)
        assert response.status_code in (303, 400), (path, response.status_code)


@pytest.mark.parametrize("moment", ["1-1-1", "2026-02-30T10:00", "2026-08-31T25:00", "2026-08-31T23:59:60", "x" * 40])
async def test_impossible_dates_are_refused_beside_the_field(with_round: Browser, db: Database, moment: str) -> None:
    data = {**ROUND, "name": "Odd dates", "scoring_close": moment}
    response = await with_round.post("/awards/smart-country/rounds", data)
    assert response.status_code == 400
    assert field_errors(response.text) == {"nr-scoring_close": "Enter a date and time, like 2026-08-31 23:59."}
    assert await count_rows(db, Round) == 1


async def test_dates_at_the_end_of_the_calendar_never_answer_500(olga: Browser, db: Database) -> None:
    """In UTC these lie before year 1 or after year 9999: a message or a stored value, never a 500."""
    cases = {
        ("Europe/Berlin", "0001-01-01T00:00"): "berlin",
        ("America/New_York", "9999-12-31T23:59"): "new-york",
    }
    answers = {}
    for (time_zone, moment), slug in cases.items():
        await olga.ok("/awards/new", {**AWARD, "slug": slug, "time_zone": time_zone})
        data = {**ROUND, "name": "Far away", "submissions_open": "", "submissions_close": "", "scoring_close": moment}
        response = await olga.post(f"/awards/{slug}/rounds", data)
        answers[moment] = response.status_code
        if response.status_code == 400:
            assert "nr-scoring_close" in field_errors(response.text)
            assert (await get_award(db, slug)).rounds == []
    assert set(answers.values()) <= {303, 400}, answers
