"""The demo award shipped with the project: valid, rich enough to show everything, dated to today."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from award_jury.bundle.validate import validate_bundle
from award_jury.demo import JUROR_EMAIL, SCORING_DAYS_LEFT, STARTUP_EMAIL, load_demo_bundle
from tests.support.factories import demo_bundle

BERLIN = ZoneInfo("Europe/Berlin")
DATE_KEYS = ("submissions_open", "submissions_close", "scoring_close")


def test_demo_bundle_is_valid() -> None:
    assert validate_bundle(demo_bundle()) == []


def test_demo_bundle_has_enough_entries_jurors_and_conflicts() -> None:
    doc = demo_bundle()
    statuses = Counter(e["status"] for e in doc["entries"])
    assert statuses["submitted"] >= 14
    assert len(doc["jurors"]) >= 6
    assert len(doc["conflicts"]) >= 1


def test_demo_bundle_categories_rounds_and_criteria() -> None:
    award = demo_bundle()["award"]
    assert {c["slug"] for c in award["categories"]} >= {"smart-city", "govtech"}
    assert [r["slug"] for r in award["rounds"]][:2] == ["vorauswahl", "finale"]
    criteria = award["rounds"][0]["criteria"]
    assert len(criteria) == 5
    assert all(isinstance(c.get("description"), str) and c["description"].strip() for c in criteria)


def test_demo_bundle_startup_names_use_umlauts() -> None:
    names = "".join(e["startup"]["name"] for e in demo_bundle()["entries"])
    assert set(names) & set("äöüß")


def test_demo_logins_are_in_bundle() -> None:
    doc = demo_bundle()
    assert JUROR_EMAIL in {j["email"] for j in doc["jurors"]}
    assert STARTUP_EMAIL in {e["contact"]["email"] for e in doc["entries"]}


def _dates(doc: dict[str, Any]) -> list[tuple[str, str, datetime]]:
    return [
        (r["slug"], key, datetime.fromisoformat(r[key]))
        for r in doc["award"]["rounds"]
        for key in DATE_KEYS
        if r.get(key)
    ]


def test_load_demo_bundle_moves_scoring_close_21_days_after_today() -> None:
    doc = load_demo_bundle(today=date(2027, 3, 10))
    assert SCORING_DAYS_LEFT == 21
    # Daylight saving time starts on 28 March 2027, so the close is in summer time.
    assert doc["award"]["rounds"][0]["scoring_close"] == "2027-03-31T23:59:59+02:00"
    assert validate_bundle(doc) == []


def test_load_demo_bundle_keeps_wall_clock_times_and_berlin_offsets() -> None:
    original = _dates(demo_bundle())
    moved = _dates(load_demo_bundle(today=date(2027, 3, 10)))
    assert [(slug, key) for slug, key, _ in moved] == [(slug, key) for slug, key, _ in original]
    shifts = set()
    for (_, _, before), (_, _, after) in zip(original, moved, strict=True):
        local_before, local_after = before.astimezone(BERLIN), after.astimezone(BERLIN)
        assert local_after.time() == local_before.time()
        assert after.utcoffset() == after.astimezone(BERLIN).utcoffset()
        shifts.add((local_after.date() - local_before.date()).days)
    assert len(shifts) == 1  # every date moves by the same number of days


def test_load_demo_bundle_today_in_winter_gives_winter_offset() -> None:
    doc = load_demo_bundle(today=date(2027, 11, 20))
    assert doc["award"]["rounds"][0]["scoring_close"] == "2027-12-11T23:59:59+01:00"
    assert validate_bundle(doc) == []


def test_load_demo_bundle_keeps_everything_but_dates() -> None:
    original, moved = demo_bundle(), load_demo_bundle(today=date(2027, 3, 10))
    for rnd in (*original["award"]["rounds"], *moved["award"]["rounds"]):
        for key in DATE_KEYS:
            rnd.pop(key, None)
    assert moved == original


def test_the_second_demo_award_has_an_open_call_today() -> None:
    from award_jury.demo import open_call_bundle

    today = date(2026, 3, 29)  # the day the clocks go forward in Berlin
    doc = open_call_bundle(today)
    assert validate_bundle(doc) == []
    [rnd] = doc["award"]["rounds"]
    opens, closes = (datetime.fromisoformat(rnd[k]) for k in ("submissions_open", "submissions_close"))
    noon = datetime(2026, 3, 29, 12, tzinfo=BERLIN)
    assert opens < noon < closes
    assert closes.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M") == "12.04.2026 23:59"
    assert doc["entries"] == [] and len(doc["award"]["rounds"][0]["criteria"]) == 5
