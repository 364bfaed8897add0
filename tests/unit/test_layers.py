"""Imports only point down (DESIGN "Layers", docs/architecture.md).

Every module of the package is read (not imported) and every import form counts: ``import x``,
``from x import y`` (``y`` may be a module), relative imports (``from . import controllers``),
imports inside functions or under ``TYPE_CHECKING``, and ``import_module("...")`` with a literal
name. The rules:

- nothing but the web layer (``award_jury.web``), the controllers (``*controllers.py``) and the
  command line (``cli.py``) imports a controller or the web layer;
- models import only models and what lies below them (``db``, ``enums``, ``errors``, the pure cores);
- the pure cores (``ranking/compute.py``, ``judging/assign.py``, ``bundle/validate.py``,
  ``awards/branding.py``) reach neither SQLAlchemy nor Litestar, not even through our own modules;
- ``enums`` and ``errors`` import nothing of ours;
- controllers do no service work: no SQLAlchemy but the session type, no audit, no query or
  change through a session, and the settings and storage only as dependencies (never from
  ``app.state``, never a ``LocalStorage`` of their own).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from award_jury.settings import PACKAGE_DIR

PACKAGE = "award_jury"
ENTRY_POINTS = frozenset({"award_jury.cli"})
PURE_CORES = frozenset(
    {
        "award_jury.ranking.compute",
        "award_jury.judging.assign",
        "award_jury.bundle.validate",
        "award_jury.awards.branding",
        "award_jury.formats",
    }
)
BELOW_MODELS = frozenset({"award_jury.db", "award_jury.enums", "award_jury.errors"}) | PURE_CORES
LEAVES = frozenset({"award_jury.enums", "award_jury.errors"})
NO_WEB_STACK = ("sqlalchemy", "advanced_alchemy", "litestar", "alembic", "asyncpg", "aiosqlite")


@dataclass(frozen=True)
class Module:
    name: str
    source: str
    is_package: bool = False

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def package_modules(root: Path = PACKAGE_DIR) -> dict[str, Module]:
    """Every module of the package, read afresh (a new dict: the tests plant imports in it)."""
    return dict(_read_package(root))


@cache
def _read_package(root: Path) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        modules[name] = Module(name, path.read_text(encoding="utf-8"), is_package)
    return modules


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: Module, known: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Every module name ``module`` imports, absolute: ``from x import y`` gives ``x.y`` when that
    is one of the ``known`` modules, else ``x``."""
    return set(_imports_of(module, frozenset(known)))


@cache
def _imports_of(module: Module, known: frozenset[str]) -> frozenset[str]:
    # (cached: each test plants one import and checks the whole package again)
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & set(known)
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(base)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return frozenset(name for name in found if name)


def is_controller(name: str) -> bool:
    return any(part == "controllers" or part.endswith("_controllers") for part in name.split("."))


def is_web(name: str) -> bool:
    return name == f"{PACKAGE}.web" or name.startswith(f"{PACKAGE}.web.")


def is_model(name: str) -> bool:
    return name == f"{PACKAGE}.models" or name.endswith(".models")


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n == PACKAGE or n.startswith(f"{PACKAGE}.")}


def layer_violations(modules: dict[str, Module]) -> list[str]:
    known = set(modules)
    imports = {name: imports_of(module, known) for name, module in modules.items()}
    bad: list[str] = []
    for name, found in sorted(imports.items()):
        if not (is_web(name) or is_controller(name) or name in ENTRY_POINTS):
            upper = [i for i in sorted(found) if i.startswith(f"{PACKAGE}.") and (is_controller(i) or is_web(i))]
            bad += [f"{name} imports {i} (controllers and web sit above it)" for i in upper]
        if is_model(name):
            lower = [i for i in sorted(ours(found)) if i != PACKAGE and not (is_model(i) or i in BELOW_MODELS)]
            bad += [f"{name} imports {i} (models import only models, db, enums, errors, pure cores)" for i in lower]
        if name in LEAVES:
            bad += [f"{name} imports {i} (a leaf imports nothing of ours)" for i in sorted(ours(found))]
    for core in sorted(PURE_CORES & known):
        seen, todo = {core}, [core]
        while todo:
            current = todo.pop()
            for i in sorted(imports[current]):
                if i.split(".")[0] in NO_WEB_STACK:
                    via = "" if current == core else f" through {current}"
                    bad.append(f"{core} reaches {i}{via} (a pure core uses no database or web stack)")
                target = next((m for m in (i, i.rpartition(".")[0]) if m in known), None)
                if target and target not in seen:
                    seen.add(target)
                    todo.append(target)
    return bad


# ---------------------------------------------------------------- the package as it is


def test_package_follows_the_layers() -> None:
    modules = package_modules()

    assert len(modules) > 50  # the walk found the package
    assert layer_violations(modules) == []


# ---------------------------------------------------------------- the checker catches what it must


def planted(name: str, extra: str) -> dict[str, Module]:
    modules = package_modules()
    module = modules[name]
    modules[name] = Module(name, module.source + "\n" + extra + "\n", module.is_package)
    return modules


def test_checker_catches_controller_import_planted_in_accounts_services() -> None:
    modules = planted("award_jury.accounts.services", "from award_jury.accounts import controllers")

    assert layer_violations(modules) == [
        "award_jury.accounts.services imports award_jury.accounts.controllers (controllers and web sit above it)"
    ]


