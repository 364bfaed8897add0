"""App URLs come from named routes only (``award_jury/urls.py``): every route has a stable name
that reverses to a path the router sends back to the same handler, and no Python module, template
or script writes an app path by hand (static assets excepted)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from award_jury import urls
from award_jury.settings import PACKAGE_DIR, Settings
from award_jury.web.app import create_app

ROOT = PACKAGE_DIR.parent.parent
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")  # area.page (api.v1.awards too)
SAMPLES: dict[str, Any] = {"str": "sample-1", "int": 7, "path": "/css/site.css"}

#: (module, literal) pairs that look like app paths but build no link; none today.
PYTHON_ALLOWED: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    folder = tmp_path_factory.mktemp("urls")
    return create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{folder / 'unused.db'}",
            data_dir=folder,
            secret_key="test-secret-key-0123456789abcdef",
            base_url="https://awards.example.org/",
        )
    )


def named_handlers(app: Litestar) -> list[tuple[str, Any, str]]:
    """(name, handler, path) of every route handler but Litestar's automatic OPTIONS answers."""
    return [
        (handler.name, handler, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "OPTIONS" not in handler.http_methods
    ]


def first_segments(app: Litestar) -> set[str]:
    """``awards``, ``entries``, ``signin``, …: the first part of every app path but the static files'."""
    return {path.split("/")[1] for _n, _h, path in named_handlers(app) if path != "/"} - {"static"}


def test_every_route_has_a_stable_dotted_name(app: Litestar) -> None:
    unnamed = [f"{sorted(h.http_methods)} {path}" for name, h, path in named_handlers(app) if not name]
    assert unnamed == [], "give every route handler name='<area>.<page>'"
    odd = [name for name, _h, path in named_handlers(app) if not path.startswith("/static") and not NAME.match(name)]
    assert odd == []


def test_every_named_route_reverses_to_a_path_that_routes_back_to_it(app: Litestar) -> None:
    checked = 0
    for name, handler, path in named_handlers(app):
        types = dict(re.findall(r"\{(\w+):(\w+)\}", path))
        params = {key: SAMPLES[kind] for key, kind in types.items()}
        reversed_path = app.route_reverse(name, **params)
        method = sorted(handler.http_methods)[0]
        # Litestar's own router (what a request goes through) resolves the path again
        _asgi, found, _path, found_params, *_ = app.asgi_router.handle_routing(reversed_path, method)
        assert found.name == name, f"{name}: {reversed_path} routes to {found.name}"
        assert {key: found_params[key] for key in params} == params, name
        checked += 1
    assert checked > 100


def test_url_for_is_the_route_table_with_query_and_anchor(app: Litestar) -> None:
    assert urls.url_for("entries.detail", entry_id=7) == app.route_reverse("entries.detail", entry_id=7)
    assert urls.url_for("entries.detail", entry_id=7, query={"done": "added", "x": None}, anchor="people") == (
        "/entries/7?done=added#people"
    )
    assert urls.url_for("signin.form", query={"next": "/awards/a b/jury"}) == "/signin?next=%2Fawards%2Fa+b%2Fjury"
    # text in a path is percent-encoded, so a ref or slug can never leave its segment
    assert (
        urls.url_for("jury.sheet", slug="a", round_slug="b", ref="E/1 x") == "/awards/a/rounds/b/jury/entries/E%2F1%20x"
    )
    assert urls.absolute_url("https://awards.example.org/", "verify.code", code="AB-12") == (
        "https://awards.example.org/verify/AB-12"
    )


def test_a_wrong_name_or_parameter_fails_loudly(app: Litestar) -> None:
    from litestar.exceptions import NoRouteMatchFoundException

    with pytest.raises(NoRouteMatchFoundException):
        urls.url_for("entries.nope", entry_id=7)
    with pytest.raises(NoRouteMatchFoundException):
        urls.url_for("entries.detail", entry_id="seven")  # an int parameter


def test_templates_use_the_same_url_for(app: Litestar) -> None:
    env = app.state.jinja_env
    assert env.globals["url_for"] is urls.url_for
    text = env.from_string('{{ url_for("rounds.detail", slug="a", round_slug="b", anchor="criteria") }}').render()
    assert text == "/awards/a/rounds/b#criteria"


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else "{"
    return None


def _route_declarations(tree: ast.AST) -> set[int]:
    """ids of the nodes that declare routes: decorator arguments and controllers' ``path = "…"``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                skip.update(id(n) for n in ast.walk(decorator))
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "path" for t in statement.targets
                ):
                    skip.update(id(n) for n in ast.walk(statement.value))
    return skip


def hand_built_python_urls(app_segments: set[str], root: Path = PACKAGE_DIR) -> list[str]:
    app_path = re.compile(rf"^/(?:(?:{'|'.join(map(re.escape, sorted(app_segments)))})(?:[/?#.]|$)|[?#])")
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(["award_jury", *path.relative_to(root).with_suffix("").parts])
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _route_declarations(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # judged as a whole, by its opening text
                skip.update(id(part) for part in node.values)
            if id(node) in skip:
                continue
            text = _literal_text(node)
            if text and app_path.match(text) and (module, text) not in PYTHON_ALLOWED:
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {text!r}")  # type: ignore[attr-defined]
    return found


def template_pattern(app_segments: set[str]) -> re.Pattern[str]:
    segments = "|".join(map(re.escape, sorted(app_segments)))
    return re.compile(rf"""(?:["'=(`]|~\s*)/(?:{segments})\b|["'`]/["'`?#]""")


def hand_built_template_urls(app_segments: set[str]) -> list[str]:
    """Paths written into templates and scripts: quoted, in an attribute, or after ``~``/``=``."""
    pattern = template_pattern(app_segments)
    found = []
    files = [*(ROOT / "templates").rglob("*"), *(ROOT / "static" / "js").rglob("*.js")]
    for path in sorted(p for p in files if p.is_file() and p.suffix in (".html", ".txt", ".subject", ".js", ".css")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in pattern.finditer(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line[match.start() : match.start() + 40]!r}")
    return found


def test_no_hand_built_app_urls_in_python(app: Litestar) -> None:
    assert hand_built_python_urls(first_segments(app)) == [], "build app URLs with urls.url_for / absolute_url"


def test_no_hand_built_app_urls_in_templates_or_scripts(app: Litestar) -> None:
    assert hand_built_template_urls(first_segments(app)) == [], 'use {{ url_for("area.page", ...) }}'


def test_the_checks_catch_what_they_are_for(app: Litestar, tmp_path: Path) -> None:
    """The two greps are not vacuous: planted hand-built URLs are found."""
    segments = first_segments(app)
    assert {"awards", "entries", "account", "signin", "verify"} <= segments
    planted = tmp_path / "award_jury_like"
    planted.mkdir()
    (planted / "x.py").write_text(
        'def f(award, e):\n    a = f"/awards/{award.slug}/setup"\n    b = "/account?saved=1"\n'
        '    c = "/?signed_out=1"\n    d = "/static/css/site.css"\n    return a, b, c, d\n'
    )
    assert [line.rsplit(": ", 1)[1] for line in hand_built_python_urls(segments, planted)] == [
        "'/awards/'",
        "'/account?saved=1'",
        "'/?signed_out=1'",
    ]
    pattern = template_pattern(segments)
    for line in (
        '<a href="/entries/{{ e.id }}">',
        '<a href="/">',
        'url="/awards/" ~ award.slug',
        "fetch('/verify?c=1')",
    ):
        assert pattern.search(line), line
    for line in (
        '<script src="/static/js/session.js">',
        '<a href="{{ url_for("site.home") }}">',
        "s.replace(/'/g, '')",
    ):
        assert not pattern.search(line), line


def test_urls_module_stands_below_services() -> None:
    """Services (mails, certificates) use ``urls``, so it imports nothing of ours or of the web stack."""
    tree = ast.parse((PACKAGE_DIR / "urls.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert imported <= {"__future__", "collections.abc", "typing", "urllib.parse"}


def test_where_no_app_serves_install_urls_gives_the_same_table(
    app: Litestar, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The CLI (certificates' verification links) builds links without a running app."""
    from award_jury.web.app import install_urls

    monkeypatch.setattr(urls, "_reverse", None)
    with pytest.raises(RuntimeError, match="no route table"):
        urls.url_for("verify.form")
    install_urls(app.state.settings)
    assert urls.absolute_url("https://x.example", "verify.code", code="C-1") == "https://x.example/verify/C-1"
