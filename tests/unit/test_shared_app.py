"""The run's shared app (tests/support/apps.py) serves each test's database and settings, and is
not shared once create_app keeps something in app.state that it does not refresh per test."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from award_jury.db import Database
from award_jury.settings import Settings
from award_jury.web import app as web_app
from tests.support import apps


def settings_in(folder: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'x.db'}",
        data_dir=folder / "var",
        secret_key="shared-app-secret-0123456789abcdef",
        base_url="http://testserver.local",
    )


def test_one_app_points_at_each_tests_database_settings_and_stores(tmp_path: Path) -> None:
    first, second = settings_in(tmp_path / "a"), settings_in(tmp_path / "b")
    db1, db2 = Database.from_url(first.database_url), Database.from_url(second.database_url)
    app = apps.shared_app(first, db1)
    stores = app.stores
    again = apps.shared_app(second, db2)
    assert again is app
    assert (app.state.db, app.state.settings) == (db2, second)
    assert app.stores is not stores  # the response cache starts empty for each test
    other_shape = apps.shared_app(replace(second, max_upload_bytes=1024), db2)
    assert other_shape is not app


def test_an_app_state_it_does_not_refresh_means_an_app_per_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = web_app.create_app

    def with_more_state(*args: Any, **kwargs: Any) -> Any:
        made = build(*args, **kwargs)
        made.state.storage = object()  # something built from the settings, unknown to apps.py
        return made

    monkeypatch.setattr(apps, "create_app", with_more_state)
    monkeypatch.setattr(apps, "_APPS", {})
    settings = settings_in(tmp_path)
    db = Database.from_url(settings.database_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = apps.shared_app(settings, db)
        second = apps.shared_app(settings, db)
    assert first is not second
    told = [str(w.message) for w in caught if "builds an app for every test" in str(w.message)]
    assert len(told) == 2 and all("['storage']" in message for message in told)
