"""Plain factory functions for test data (no shared fixtures that tests mutate)."""

from __future__ import annotations

import copy
import json
from typing import Any

from award_jury.demo import BUNDLE_PATH


def demo_bundle() -> dict[str, Any]:
    """A fresh copy of the shipped demo bundle (unshifted dates)."""
    data: dict[str, Any] = json.loads(BUNDLE_PATH.read_text(encoding="utf-8"))
    return data


def small_bundle(slug: str = "mini-award", **award: Any) -> dict[str, Any]:
    """A complete, valid bundle small enough to reason about by hand."""
    doc: dict[str, Any] = {
        "format": "award-jury/bundle@1",
        "award": {
            "slug": slug,
            "name": "Mini Award",
            "locale": "en",
            "time_zone": "Europe/Berlin",
            "categories": [
                {"slug": "smart-city", "name": "Smart City", "prizes": 1},
                {"slug": "govtech", "name": "GovTech", "prizes": 2},
            ],
            "rounds": [
                {
                    "slug": "pre-selection",
                    "name": "Pre-selection",
                    "submissions_open": "2023-06-01T00:00:00+02:00",
                    "submissions_close": "2023-08-31T23:59:59+02:00",
                    "scoring_close": "2023-09-30T23:59:59+02:00",
                    "method": "mean",
                    "min_sheets": 1,
                    "criteria": [
                        {"key": "innovation", "name": "Innovation", "weight": 30, "min": 0, "max": 10, "step": 1},
                        {"key": "impact", "name": "Impact", "weight": 25, "min": 0, "max": 10, "step": 0.5},
                    ],
                }
            ],
            **award,
        },
        "jurors": [{"email": "j.doe@example.org", "name": "Jane Doe", "categories": ["smart-city"]}],
        "entries": [
            {
                "ref": "E001",
                "category": "smart-city",
                "status": "submitted",
                "startup": {"name": "Beispiel GmbH", "city": "Freiburg im Breisgau", "founded": 2019},
                "contact": {"email": "team@example.org", "name": "Max Muster"},
                "title": "Smart bins",
                "pitch": "Bins that call the truck.",
                "rounds": ["pre-selection"],
                "attachments": [],
            },
            {
                "ref": "E002",
                "category": "smart-city",
                "status": "submitted",
                "startup": {"name": "Zweite AG", "website": "https://zweite.example"},
                "contact": {"email": "hallo@zweite.example", "name": "Erika Muster"},
                "title": "Digital permits",
                "pitch": "Permits in minutes.",
                "rounds": ["pre-selection"],
                "attachments": [],
            },
        ],
        "conflicts": [{"juror": "j.doe@example.org", "entry": "E001", "reason": "former employer"}],
        "sheets": [
            {
                "juror": "j.doe@example.org",
                "entry": "E002",
                "round": "pre-selection",
                "status": "submitted",
                "scores": {"impact": 6.5, "innovation": 8},
                "comment": "Clear plan.",
            }
        ],
    }
    return copy.deepcopy(doc)