@pytest.mark.parametrize(
    ("extra", "imported"),
    [
        ("import award_jury.accounts.controllers", "award_jury.accounts.controllers"),
        ("import award_jury.accounts.controllers as c", "award_jury.accounts.controllers"),
        ("from award_jury.accounts.controllers import AccountController", "award_jury.accounts.controllers"),
        ("from award_jury.accounts import controllers", "award_jury.accounts.controllers"),
        ("from award_jury.accounts import people_controllers", "award_jury.accounts.people_controllers"),
        ("from . import controllers", "award_jury.accounts.controllers"),
        ("from .controllers import AccountController", "award_jury.accounts.controllers"),
        ("from ..judging import scoring_controllers", "award_jury.judging.scoring_controllers"),
        ("from ..web.app import create_app", "award_jury.web.app"),
        ("from award_jury import web", "award_jury.web"),
        ("def later():\n    from award_jury.web import templating", "award_jury.web.templating"),
        ("if TYPE_CHECKING:\n    from award_jury.web.deps import Deps", "award_jury.web.deps"),
        ("import importlib\nimportlib.import_module('award_jury.web.app')", "award_jury.web.app"),
    ],
)
def test_checker_catches_every_import_form(extra: str, imported: str) -> None:
    modules = planted("award_jury.accounts.services", extra)

    assert layer_violations(modules) == [
        f"award_jury.accounts.services imports {imported} (controllers and web sit above it)"
    ]


def test_checker_catches_a_model_importing_a_service() -> None:
    modules = planted("award_jury.judging.models", "from award_jury.judging import sheets")

    assert layer_violations(modules) == [
        "award_jury.judging.models imports award_jury.judging.sheets "
        "(models import only models, db, enums, errors, pure cores)"
    ]


@pytest.mark.parametrize(
    ("core", "extra", "reached"),
    [
        ("award_jury.ranking.compute", "import sqlalchemy as sa", "sqlalchemy"),
        ("award_jury.judging.assign", "from litestar import Request", "litestar"),
        ("award_jury.bundle.validate", "def f():\n    from sqlalchemy.orm import Session", "sqlalchemy.orm"),
    ],
)
def test_checker_catches_a_pure_core_using_the_stack(core: str, extra: str, reached: str) -> None:
    modules = planted(core, extra)

    assert layer_violations(modules) == [f"{core} reaches {reached} (a pure core uses no database or web stack)"]


def test_checker_catches_a_pure_core_reaching_the_database_through_our_models() -> None:
    modules = planted("award_jury.ranking.compute", "from award_jury.awards.models import Round")

    found = layer_violations(modules)

    assert found
    assert all(line.startswith("award_jury.ranking.compute reaches ") for line in found)
    assert any("through award_jury.awards.models" in line or "through award_jury.db" in line for line in found)


def test_checker_catches_a_leaf_importing_our_modules() -> None:
    modules = planted("award_jury.errors", "from award_jury import settings")

    assert layer_violations(modules) == [
        "award_jury.errors imports award_jury.settings (a leaf imports nothing of ours)"
    ]


# ---------------------------------------------------------------- controllers stay thin

#: What a controller calls on a database session itself (it asks a service instead).
SESSION_WORK = frozenset({"execute", "scalar", "scalars", "add", "add_all", "delete", "merge"})


def controller_work(modules: dict[str, Module]) -> list[str]:
    """Service work found in controller modules (``web/`` is the stack's own plumbing, not checked)."""
    known = set(modules)
    bad: list[str] = []
    for name, module in sorted(modules.items()):
        if not is_controller(name) or is_web(name):
            continue
        for i in sorted(imports_of(module, known)):
            if (i.split(".")[0] == "sqlalchemy" and not i.startswith("sqlalchemy.ext.asyncio")) or i.startswith(
                f"{PACKAGE}.audit"
            ):
                bad.append(f"{name} imports {i} (SQL and audit belong in a service)")
        for node in ast.walk(ast.parse(module.source)):
            if not isinstance(node, (ast.Call, ast.Attribute)):
                continue
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr in SESSION_WORK:
                owner = func.value
                if isinstance(owner, ast.Name) and owner.id.endswith("session"):
                    bad.append(f"{name} line {node.lineno}: {owner.id}.{func.attr}() (a service does that)")
            if isinstance(func, ast.Name) and func.id in ("record_event", "LocalStorage"):
                bad.append(f"{name} line {node.lineno}: {func.id}() (a service or a dependency does that)")
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("settings", "storage", "mailer")
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "state"
            ):
                bad.append(f"{name} line {node.lineno}: state.{node.attr} (take the {node.attr} dependency)")
    return bad


def test_controllers_do_no_service_work() -> None:
    assert controller_work(package_modules()) == []


@pytest.mark.parametrize(
    ("extra", "found"),
    [
        ("import sqlalchemy as sa", "imports sqlalchemy (SQL and audit belong in a service)"),
        ("from sqlalchemy import select", "imports sqlalchemy (SQL and audit belong in a service)"),
        (
            "from award_jury.audit.services import record_event",
            "imports award_jury.audit.services (SQL and audit belong in a service)",
        ),
        ("async def f(db_session):\n    await db_session.execute(q)", "db_session.execute() (a service does that)"),
        ("def f(session):\n    session.add(x)", "session.add() (a service does that)"),
        ("def f(s):\n    record_event(s, 'x')", "record_event() (a service or a dependency does that)"),
        ("def f(p):\n    return LocalStorage(p)", "LocalStorage() (a service or a dependency does that)"),
        ("def f(request):\n    return request.app.state.settings", "state.settings (take the settings dependency)"),
    ],
)
def test_checker_catches_service_work_planted_in_a_controller(extra: str, found: str) -> None:
    modules = planted("award_jury.judging.round_controllers", extra)

    problems = controller_work(modules)

    assert len(problems) == 1
    assert problems[0].startswith("award_jury.judging.round_controllers ")
    assert problems[0].endswith(found)
