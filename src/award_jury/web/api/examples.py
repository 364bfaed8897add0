"""Examples shown in the OpenAPI schema and on /api/docs."""

from __future__ import annotations

from litestar.openapi.spec import Example
from litestar.params import Body

SHEET_WRITE = Body(
    title="A sheet's change",
    examples=[
        Example(
            summary="Save a draft",
            value={
                "version": 3,
                "scores": {"innovation": 8, "impact": 6.5},
                "comment": "Clear plan.",
                "action": "save",
            },
        ),
        Example(
            summary="Submit the sheet",
            value={
                "version": 4,
                "scores": {"innovation": 8, "impact": 7},
                "comment": "Clear plan.",
                "action": "submit",
            },
        ),
    ],
)
