"""The Jinja2 environment: ``templates/`` at the top of the repository, autoescape on,
gettext from the request's language, and every filter registered once, here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from award_jury import i18n
from award_jury.settings import Settings
from award_jury.web.auth import current_viewer


def levels_as_text(criterion: Any) -> str:
    """A criterion's value descriptions as the set-up form's text ("0-2: …", one per line)."""
    lines = []
    for level in criterion.levels:
        lo, hi = i18n.input_number(level.min_value), i18n.input_number(level.max_value)
        lines.append(f"{lo}: {level.text}" if lo == hi else f"{lo}-{hi}: {level.text}")
    return "\n".join(lines)


def create_environment(templates_dir: Path, settings: Settings | None = None) -> Environment:
    """``settings`` (the app's) adds the few values pages show from them; templates read no settings."""
    env = i18n.template_environment(templates_dir, ("html", "xml", "svg"))
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["number"] = i18n.format_number
    env.filters["filesize"] = i18n.format_size
    env.filters["input_datetime"] = i18n.input_datetime
    env.filters["input_number"] = i18n.input_number
    env.globals["levels_as_text"] = levels_as_text
    env.globals["current_locale"] = i18n.current_locale.get
    env.globals["language_name"] = i18n.language_name
    env.globals["current_viewer"] = current_viewer.get
    if settings is not None:
        # The idle warning shows this long before the session ends (at most 10 minutes).
        env.globals["session_warn_seconds"] = min(600, settings.session_idle_seconds // 2)
    return env
