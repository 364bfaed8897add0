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
