"""Site-wide routes: health check, language switch, the award's colour theme."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.branding import DEFAULT_BRAND, sniff_image, text_on
from award_jury.awards.services import get_award
from award_jury.db import Database
from award_jury.entries.storage import LocalStorage
from award_jury.errors import NotFoundError
from award_jury.settings import SUPPORTED_LOCALES, Settings
from award_jury.web.middleware import LANGUAGE_COOKIE


def language_cookie(settings: Settings, lang: str) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE, value=lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True,
        secure=settings.secure_cookies,
    )  # fmt: skip


def safe_next(target: str | None) -> str:
    """Only local paths: a language switch must never become an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SiteController(Controller):
    @get("/healthz", media_type="application/json", cache=False)
    async def healthz(self, db: Database) -> Response[dict[str, str]]:
        try:
            ok = await db.ping()
        except Exception:  # any failure means "not healthy", reported, never raised
            ok = False
        if ok:
            return Response({"status": "ok", "database": "ok"})
        return Response({"status": "error", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)

    @post("/language", status_code=303)
    async def set_language(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        lang = data.get("lang", "")
        response = Redirect(safe_next(data.get("next")), status_code=303)
        if lang in SUPPORTED_LOCALES:
            response.cookies.append(language_cookie(request.app.state.settings, lang))
        return response

    @get("/awards/{slug:str}/logo", cache=3600)
    async def logo(self, request: Request[Any, Any, Any], slug: str, db_session: AsyncSession) -> Response[bytes]:
        """The award's logo, served with its sniffed type and no way to run anything (SVG)."""
        award = await get_award(db_session, slug)
        storage = LocalStorage(request.app.state.settings.uploads_dir)
        if not award.logo_key or not storage.exists(award.logo_key):
            raise NotFoundError("logo")
        data = storage.get(award.logo_key)
        return Response(
            data,
            media_type=sniff_image(data) or "application/octet-stream",
            headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
        )

    @get("/awards/{slug:str}/theme.css", media_type="text/css", cache=300)
    async def theme(self, slug: str, db_session: AsyncSession) -> str:
        """The award's brand colour as CSS custom properties (a file, so the CSP needs no inline styles)."""
        award = await get_award(db_session, slug)
        colour = award.primary_color or DEFAULT_BRAND
        return f":root {{ --brand: {colour}; --brand-text: {text_on(colour)}; }}\n"
