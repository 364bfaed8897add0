"""``/api/docs``: the API's reference as a server-rendered page, made from the OpenAPI schema.

Litestar's bundled viewers (Swagger UI, ReDoc, Scalar, …) load their scripts from CDNs and use
inline scripts, which the strict CSP forbids; this page needs neither and works without JavaScript."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Template

METHODS = ("get", "put", "post", "patch", "delete")


def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found = doc.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
        return found if isinstance(found, dict) else {}
    return schema


def number(value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def type_text(schema: dict[str, Any]) -> str:
    """A short human type: ``string``, ``integer (1–200)``, ``SheetOut``, ``string | null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if len(schema.get("allOf", [])) == 1:
        return type_text(schema["allOf"][0])
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(type_text(s) for s in schema.get("oneOf", schema.get("anyOf", [])))
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if "enum" in schema:
        text += " (" + ", ".join(str(v) for v in schema["enum"]) + ")"
    if "minimum" in schema or "maximum" in schema:
        text += f" ({number(schema.get('minimum'))}–{number(schema.get('maximum'))})"
    return text


def response_type(response: dict[str, Any]) -> str:
    content: dict[str, Any] = response.get("content") or {}
    for media in content.values():
        return type_text(media.get("schema") or {})
    return ""


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            body_schema = body.get("schema", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "parameters": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "required": p.get("required", False),
                            "type": type_text(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": type_text(body_schema) if body_schema else "",
                    "examples": [json.dumps(e, indent=2, ensure_ascii=False) for e in body_schema.get("examples", [])],
                    "responses": [
                        (
                            code,
                            r.get("description", ""),
                            response_type(r),
                        )
                        for code, r in sorted(op.get("responses", {}).items())
                    ],
                }
            )
    return sorted(found, key=lambda op: (op["path"], METHODS.index(op["method"].lower())))


def schema_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        found.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "fields": [(key, type_text(value), key in required) for key, value in props.items()],
            }
        )
    return found


class ApiDocsController(Controller):
    """The schema and its readable page. It stands in for Litestar's own OpenAPI router (given as the
    config's ``openapi_controller``), whose unnamed catch-all routes under ``/api`` would escape the
    route names (``urls.py``) and answer HTML 404s inside the API's path."""

    include_in_schema = False

    @get("/api/openapi.json", name="api.schema", media_type="application/vnd.oai.openapi+json")
    async def schema(self, request: Request[Any, Any, Any]) -> bytes:
        return msgspec.json.encode(request.app.openapi_schema.to_schema())

    @get("/api/docs", name="api.docs")
    async def docs(self, request: Request[Any, Any, Any]) -> Template:
        doc = request.app.openapi_schema.to_schema()
        return Template(
            "api/docs.html",
            context={
                "info": doc.get("info", {}),
                "operations": operations(doc),
                "schemas": schema_list(doc),
                "base_url": request.app.state.settings.base_url,
            },
        )
