"""The results document (SPEC §3) as CSV and XLSX: the same rows in the same order, with every
text cell that a spreadsheet could read as a formula neutralised."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

COLUMNS = (
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
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text starting with = + - @ tab or CR is prefixed with ' (a spreadsheet then shows it as text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(doc: dict[str, Any]) -> list[list[Any]]:
    """One row per entry, categories in the document's order, entries in its order."""
    out = []
    for category in doc["categories"]:
        for entry in category["entries"]:
            out.append(
                [
                    neutralise(category["category"]),
                    category["prizes"],
                    entry["rank"],
                    neutralise(entry["ref"]),
                    neutralise(entry["startup"]),
                    entry["score"],
                    entry["sheets"],
                    entry["tied"],
                    entry["winner"],
                    entry["decision_needed"],
                    entry["status"],
                ]
            )
    return out


def to_csv(doc: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(doc):
        writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row])
    return buffer.getvalue()


def write_xlsx(doc: dict[str, Any], path: Path) -> None:
    import xlsxwriter

    tmp = path.with_name(f".{path.name}.tmp")
    # strings_to_formulas=False: no cell is ever written as a formula, whatever it holds.
    workbook = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(f"{doc['round']}"[:31] or "results")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, COLUMNS, bold)
    for r, row in enumerate(rows(doc), start=1):
        for c, value in enumerate(row):
            if value is None:
                sheet.write_blank(r, c, None)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    tmp.replace(path)
