"""Imports only point down (DESIGN "Layers"): models never import services or controllers,
services never import controllers or the web layer, nothing but web/app imports controllers."""

from __future__ import annotations

import ast
from pathlib import Path

from award_jury.settings import PACKAGE_DIR


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("award_jury")}


def violations(file_glob: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted(PACKAGE_DIR.rglob(file_glob)):
        for name in imports_of(path):
            leaf = name.rsplit(".", 1)[-1]
            if leaf in forbidden or any(name.startswith(f"award_jury.{f}") for f in forbidden if f == "web"):
                bad.append(f"{path.relative_to(PACKAGE_DIR)} imports {name}")
    return bad


def test_models_import_no_services_or_controllers() -> None:
    assert violations("models.py", ("services", "controllers", "web")) == []


def test_services_import_no_controllers_or_web() -> None:
    assert violations("services.py", ("controllers", "web")) == []


def test_leaf_modules_import_nothing_of_ours_above_them() -> None:
    for leaf in ("enums.py", "errors.py"):
        assert imports_of(PACKAGE_DIR / leaf) == set(), leaf


def test_pure_modules_use_no_database_or_web() -> None:
    pure = [PACKAGE_DIR / "bundle" / "validate.py", PACKAGE_DIR / "awards" / "branding.py"]
    compute = PACKAGE_DIR / "ranking" / "compute.py"
    if compute.exists():
        pure.append(compute)
    for path in pure:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [node])  # type: ignore[list-item]
        }
        assert not {m for m in modules if m.startswith(("sqlalchemy", "litestar", "award_jury.db"))}, path
