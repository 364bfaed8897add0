"""Errors of the API as problem details (RFC 9457, ``application/problem+json``): ``status``,
``title``, ``detail`` and, for invalid input, ``errors: [{field, message}]``; a stale write also
carries ``current`` (the stored state). Never a 5xx for anything a client sends."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from award_jury.errors import (
    ConflictError,
    DomainError,
    FormError,
    NotAuthorizedError,
    NotFoundError,
    RateLimitedError,
    SignInRequiredError,
    StorageFullError,
)
from award_jury.judging.sheets import SheetReadOnlyError, SheetSubmittedError, StaleSheetError
from award_jury.web.api import schemas

log = logging.getLogger("award_jury.api")

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"

Req = Request[Any, Any, Any]


class ApiProblem(Exception):
    """Answer with this problem (raised by the API's own checks)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[schemas.FieldError] | None = None,
        headers: dict[str, str] | None = None,
        current: Any = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers, self.current = status, detail, errors, headers, current


def bad_input(field: str, message: str, *, status: int = 400) -> ApiProblem:
    return ApiProblem(status, "The request is not valid.", errors=[schemas.FieldError(field=field, message=message)])


def is_api(request: Req) -> bool:
    return request.url.path.startswith(API_PREFIX)


def problem_response(
    status: int,
    detail: str = "",
    *,
    errors: list[schemas.FieldError] | None = None,
    headers: dict[str, str] | None = None,
    current: Any = None,
) -> Response[bytes]:
    body = schemas.Problem(
        status=status,
        title=HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        detail=detail,
        errors=errors,
        current=current,
    )
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


UNAUTHORIZED_HEADERS = {"www-authenticate": 'Bearer realm="award_jury"'}


def problem_for(exc: Exception) -> Response[bytes]:
    """The problem for any exception an API request can meet."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers, current=exc.current)
    if isinstance(exc, SignInRequiredError):
        return problem_response(401, "This needs a personal API token.", headers=UNAUTHORIZED_HEADERS)
    if isinstance(exc, NotAuthorizedError):
        return problem_response(403, "Your token's person may not do this.")
    if isinstance(exc, NotFoundError):
        return problem_response(404, "Not found, or not yours to see.")
    if isinstance(exc, FormError):
        return problem_response(422, "The input is not valid.", errors=form_errors(exc.errors))
    if isinstance(exc, StaleSheetError):
        from award_jury.web.api.views import sheet_state

        detail = "The sheet was changed since the version you sent; here is the stored state."
        return problem_response(409, detail, current=sheet_state(exc.current))
    if isinstance(exc, SheetReadOnlyError):
        return problem_response(409, f"The sheet cannot be changed ({exc.reason}).")
    if isinstance(exc, SheetSubmittedError):
        return problem_response(409, "The sheet is submitted: send action 'submit' (or 'reopen') to change it.")
    if isinstance(exc, ConflictError):
        return problem_response(409, str(exc))
    if isinstance(exc, RateLimitedError):
        return problem_response(
            429, "Too many requests with this token.", headers={"retry-after": str(exc.retry_after_seconds)}
        )
    if isinstance(exc, ValidationException):
        return problem_response(400, "The request is not valid.", errors=validation_errors(exc))
    if isinstance(exc, HTTPException):
        detail = "" if exc.status_code >= 500 else str(exc.detail)
        # a body that is no JSON at all (Litestar's decoding refused it): name the body
        errors = [schemas.FieldError(field="body", message=detail)] if exc.status_code == 400 else None
        return problem_response(exc.status_code, detail, errors=errors, headers=dict(exc.headers or {}))
    if isinstance(exc, StorageFullError):
        return problem_response(507, "The file storage is full; nothing was saved.")
    if isinstance(exc, DomainError):  # any other rule of the domain that refuses the request
        return problem_response(409, str(exc))
    if isinstance(exc, sa.exc.DBAPIError):
        from award_jury.web.errors import BUSY_RETRY_AFTER, is_lock_contention

        if is_lock_contention(exc):
            return problem_response(503, "The database is busy.", headers={"retry-after": str(BUSY_RETRY_AFTER)})
    log.error("unhandled API error", exc_info=exc)
    return problem_response(500, "")


def form_errors(errors: dict[str, str]) -> list[schemas.FieldError]:
    """A service's form errors (``score-<key>``) as the API's fields (``scores.<key>``)."""
    return [
        schemas.FieldError(field=f"scores.{name[6:]}" if name.startswith("score-") else name, message=message)
        for name, message in errors.items()
    ]


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def validation_errors(exc: ValidationException) -> list[schemas.FieldError]:
    found = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            key = str(item.get("key") or item.get("source") or "body")
            if key == "data":  # the body as a whole (Litestar's name for it)
                unknown = _UNKNOWN_FIELD.search(message)
                key = unknown.group(1) if unknown else "body"
            found.append(schemas.FieldError(field=key, message=message))
    return found or [schemas.FieldError(field="body", message=str(exc.detail))]


def api_exception_handler(request: Req, exc: Exception) -> Response[bytes]:
    return problem_for(exc)


def handled_exceptions() -> list[type[Exception]]:
    """Every exception class the app's own handlers know (the closest match wins, so the API names
    them all) and the API's: all answered as problems."""
    from litestar.exceptions import NotFoundException

    return [
        ApiProblem,
        DomainError,
        NotFoundError,
        NotAuthorizedError,
        SignInRequiredError,
        StorageFullError,
        RateLimitedError,
        FormError,
        ConflictError,
        NotFoundException,
        ValidationException,
        HTTPException,
        sa.exc.DBAPIError,
        Exception,
    ]
