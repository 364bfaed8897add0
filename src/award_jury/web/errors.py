"""Error pages: 403, 404, 500 and the rest as friendly pages in the visitor's language,
JSON for API-ish requests, and never a stack trace."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from award_jury.errors import NotFoundError, TwoFactorRequiredError
from award_jury.i18n import current_locale
from award_jury.urls import url_for
from award_jury.web.api.problems import is_api, problem_response
from award_jury.web.bodies import BodyTooLargeError
from award_jury.web.middleware import locale_for

log = logging.getLogger("award_jury.web")

KNOWN_PAGES = {400, 401, 403, 404, 405, 408, 409, 413, 429, 500, 503, 507}

#: Seconds a client is asked to wait after the database was too busy to answer.
BUSY_RETRY_AFTER = 2


def _wants_json(request: Request) -> bool:  # type: ignore[type-arg]
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request,  # type: ignore[type-arg]
    status: int,
    detail: str = "",
    *,
    takes_file: bool = True,
) -> Response:  # type: ignore[type-arg]
    # The router answers unknown paths before any middleware runs: pick the language here too.
    current_locale.set(locale_for(request))
    if is_api(request):  # what reaches the app's handlers from under /api/ (unknown paths, 405, 413)
        return problem_response(status, detail)
    if _wants_json(request):
        return Response({"status_code": status, "detail": detail}, status_code=status, media_type=MediaType.JSON)
    template = f"errors/{status if status in KNOWN_PAGES else 'generic'}.html"
    context: dict[str, object] = {"status": status}
    if status == 403:  # a form sent with a stale or missing token is no question of rights
        context["csrf"] = "CSRF" in detail
    if status == 503:
        context["storage"] = detail == "Storage unavailable"
    if status == 413:  # say how much is accepted (a file, or a form's text), and where to go back to
        settings = request.app.state.settings
        context["takes_file"] = takes_file
        context["limit"] = settings.max_upload_bytes if takes_file else settings.max_form_bytes
        path = request.url.path
        context["back"] = path if request.method == "POST" and path.endswith("/edit") else ""
    return Template(template, context=context, status_code=status)


def http_exception_handler(request: Request, exc: HTTPException) -> Response:  # type: ignore[type-arg]
    takes_file = exc.rule.takes_file if isinstance(exc, BodyTooLargeError) else True
    response = error_response(
        request, exc.status_code, "" if exc.status_code >= 500 else str(exc.detail), takes_file=takes_file
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def not_found_handler(request: Request, exc: NotFoundError | NotFoundException) -> Response:  # type: ignore[type-arg]
    return error_response(request, 404, "Not Found")


def forbidden_handler(request: Request, exc: Exception) -> Response:  # type: ignore[type-arg]
    return error_response(request, 403, "Forbidden")


def sign_in_required_handler(request: Request, exc: Exception) -> Response:  # type: ignore[type-arg]
    """Anonymous visitors of a page that needs a person go to the sign-in page and come back."""
    if _wants_json(request) or request.method not in ("GET", "HEAD"):
        return error_response(request, 401, "Sign-in required")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(url_for("signin.form", query={"next": target}), status_code=303)


def two_factor_required_handler(request: Request, exc: TwoFactorRequiredError) -> Response:  # type: ignore[type-arg]
    """An organiser of an award that requires two-factor sign-in, without it: to the set-up page,
    which says why and leads back here afterwards (a form they sent did nothing)."""
    if _wants_json(request):
        return error_response(request, 403, "Two-factor sign-in required")
    query: dict[str, str | int] = {"award": exc.award_id}
    if request.method in ("GET", "HEAD"):
        query["next"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(url_for("account.two_factor", query=query), status_code=303)


def storage_full_handler(request: Request, exc: Exception) -> Response:  # type: ignore[type-arg]
    """A full disk where no form can say so: a page that says what happened (nothing was saved)."""
    log.error("storage full on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 507, "Insufficient Storage")


#: Seconds a client is asked to wait after the file storage could not be reached.
STORAGE_RETRY_AFTER = 30


def storage_unavailable_handler(request: Request, exc: Exception) -> Response:  # type: ignore[type-arg]
    """The file storage (an S3 bucket) cannot be reached or refused: 503 with a page that says
    the files are unavailable for now and nothing was changed, never a 500."""
    log.error("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    response = error_response(request, 503, "Storage unavailable")
    response.headers["retry-after"] = str(STORAGE_RETRY_AFTER)
    return response


def internal_error_handler(request: Request, exc: Exception) -> Response:  # type: ignore[type-arg]
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


#: SQLSTATEs of PostgreSQL's lock trouble: deadlock, lock not available, serialization failure.
_PG_CONTENTION = {"40P01", "55P03", "40001"}


def is_lock_contention(exc: sa.exc.DBAPIError) -> bool:
    """The database was too busy (locked by other writers) rather than broken."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _PG_CONTENTION:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message or "database is busy" in message


def database_error_handler(request: Request, exc: sa.exc.DBAPIError) -> Response:  # type: ignore[type-arg]
    """Lock contention is the server's load, not the visitor's fault: 503 with Retry-After and
    the "try again in a moment" page, never 500. Anything else is an internal error."""
    if not is_lock_contention(exc):
        return internal_error_handler(request, exc)
    log.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
    response = error_response(request, 503, "Database busy")
    response.headers["retry-after"] = str(BUSY_RETRY_AFTER)
    return response
