"""The demo award shipped with the project (``award-jury demo``)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BUNDLE_PATH = Path(__file__).with_name("bundle.json")

#: Demo logins: (role, e-mail, password). The juror and the startup contact are in the bundle.
ORGANISER = ("Organisation Demo", "organiser@demo.example", "demo-organiser-2026")
JUROR_EMAIL, JUROR_PASSWORD = "jana.schroeder@juror.example", "demo-juror-2026"
STARTUP_EMAIL, STARTUP_PASSWORD = "lena@strassenklar.example", "demo-startup-2026"
SCORING_DAYS_LEFT = 21


def load_demo_bundle(today: date | None = None) -> dict[str, Any]:
    """The demo bundle with its dates moved (in the award's wall-clock time) so that today
    falls in the pre-selection's scoring window, SCORING_DAYS_LEFT days before it closes."""
    doc: dict[str, Any] = json.loads(BUNDLE_PATH.read_text(encoding="utf-8"))
    tz = ZoneInfo(doc["award"]["time_zone"])
    first = doc["award"]["rounds"][0]
    close = datetime.fromisoformat(first["scoring_close"]).astimezone(tz)
    shift = timedelta(days=((today or datetime.now(tz).date()) + timedelta(days=SCORING_DAYS_LEFT) - close.date()).days)
    for rnd in doc["award"]["rounds"]:
        for key in ("submissions_open", "submissions_close", "scoring_close"):
            if rnd.get(key):
                moved = datetime.fromisoformat(rnd[key]).astimezone(tz) + shift
                rnd[key] = moved.isoformat(timespec="seconds")
    return doc


OPEN_CALL_SLUG = "govtech-challenge-demo"


def open_call_bundle(today: date | None = None) -> dict[str, Any]:
    """A second demo award whose call for entries is open (two weeks to go), with the same
    categories and criteria but no entries yet: so the demo can also be applied to."""
    demo = load_demo_bundle(today)
    tz = ZoneInfo(demo["award"]["time_zone"])
    day = today or datetime.now(tz).date()
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    first = dict(demo["award"]["rounds"][0])
    first.update(
        submissions_open=(start - timedelta(days=14)).isoformat(timespec="seconds"),
        submissions_close=(start + timedelta(days=14, hours=23, minutes=59)).isoformat(timespec="seconds"),
        scoring_close=(start + timedelta(days=42, hours=23, minutes=59)).isoformat(timespec="seconds"),
    )
    award = {key: value for key, value in demo["award"].items() if key not in ("rounds", "logo")}
    award.update(
        slug=OPEN_CALL_SLUG,
        name="GovTech Challenge (Demo)",
        description="Eine zweite Demo-Ausschreibung, die gerade offen ist: bewerben Sie sich als Startup.",
        rounds=[first],
    )
    return {"format": demo["format"], "award": award, "jurors": [], "entries": [], "conflicts": [], "sheets": []}
