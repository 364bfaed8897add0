"""Certificate pages: the organisers' settings, previews, batches and revocation; the public
verification page; a startup's download of its own certificate."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Round
from award_jury.awards.services import get_award
from award_jury.awards.setup import find_round
from award_jury.certificates import jobs, services
from award_jury.certificates.context import MAX_SIGNATORIES, ORIENTATIONS
from award_jury.certificates.render import DocumentMeta, render_pdf
from award_jury.consequences import ConfirmationError
from award_jury.db import Database
from award_jury.entries.storage import Storage
from award_jury.errors import DomainError, FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.policy import Action, Viewer
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.bodies import TAKES_FILE
from award_jury.web.confirm import Confirmation, confirm_page, read_confirmation, refused_page
from award_jury.web.forms import read_form, read_upload
from award_jury.web.guards import award_for, entry_for

Req = Request[Any, Any, Any]
#: A PDF shown in the page's frame: same-origin framing only, nothing active.
PDF_HEADERS = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'self'; sandbox",
    "x-frame-options": "SAMEORIGIN",
}


async def render_in_pool(contexts: list[Any], meta: DocumentMeta) -> bytes:
    """One PDF rendered in the process pool, so the event loop keeps serving pages."""
    return await asyncio.get_running_loop().run_in_executor(jobs.pool(), render_pdf, contexts, meta)


def pdf_response(data: bytes, filename: str, *, inline: bool) -> Response[bytes]:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition": f'{disposition}; filename="{filename}"', **PDF_HEADERS},
    )


def safe_name(text: str) -> str:
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in text)
    return cleaned.strip("-")[:80] or "certificate"


async def overview_page(
    session: AsyncSession,
    request: Req,
    award: Award,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    row = await services.get_settings(session, award)
    texts = services.default_texts() | dict(row.texts or {})
    signatories = list(row.signatories or []) + [{"name": "", "role": "", "signature": ""}] * MAX_SIGNATORIES
    form = values or {
        "orientation": row.orientation,
        "place_name": row.place_name,
        **{f"text_{k}": v for k, v in texts.items()},
        **{f"signatory{i}_name": s.get("name", "") for i, s in enumerate(signatories[:MAX_SIGNATORIES], 1)},
        **{f"signatory{i}_role": s.get("role", "") for i, s in enumerate(signatories[:MAX_SIGNATORIES], 1)},
    }
    has_signature = {i: bool(s.get("signature")) for i, s in enumerate(signatories[:MAX_SIGNATORIES], 1)}
    return Template(
        "certificates/overview.html",
        context={
            "award": award,
            "form": form,
            "errors": errors or {},
            "has_signature": has_signature,
            "orientations": ORIENTATIONS,
            "signatory_numbers": range(1, MAX_SIGNATORIES + 1),
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status,
    )


async def round_page(
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    award: Award,
    rnd: Round,
    *,
    error: str = "",
    status: int = 200,
) -> Template:
    rows, final = await services.preview_rows(session, award, rnd, storage, settings.base_url)
    issued = await services.certificates_of_round(session, rnd)
    recent = await jobs.recent_jobs(session, rnd)
    counts = {k: sum(1 for e, _i, _w in rows if e.kind.value == k) for k in ("winner", "finalist", "participant")}
    return Template(
        "certificates/round.html",
        context={
            "award": award,
            "round": rnd,
            "rows": rows,
            "final": final,
            "issued": issued,
            "jobs": recent,
            "counts": counts,
            "error": error,
            "warnings": sum(1 for _e, _i, w in rows if w),
        },
        status_code=status,
    )


class CertificateController(Controller):
    path = "/awards/{slug:str}/certificates"

    @get("", name="certificates.overview")
    async def overview(self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        return await overview_page(db_session, request, award)

    @post("/settings", opt={TAKES_FILE: True}, name="certificates.settings")
    async def save(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, storage: Storage
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        form = await read_form(request)
        values: dict[str, Any] = {name: form.get(name, max_length=2000) for name in form.names()}
        signatories = []
        for i in range(1, MAX_SIGNATORIES + 1):
            upload = await read_upload(request, f"signatory{i}_signature", limit=services.MAX_SIGNATURE_BYTES)
            signatories.append(
                services.SignatoryInput(
                    name=form.get(f"signatory{i}_name", max_length=121),
                    role=form.get(f"signatory{i}_role", max_length=121),
                    upload=upload or None,
                    remove=form.get(f"signatory{i}_remove") == "1",
                )
            )
        texts = {kind: form.get(f"text_{kind}", max_length=601) for kind in ("winner", "finalist", "participant")}
        try:
            await services.save_settings(
                db_session,
                award,
                actor.id,
                storage,
                orientation=form.get("orientation", max_length=20),
                place_name=form.get("place_name", max_length=121),
                signatories=signatories,
                texts=texts,
            )
        except FormError as exc:
            return await overview_page(db_session, request, award, errors=exc.errors, values=values, status=400)
        return Redirect(url_for("certificates.overview", slug=award.slug, query={"saved": 1}), status_code=303)

    @get("/rounds/{round_slug:str}", name="certificates.round")
    async def round(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, settings: Settings, storage: Storage
    ) -> Template:
        award, rnd, _actor = await award_for(
            db_session, slug, viewer, Action.MANAGE_CERTIFICATES, round_slug=round_slug
        )
        return await round_page(db_session, settings, storage, award, rnd)

    @get("/rounds/{round_slug:str}/preview/{ref:str}", name="certificates.preview")
    async def preview(
        self,
        slug: str,
        round_slug: str,
        ref: str,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        storage: Storage,
    ) -> Response[bytes]:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        rnd = find_round(award, round_slug)
        ctx, meta = await services.preview_context(db_session, award, rnd, ref, storage, settings.base_url)
        data = await render_in_pool([ctx], meta)
        return pdf_response(data, f"preview-{safe_name(ref)}.pdf", inline=True)

    @post("/rounds/{round_slug:str}/generate", name="certificates.generate")
    async def generate(
        self,
        request: Req,
        slug: str,
        round_slug: str,
        viewer: Viewer,
        db_session: AsyncSession,
        db: Database,
        settings: Settings,
        storage: Storage,
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        rnd = find_round(award, round_slug)
        form = await read_form(request)
        kind = form.get("kind", max_length=20)
        if kind not in services.KINDS:
            return await round_page(db_session, settings, storage, award, rnd, error="kind", status=400)
        if rnd.finalised_at is None:
            return await round_page(db_session, settings, storage, award, rnd, error="not_final", status=409)
        try:
            job, needs_run = await jobs.start_job(db_session, settings, award, rnd, kind, actor.id)
        except DomainError:
            return await round_page(db_session, settings, storage, award, rnd, error="none", status=409)
        await db_session.commit()  # the job and the codes exist before anything renders
        if needs_run:
            jobs.run_in_background(db, settings, job.id)
        return Redirect(url_for("certificates.job", slug=award.slug, job_id=job.id), status_code=303)

    @get("/jobs/{job_id:int}", name="certificates.job")
    async def job(self, slug: str, job_id: int, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        job = await jobs.get_job(db_session, award, job_id)
        rnd = next(r for r in award.rounds if r.id == job.round_id)
        stalled = job.status == "running" and not jobs.is_alive(job)
        return Template("certificates/job.html", context={"award": award, "round": rnd, "job": job, "stalled": stalled})

    @get("/jobs/{job_id:int}/status", media_type="application/json", cache=False, name="certificates.job_status")
    async def job_status(self, slug: str, job_id: int, viewer: Viewer, db_session: AsyncSession) -> dict[str, Any]:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        return (await jobs.get_job(db_session, award, job_id)).as_json()

    @get("/jobs/{job_id:int}/download", name="certificates.job_download")
    async def job_download(
        self, slug: str, job_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings, storage: Storage
    ) -> Stream:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        job = await jobs.get_job(db_session, award, job_id)
        stored = await jobs.open_output(settings, storage, job.file_name) if job.status == "done" else None
        if stored is None:
            raise NotFoundError("file")
        rnd = next(r for r in award.rounds if r.id == job.round_id)
        name = f"{safe_name(award.slug)}-{safe_name(rnd.slug)}-{job.kind}.pdf"
        # streamed from the storage as it is read (a batch can be large): the same headers as pdf_response
        headers = {"content-disposition": f'attachment; filename="{name}"', **PDF_HEADERS}
        return Stream(
            stored.chunks, media_type="application/pdf", headers=headers | {"content-length": str(stored.size)}
        )

    @get("/{certificate_id:int}/revoke", name="certificates.confirm_revoke")
    async def confirm_revoke(
        self, slug: str, certificate_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        cert = await services.get_certificate(db_session, award, certificate_id)
        check = await services.revoke_check(db_session, award, cert)
        return confirm_page(revoke_confirmation(award, cert), check, award=award)

    @post("/{certificate_id:int}/revoke", name="certificates.revoke")
    async def revoke(
        self, request: Req, slug: str, certificate_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        cert = await services.get_certificate(db_session, award, certificate_id)
        rnd = next(r for r in award.rounds if r.id == cert.round_id)
        check = await services.revoke_check(db_session, award, cert)
        confirmation = revoke_confirmation(award, cert)
        form = await read_form(request)
        reason = form.get("reason", max_length=2000)
        answer = await read_confirmation(request)
        if answer is None:
            return confirm_page(
                confirmation,
                check,
                award=award,
                status=400,
                text=reason,
                message=_("Nothing was changed: this needs your confirmation on this page first."),
            )
        try:
            await services.revoke_certificate(db_session, award, certificate_id, reason, actor.id, state=answer.state)
        except ConfirmationError as exc:
            return refused_page(confirmation, check, exc, answer, award=award)
        except FormError as exc:
            return confirm_page(
                confirmation, check, award=award, status=400, text=reason, text_error=exc.errors["reason"]
            )
        return Redirect(
            url_for("certificates.round", slug=award.slug, round_slug=rnd.slug, query={"revoked": 1}, anchor="issued"),
            status_code=303,
        )

    @post("/{certificate_id:int}/reinstate", name="certificates.reinstate")
    async def reinstate(self, slug: str, certificate_id: int, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.MANAGE_CERTIFICATES)
        cert = await services.reinstate_certificate(db_session, award, certificate_id, actor.id)
        rnd = next(r for r in award.rounds if r.id == cert.round_id)
        return Redirect(
            url_for(
                "certificates.round", slug=award.slug, round_slug=rnd.slug, query={"reinstated": 1}, anchor="issued"
            ),
            status_code=303,
        )


def revoke_confirmation(award: Award, cert: Any) -> Confirmation:
    rnd = next(r for r in award.rounds if r.id == cert.round_id)
    return Confirmation(
        title=_("Revoke the certificate %(code)s?") % {"code": cert.code},
        action=url_for("certificates.revoke", slug=award.slug, certificate_id=cert.id),
        back=url_for("certificates.round", slug=award.slug, round_slug=rnd.slug, anchor="issued"),
        button=_("Revoke the certificate"),
        text_field="reason",
        text_label=_("Reason for revoking"),
        text_hint=_("Required. Only the organisers see the reason; it is recorded in the audit log."),
    )


class VerifyController(Controller):
    @get("/verify", cache=False, name="verify.form")
    async def verify_form(self, request: Req) -> Template | Redirect:
        from award_jury.certificates.codes import normalise_code

        typed = request.query_params.get("code", "")[:100]
        if typed:
            code = normalise_code(typed)
            if code is not None:
                return Redirect(url_for("verify.code", code=code), status_code=303)
            return Template("certificates/verify_form.html", context={"typed": typed, "invalid": True}, status_code=404)
        return Template("certificates/verify_form.html", context={"typed": "", "invalid": False})

    @get("/verify/{code:str}", cache=False, name="verify.code")
    async def verify(self, code: str, db_session: AsyncSession) -> Template:
        try:
            found = await services.verify_code(db_session, code)
        except NotFoundError:
            return Template(
                "certificates/verify_form.html", context={"typed": code[:100], "invalid": True}, status_code=404
            )
        return Template("certificates/verify.html", context={"verified": found, "award": found.award})


class EntryCertificateController(Controller):
    @get("/entries/{entry_id:int}/certificate", name="entries.certificate")
    async def download(
        self, entry_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings, storage: Storage
    ) -> Response[bytes]:
        """The entry's own certificate, for its members, once the round's results are published."""
        entry = await entry_for(db_session, entry_id, viewer, Action.DOWNLOAD_OWN_CERTIFICATE)
        cert = await services.published_certificate(db_session, entry_id)
        award = await get_award(db_session, cert.round.award.slug)
        rnd = next(r for r in award.rounds if r.id == cert.round_id)
        contexts, meta = await services.issued_contexts(
            db_session, award, rnd, cert.kind.value, [cert], storage, settings.base_url
        )
        if not contexts:
            raise NotFoundError("certificate")
        own = DocumentMeta(f"{meta.title} – {contexts[0].startup}", meta.author, meta.lang, meta.orientation)
        data = await render_in_pool(contexts, own)
        return pdf_response(data, f"{safe_name(award.slug)}-{cert.kind.value}-{safe_name(entry.ref)}.pdf", inline=False)
