"""The demo's juror login lands on a dashboard with work to do (the final, after the demo's
pre-selection that she has scored completely), and the final can be run as a pitch day."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from award_jury.accounts.services import find_person
from award_jury.db import Database
from award_jury.demo import JUROR_EMAIL
from award_jury.demo.seed import build_demo
from award_jury.settings import Settings
from tests.support.accounts import sign_in_as
from tests.support.apps import app_client, shared_app


async def test_demo_juror_lands_on_a_dashboard_with_open_sheets(make_database_url: Any, tmp_path: Path) -> None:
    url = make_database_url("demojury")
    db = Database.from_url(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="demo-jury-secret-0123456789ab",
        base_url="http://testserver.local",
    )
    try:
        await check_demo(db, settings)
    finally:
        await db.dispose()


async def check_demo(db: Database, settings: Settings) -> None:
    await build_demo(db, settings)
    async with db.session() as s:
        jana = await find_person(s, JUROR_EMAIL)
        assert jana is not None
    async with app_client(shared_app(settings, db)) as client:
        await sign_in_as(client, db, settings, jana.id)
        account = await client.get("/account", headers={"accept-language": "en"})
        link = re.search(r'href="(/awards/[^"/]+/jury)"', account.text)
        assert link is not None
        landing = await client.get(link.group(1), follow_redirects=True, headers={"accept-language": "en"})
        assert landing.url.path.endswith("/rounds/finale/jury")
        assert "0 von 6 Bewertungsbögen abgegeben" in landing.text  # Jana reads German
        assert len(re.findall(r'data-ref="E\d+"', landing.text)) == 6
        first = await client.get(landing.url.path.replace("/finale/jury", "/vorauswahl/jury"))
        assert "14 von 14 Bewertungsbögen abgegeben" in first.text
