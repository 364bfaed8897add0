"""Site-wide routes: health and readiness checks, language switch, the award's colour theme."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.branding import DEFAULT_BRAND, sniff_image, text_on
from award_jury.awards.services import get_award
from award_jury.db import Database
from award_jury.entries.storage import Storage, storage_for
from award_jury.errors import NotFoundError, StorageUnavailableError
from award_jury.settings import SUPPORTED_LOCALES, Settings
from award_jury.web.middleware import LANGUAGE_COOKIE


def language_cookie(settings: Settings, lang: str) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=lang,
        max_age=365 * 24 * 3600,
        samesite="lax",
        httponly=True,
        secure=settings.secure_cookies,
    )


def safe_next(target: str | None) -> str:
    """Only local paths: a language switch must never become an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SiteController(Controller):
    @get("/healthz", media_type="application/json", cache=False, name="site.healthz")
    async def healthz(self, db: Database) -> Response[dict[str, str]]:
        try:
            ok = await db.ping()
        except Exception:  # any failure means "not healthy", reported, never raised
            ok = False
        if ok:
            return Response({"status": "ok", "database": "ok"})
        return Response({"status": "error", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)

    @get("/readyz", media_type="application/json", cache=False, name="site.readyz")
    async def readyz(self, db: Database, settings: Settings) -> Response[dict[str, Any]]:
        """Ready to serve: the database answers and the file storage takes a write (a probe file
        or object, removed again), with room for at least one more upload on a local disk.
        200 when all holds, else 503; the details as JSON."""
        try:
            database_ok = await db.ping()
        except Exception:  # any failure means "not ready", reported, never raised
            database_ok = False
        try:
            state = await storage_for(settings).state(settings.max_upload_bytes)
        except StorageUnavailableError as exc:  # the storage settings themselves are wrong
            state = {"backend": "s3", "writable": False, "room_for_an_upload": False, "error": str(exc)[:300]}
        ready = database_ok and state["writable"] and state["room_for_an_upload"]
        body = {"status": "ok" if ready else "unavailable", "database": {"ok": database_ok}, "storage": state}
        return Response(body, status_code=200 if ready else HTTP_503_SERVICE_UNAVAILABLE)

    @post("/language", status_code=303, name="site.language")
    async def set_language(
        self,
        settings: Settings,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        lang = data.get("lang", "")
        response = Redirect(safe_next(data.get("next")), status_code=303)
        if lang in SUPPORTED_LOCALES:
            response.cookies.append(language_cookie(settings, lang))
        return response

    @get("/awards/{slug:str}/logo", cache=3600, name="awards.logo")
    async def logo(self, slug: str, db_session: AsyncSession, storage: Storage) -> Response[bytes]:
        """The award's logo, served with its sniffed type and no way to run anything (SVG)."""
        award = await get_award(db_session, slug)
        try:
            data = await storage.get(award.logo_key) if award.logo_key else None
        except FileNotFoundError:
            data = None
        if data is None:
            raise NotFoundError("logo")
        return Response(
            data,
            media_type=sniff_image(data) or "application/octet-stream",
            headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
        )

    @get("/awards/{slug:str}/theme.css", media_type="text/css", cache=300, name="awards.theme")
    async def theme(self, slug: str, db_session: AsyncSession) -> str:
        """The award's brand colour as CSS custom properties (a file, so the CSP needs no inline styles)."""
        award = await get_award(db_session, slug)
        colour = award.primary_color or DEFAULT_BRAND
        return f":root {{ --brand: {colour}; --brand-text: {text_on(colour)}; }}\n"
