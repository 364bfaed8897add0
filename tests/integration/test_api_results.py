"""The API's results of a round are the document of ``award-jury results --format json`` (SPEC §3, §5),
for every method: the CLI and the API run against the same database, the CLI also makes the token."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from award_jury.cli import cli
from award_jury.db import Database
from award_jury.settings import Settings
from award_jury.web.app import create_app
from tests.conftest import app_client
from tests.support.factories import demo_bundle

METHODS = ("mean", "median", "trimmed", "zscore")


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_api_results_equal_cli_json_for_every_method(make_database_url: Any, tmp_path: Path) -> None:
    url = make_database_url("apires")
    env = {"AWARD_JURY_DATABASE_URL": url, "AWARD_JURY_DATA_DIR": str(tmp_path / "var")}
    doc = demo_bundle()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    slug = run(env, "import", str(path)).strip()
    run(env, "create-user", "--email", "orga@example.org", "--name", "Olli Organiser", "--role", "organiser")
    token = run(env, "api-token", "create", "--email", "orga@example.org", "--label", "results").strip()
    round_slug = doc["award"]["rounds"][0]["slug"]
    from_cli = {m: json.loads(run(env, "results", slug, "--round", round_slug, "--method", m)) for m in METHODS}
    from_cli[""] = json.loads(run(env, "results", slug, "--round", round_slug))  # the round's own method

    async def from_api() -> dict[str, Any]:
        database = Database.from_url(url)
        settings = Settings(
            database_url=url, data_dir=tmp_path / "var", secret_key="k" * 32, base_url="http://testserver.local"
        )
        found = {}
        try:
            async with app_client(create_app(settings, database=database)) as client:
                for method in [*METHODS, ""]:
                    response = await client.get(
                        f"/api/v1/awards/{slug}/rounds/{round_slug}/results",
                        params={"method": method} if method else {},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    assert response.status_code == 200
                    found[method] = response.json()
        finally:
            await database.dispose()
        return found

    assert asyncio.run(from_api()) == from_cli
    assert {doc["method"] for doc in from_cli.values()} == set(METHODS)
