"""Schemathesis against the live schema (``/api/openapi.json`` of a real server on 127.0.0.1):
every operation, with generated and the schema's own example input, as a juror and as an organiser.
No answer may be a server error, and every answer must match the schema (status code, media type,
body). The number of examples is kept small so the suite stays fast."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.auths import AuthStorage
from schemathesis.specs.openapi.checks import positive_data_acceptance

from award_jury.accounts.models import Person
from award_jury.accounts.services import get_or_create_person, grant_role
from award_jury.accounts.tokens import TokenRequest, create_token
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.migrate import upgrade
from award_jury.settings import Settings
from tests.support.browser import LiveServer
from tests.support.scoring import build_world, scoring_bundle

EXAMPLES = 4


@dataclass
class ApiServer:
    server: LiveServer
    tokens: dict[str, str]


async def seed(url: str) -> dict[str, str]:
    """The award the schema's examples name (mini-award, round pre-selection, E001), a juror
    assigned to its entries and an organiser, with a token each."""
    db = Database.from_url(url)
    await upgrade(db)
    try:
        async with db.session() as s:
            world = await build_world(s, scoring_bundle("mini-award", entries=3))
            organiser = await get_or_create_person(s, "orga@example.org", "Olli Organiser")
            await grant_role(s, organiser, Role.ORGANISER, world.award_id)
            juror = (await s.execute(sa.select(Person).where(Person.id == world.jurors[0]))).scalar_one()
            tokens = {}
            for role, person in (("juror", juror), ("organiser", organiser)):
                _row, tokens[role] = await create_token(s, person, TokenRequest(role, None), utcnow(), via="test")
        return tokens
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def api_server(make_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    url = make_database_url("schema")
    tokens = asyncio.run(seed(url))
    data_dir: Path = tmp_path_factory.mktemp("schema-var")
    server = LiveServer.start(
        Settings(
            database_url=url,
            data_dir=data_dir,
            secret_key="schema-secret-key-0123456789abcdef",
            base_url="http://127.0.0.1:8000",
            api_requests_per_minute=1_000_000,  # schemathesis is no runaway script
        )
    )
    yield ApiServer(server, tokens)
    server.stop()


#: Path values that name the seeded award, so generated requests also reach real sheets and entries.
REAL = {"slug": "mini-award", "round_slug": "pre-selection", "ref": "E001"}


def signed_with(token: str) -> AuthStorage:
    """Schemathesis's auth for one person's token (so its auth checks know the credentials)."""

    class Bearer:
        def get(self, case: Any, ctx: Any) -> str:
            return token

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    storage = AuthStorage()
    storage.auth(refresh_interval=None)(Bearer)
    return storage


def strategies(operation: Any, auth: AuthStorage) -> list[tuple[str, Any]]:
    names = {p.name for p in operation.path_parameters}
    real = {k: v for k, v in REAL.items() if k in names}
    found = [
        ("generated", operation.as_strategy(GenerationMode.POSITIVE, auth_storage=auth)),
        ("invalid", operation.as_strategy(GenerationMode.NEGATIVE, auth_storage=auth)),
    ]
    if real:
        found.append(
            ("seeded", operation.as_strategy(GenerationMode.POSITIVE, auth_storage=auth, path_parameters=real))
        )
    return found


def test_api_answers_match_the_schema_and_never_fail(api_server: ApiServer) -> None:
    schema = schemathesis.openapi.from_url(f"{api_server.server.url}/api/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for role, token in api_server.tokens.items():
            for kind, strategy in strategies(operation, signed_with(token)):

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
                )
                def check(case: Any) -> None:
                    # "Schema-valid input is accepted" cannot hold for two inputs whose validity depends
                    # on stored data, which no schema can state: a cursor is opaque (only the `next` of
                    # an earlier page is one: a made-up one answers 400), and a sheet's scores must name
                    # the round's criteria and fit their scales (else 422 naming the field).
                    made_up_cursor = bool(case.query and case.query.get("cursor"))
                    data_dependent = made_up_cursor or case.method.upper() == "PUT"
                    excluded = [positive_data_acceptance] if data_dependent else []
                    case.call_and_validate(base_url=api_server.server.url, excluded_checks=excluded)

                try:
                    check()
                except Exception as exc:  # every operation is tried; the assertion below lists them all
                    failures.append(f"{operation.label} as {role} ({kind}): {str(exc)[:2000]}")
    assert operations >= 10
    assert failures == []
