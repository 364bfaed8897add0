"""`award-jury results` (SPEC §1, §3): JSON, CSV and XLSX carry the engine's rows, in order,
safe against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from award_jury.ranking.compute import (
    CategorySpec,
    CriterionSpec,
    EntryRow,
    SheetRow,
    rank_round,
    results_document,
)
from tests.support.cli import cli_env, run_cli
from tests.support.factories import demo_bundle

METHODS = ("mean", "median", "trimmed", "zscore")
EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    return cli_env(make_database_url("res", migrated=True), tmp_path / "var")


def bundle_with_evil_name(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    doc = demo_bundle()
    doc["entries"][0]["startup"]["name"] = EVIL
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path, doc


def engine_document(doc: dict[str, Any], method: str) -> dict[str, Any]:
    """What the pure engine says, computed here straight from the bundle."""
    rnd = doc["award"]["rounds"][0]
    criteria = [
        CriterionSpec(key=c["key"], weight=c["weight"], min=c["min"], max=c["max"], position=i)
        for i, c in enumerate(rnd["criteria"])
    ]
    entries = [
        EntryRow(ref=e["ref"], category=e["category"], startup=e["startup"]["name"])
        for e in doc["entries"]
        if e["status"] == "submitted" and rnd["slug"] in e["rounds"]
    ]
    sheets = [
        SheetRow(juror=s["juror"], entry=s["entry"], scores=s["scores"])
        for s in doc["sheets"]
        if s["status"] == "submitted" and s["round"] == rnd["slug"]
    ]
    categories = [CategorySpec(slug=c["slug"], prizes=c["prizes"]) for c in doc["award"]["categories"]]
    results = rank_round(criteria, categories, entries, sheets, method, rnd["min_sheets"])
    return results_document(doc["award"]["slug"], rnd["slug"], method, results)


def test_results_in_every_format_match_the_engine_for_every_method(env: dict[str, str], tmp_path: Path) -> None:
    path, doc = bundle_with_evil_name(tmp_path)
    assert run_cli(env, "import", str(path)).exit_code == 0
    slug = doc["award"]["slug"]
    for method in METHODS:
        expected = engine_document(doc, method)
        as_json = run_cli(env, "results", slug, "--round", "vorauswahl", "--method", method)
        assert as_json.exit_code == 0, as_json.output
        assert json.loads(as_json.stdout) == expected

        expected_rows = [
            [
                c["category"],
                c["prizes"],
                e["rank"],
                e["ref"],
                e["startup"],
                e["score"],
                e["sheets"],
                e["tied"],
                e["winner"],
                e["decision_needed"],
                e["status"],
            ]
            for c in expected["categories"]
            for e in c["entries"]
        ]
        as_csv = run_cli(env, "results", slug, "--round", "vorauswahl", "--method", method, "--format", "csv")
        table = list(csv.reader(io.StringIO(as_csv.stdout)))
        assert table[0] == [
            "category",
            "prizes",
            "rank",
            "ref",
            "startup",
            "score",
            "sheets",
            "tied",
            "winner",
            "decision_needed",
            "status",
        ]
        assert [row[3] for row in table[1:]] == [row[3] for row in expected_rows]
        assert [float(row[5]) if row[5] else None for row in table[1:]] == [row[5] for row in expected_rows]

        out = tmp_path / f"{method}.xlsx"
        assert (
            run_cli(
                env, "results", slug, "--round", "vorauswahl", "--method", method, "--format", "xlsx", "--out", str(out)
            ).exit_code
            == 0
        )
        sheet = openpyxl.load_workbook(out).active
        values = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert [r[3] for r in values] == [row[3] for row in expected_rows]
        assert [r[5] for r in values] == [row[5] for row in expected_rows]
        assert [r[7:10] for r in values] == [row[7:10] for row in expected_rows]


def test_formula_like_names_are_neutralised_in_csv_and_xlsx(env: dict[str, str], tmp_path: Path) -> None:
    path, doc = bundle_with_evil_name(tmp_path)
    run_cli(env, "import", str(path))
    slug = doc["award"]["slug"]
    as_json = json.loads(run_cli(env, "results", slug, "--round", "vorauswahl").stdout)
    assert EVIL in [e["startup"] for c in as_json["categories"] for e in c["entries"]]  # JSON keeps it as it is
    as_csv = run_cli(env, "results", slug, "--round", "vorauswahl", "--format", "csv").stdout
    cells = [cell for row in csv.reader(io.StringIO(as_csv)) for cell in row]
    assert f"'{EVIL}" in cells
    assert EVIL not in cells
    out = tmp_path / "r.xlsx"
    run_cli(env, "results", slug, "--round", "vorauswahl", "--format", "xlsx", "--out", str(out))
    sheet = openpyxl.load_workbook(out).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert [(c.value, c.data_type) for c in cells] == [(f"'{EVIL}", "s")]


def test_category_filter_and_default_round(env: dict[str, str], tmp_path: Path) -> None:
    path, doc = bundle_with_evil_name(tmp_path)
    run_cli(env, "import", str(path))
    slug = doc["award"]["slug"]
    only = json.loads(run_cli(env, "results", slug, "--round", "vorauswahl", "--category", "govtech").stdout)
    assert [c["category"] for c in only["categories"]] == ["govtech"]
    last = json.loads(run_cli(env, "results", slug).stdout)  # the award's last round: the final, nobody in it yet
    assert (last["round"], [c["entries"] for c in last["categories"]]) == ("finale", [[], []])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("results", "no-such-award"), "there is no award with the slug 'no-such-award'"),
        (("results", "smart-country-startup-award-2026", "--round", "x"), "has no round 'x'"),
        (("results", "smart-country-startup-award-2026", "--category", "x"), "has no category 'x'"),
        (("results", "smart-country-startup-award-2026", "--format", "xlsx"), "--format xlsx needs --out PATH"),
    ],
)
def test_results_user_errors_are_one_line(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    path, _doc = bundle_with_evil_name(tmp_path)
    run_cli(env, "import", str(path))
    result = run_cli(env, *args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr
