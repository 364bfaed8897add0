"""Replacing or deleting a deck removes the old file only after the change is committed: a
failed commit (or a crash before it) leaves the entry and its file as they were."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from award_jury.db import Database
from award_jury.entries.models import Attachment
from award_jury.settings import Settings
from tests.support.entries import applicant, form_version, freeze_clock, make_pdf, save, start_entry
from tests.support.setup_helpers import import_small


class CommitFails(Exception):
    pass


@pytest.fixture
def failing_commits() -> Iterator[dict[str, bool]]:
    """While ``switch["on"]``, the commit of a session that changed an attachment fails (as a lost
    connection or a full disk would), after its changes were flushed."""
    switch = {"on": False}

    def mark(session: Session, _context: Any) -> None:
        if switch["on"] and any(isinstance(o, Attachment) for o in session.dirty):
            session.info["fail_commit"] = True

    def fail(session: Session) -> None:
        if session.info.pop("fail_commit", False):
            raise CommitFails("the commit failed")

    sa.event.listen(Session, "after_flush", mark)
    sa.event.listen(Session, "before_commit", fail)
    yield switch
    sa.event.remove(Session, "after_flush", mark)
    sa.event.remove(Session, "before_commit", fail)


async def test_a_failed_commit_after_replacing_the_deck_keeps_the_old_deck(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    failing_commits: dict[str, bool],
) -> None:
    await import_small(db, "mini-award")
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    old, new = make_pdf(1), make_pdf(2)
    assert (await save(b, entry_id, {"title": "T"}, deck=("old.pdf", old))).status_code == 303
    version = await form_version(b, entry_id)
    failing_commits["on"] = True
    failed = await save(b, entry_id, {"title": "T"}, deck=("new.pdf", new), version=version)
    failing_commits["on"] = False
    assert failed.status_code == 500  # the error page: nothing was saved

    download = await b.get(f"/entries/{entry_id}/deck")
    assert download.status_code == 200
    assert download.content == old


async def test_replacing_the_deck_removes_the_old_file_after_the_commit(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_small(db, "mini-award")
    freeze_clock(monkeypatch)
    b = await applicant(client, db, settings)
    entry_id = await start_entry(b)
    old, new = make_pdf(1), make_pdf(2)
    assert (await save(b, entry_id, {"title": "T"}, deck=("old.pdf", old))).status_code == 303
    assert (await save(b, entry_id, {"title": "T"}, deck=("new.pdf", new))).status_code == 303
    digest = hashlib.sha256(old).hexdigest()
    assert not (settings.uploads_dir / digest[:2] / digest).exists()
    assert (await b.get(f"/entries/{entry_id}/deck")).content == new
