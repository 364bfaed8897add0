"""The HTTP API (SPEC §5): ``/api/v1`` for integrations, its OpenAPI schema at ``/api/openapi.json``
and readable docs at ``/api/docs``. See docs/architecture.md, "How to add an API route"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request, Router
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, Schema, SecurityScheme, Tag
from litestar.typing import FieldDefinition

from award_jury.settings import Settings
from award_jury.web.api.auth import load_api_viewer
from award_jury.web.api.controllers import AwardsApi, EntriesApi, ResultsApi, SheetsApi, VerifyApi
from award_jury.web.api.docs import ApiDocsController
from award_jury.web.api.problems import api_exception_handler, handled_exceptions

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

API_VERSION = "1.0.0"


def provide_settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def api_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[AwardsApi, ResultsApi, SheetsApi, EntriesApi, VerifyApi],
        before_request=load_api_viewer,
        dependencies={"settings": Provide(provide_settings, sync_to_thread=False)},
        exception_handlers=dict.fromkeys(handled_exceptions(), api_exception_handler),
        include_in_schema=True,  # (the pages are not in the schema: the app says False)
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="award_jury API",
        version=API_VERSION,
        description=(
            "A JSON API for integrations (websites, CRMs, scripts), alongside the pages. Authenticate with a "
            "personal token from your account page or `award-jury api-token create`: "
            "`Authorization: Bearer awj_…`. A token can do exactly what its person can do in the pages; "
            "calls without a token reach only public data. Errors are problem details "
            "(`application/problem+json`, RFC 9457). Lists are paginated: `limit` (at most 200) and the "
            "opaque `cursor` from the previous page's `next`."
        ),
        openapi_controller=ApiDocsController,  # type: ignore[arg-type]  # our named routes instead of Litestar's
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="A personal API token")
            }
        ),
        tags=[
            Tag(name="awards", description="Awards, their entries"),
            Tag(name="entries", description="Entries and their certificates"),
            Tag(name="sheets", description="A juror's score sheets"),
            Tag(name="results", description="Rankings (SPEC §3)"),
            Tag(name="certificates", description="Verifying certificates"),
        ],
        use_handler_docstrings=False,
        create_examples=False,
    )


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Request bodies refuse unknown fields (``forbid_unknown_fields``); the schema says so
    (``additionalProperties: false``), which Litestar's own Struct plugin leaves out."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            getattr(msgspec.inspect.type_info(field_definition.type_), "forbid_unknown_fields", False)
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
