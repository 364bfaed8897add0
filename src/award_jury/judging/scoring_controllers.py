"""Jurors' pages: the dashboard of a round, an entry with its score sheet (plain form posts,
and a JSON autosave for the page's script), the pitch deck, and declaring a conflict."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.awards.models import Award, Round
from award_jury.db import utcnow
from award_jury.entries.models import Attachment
from award_jury.entries.storage import Storage, StoredFile
from award_jury.enums import ConflictKind
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import input_number, plain_number
from award_jury.judging import conflicts, dashboard, sheets
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer
from award_jury.urls import url_for
from award_jury.web.files import open_stored, stored_file_response
from award_jury.web.forms import Form, read_form
from award_jury.web.guards import award_for
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]
#: Media types the deck route serves as they are; anything else is a download of bytes.
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg"}


def sheet_url(award: Award, rnd: Round, ref: str) -> str:
    return url_for("jury.sheet", slug=award.slug, round_slug=rnd.slug, ref=ref)


def parse_version(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def sheet_input(form: Form, rnd: Round) -> sheets.SheetInput:
    return sheets.SheetInput(
        scores={c.key: form.get(f"score-{c.key}", max_length=50) for c in rnd.criteria},
        comment=form.get("comment", max_length=sheets.MAX_TEXT + 1),
        private_note=form.get("private_note", max_length=sheets.MAX_TEXT + 1),
    )


def snapshot_input(snapshot: sheets.SheetSnapshot) -> sheets.SheetInput:
    return sheets.SheetInput(
        {k: plain_number(v) for k, v in snapshot.scores.items()}, snapshot.comment, snapshot.private_note
    )


def snapshot_json(rnd: Round, snapshot: sheets.SheetSnapshot) -> dict[str, Any]:
    total = sheets.total_of(rnd, snapshot.scores)
    return {
        "version": snapshot.version,
        "status": snapshot.status.value,
        "scores": {k: plain_number(v) for k, v in snapshot.scores.items()},
        "comment": snapshot.comment,
        "private_note": snapshot.private_note,
        "total": None if total is None else round(total, 4),
    }


async def next_open_entry(session: AsyncSession, award: Award, rnd: Round, juror_id: int, ref: str) -> str | None:
    """The next entry in the juror's order whose sheet is not submitted (after ``ref``, wrapping)."""
    board = await dashboard.juror_dashboard(session, award, rnd, juror_id)
    items = [i for g in board.groups for i in g.entries if i.assigned]
    refs = [i.ref for i in items]
    start = refs.index(ref) + 1 if ref in refs else 0
    for item in items[start:] + items[:start]:
        if item.state != dashboard.SUBMITTED and item.ref != ref:
            return item.ref
    return None


async def sheet_page(
    session: AsyncSession, award: Award, rnd: Round, actor: Person, ref: str, *, status: int = 200, **options: Any
) -> Template:
    context = await sheet_context(session, award, rnd, actor, ref, **options)
    return Template("judging/sheet.html", context=context, status_code=status)


async def sheet_context(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    actor: Person,
    ref: str,
    *,
    access: sheets.SheetAccess | None = None,
    given: sheets.SheetInput | None = None,
    errors: dict[str, str] | None = None,
    stale: sheets.SheetSnapshot | None = None,
    version: int | None = None,
    conflict_errors: dict[str, str] | None = None,
    conflict_values: dict[str, str] | None = None,
    notice: str = "",
    live: bool = False,
    change: bool = False,
) -> dict[str, Any]:
    """Everything the sheet form shows (the entry page and the live page use it). A submitted
    sheet shows read-only with a "Change my scores" link, unless ``change`` (that link) or a
    posted form coming back (``given``) opens it for changing."""
    access = access or await sheets.sheet_access(session, award, rnd, actor.id, ref)
    entry = access.entry
    stored = await sheets.load_sheet(session, rnd, actor.id, entry.id)
    values = given or snapshot_input(stored)
    attachments = await sheets.entry_attachments(session, access)
    await session.refresh(entry, ["startup", "category"])
    typed = {
        k: sheets.check_score(c, values.scores[c.key])[0]
        for c in rnd.criteria
        if (k := c.key) in values.scores and values.scores[k]
    }
    preview = {k: v for k, v in typed.items() if v is not None}
    video = entry.video_url if entry.video_url and entry.video_url.startswith(("https://", "http://")) else None
    return {
        "award": award,
        "round": rnd,
        "entry": entry,
        "access": access,
        "stored": stored,
        "values": values,
        "errors": errors or {},
        "stale": stale,
        "version": stored.version if version is None else version,
        "attachments": attachments,
        "video_url": video,
        "total": sheets.total_of(rnd, preview),
        "choices": {c.key: sheets.score_choices(c) for c in rnd.criteria},
        "level_text": sheets.level_text,
        "plain": plain_number,
        "field_text": field_text,
        "url": sheet_url(award, rnd, entry.ref),
        "now": utcnow(),
        "kinds": [k.value for k in ConflictKind],
        "conflict_errors": conflict_errors or {},
        "conflict_values": conflict_values or {},
        "notice": notice,
        "live": live,
        "next_ref": await next_open_entry(session, award, rnd, actor.id, entry.ref) if notice == "submit" else None,
        "stale_total": sheets.total_of(rnd, stale.scores) if stale else None,
        "read_only_message": read_only_message(access.read_only) if access.read_only else "",
        "changing": change or given is not None,
        "change_url": (
            url_for("live.juror", slug=award.slug, round_slug=rnd.slug, query={"change": 1}, anchor="sheet")
            if live
            else url_for(
                "jury.sheet", slug=award.slug, round_slug=rnd.slug, ref=entry.ref, query={"change": 1}, anchor="sheet"
            )
        ),
    }


class JuryController(Controller):
    path = "/awards/{slug:str}"

    @get("/jury", name="jury.home")
    async def jury_home(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Redirect | Template:
        """The juror's way in: the dashboard of the round they most likely want."""
        award, actor = await award_for(db_session, slug, viewer, Action.SCORE)
        rnd = dashboard.default_round(award, utcnow(), await dashboard.open_work(db_session, award, actor.id))
        if rnd is None:
            return Template("judging/no_round.html", context={"award": award})
        return Redirect(url_for("jury.dashboard", slug=award.slug, round_slug=rnd.slug), status_code=303)

    @get("/rounds/{round_slug:str}/jury", name="jury.dashboard")
    async def dashboard_page(
        self,
        slug: str,
        round_slug: str,
        viewer: Viewer,
        db_session: AsyncSession,
        state_filter: Annotated[str, Parameter(query="state")] = "",
        category: str = "",
        conflict: str = "",
    ) -> Template:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        state = state_filter if state_filter in dashboard.STATES else ""
        category = category if any(c.slug == category for c in award.categories) else ""
        board = await dashboard.juror_dashboard(db_session, award, rnd, actor.id, state=state, category=category)
        now = utcnow()
        return Template(
            "judging/dashboard.html",
            context={
                "award": award,
                "round": rnd,
                "board": board,
                "state": state,
                "category": category,
                "time_left": dashboard.time_left(rnd.scoring_close, now),
                "now": now,
                "rounds": dashboard.scoring_rounds(award),
                "conflict_ref": conflict[:32],
                "read_only": rnd.scoring_closed(now),
            },
        )

    @get("/rounds/{round_slug:str}/jury/entries/{ref:str}", name="jury.sheet")
    async def entry_page(
        self,
        slug: str,
        round_slug: str,
        ref: str,
        viewer: Viewer,
        db_session: AsyncSession,
        saved: str = "",
        change: str = "",
    ) -> Template:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        notice = saved if saved in (sheets.SAVE, sheets.SUBMIT, sheets.REOPEN) else ""
        return await sheet_page(db_session, award, rnd, actor, ref, notice=notice, change=change == "1")

    @post("/rounds/{round_slug:str}/jury/entries/{ref:str}", name="jury.save")
    async def save(
        self, request: Req, slug: str, round_slug: str, ref: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        access = await sheets.sheet_access(db_session, award, rnd, actor.id, ref)
        if access.read_only:
            return await sheet_page(db_session, award, rnd, actor, ref, access=access, status=409)
        form = await read_form(request)
        given = sheet_input(form, rnd)
        action = form.get("action", max_length=10)
        action = action if action in (sheets.SAVE, sheets.SUBMIT, sheets.REOPEN) else sheets.SAVE
        version = parse_version(form.get("version", max_length=12))
        if version is None:
            return await sheet_page(
                db_session,
                award,
                rnd,
                actor,
                ref,
                access=access,
                given=given,
                status=400,
                errors={"version": _("This form is out of date. Reload the page.")},
            )
        try:
            await sheets.save_sheet(
                db_session, award, rnd, access, actor.id, version=version, given=given, action=action
            )
        except sheets.SheetReadOnlyError:
            return await sheet_page(db_session, award, rnd, actor, ref, access=access, status=409)
        except sheets.SheetSubmittedError:
            return await sheet_page(
                db_session, award, rnd, actor, ref, access=access, given=given, notice="submitted", status=409
            )
        except FormError as exc:
            return await sheet_page(
                db_session,
                award,
                rnd,
                actor,
                ref,
                access=access,
                given=given,
                errors=exc.errors,
                version=version,
                status=422,
            )
        except sheets.StaleSheetError as exc:
            return await sheet_page(
                db_session,
                award,
                rnd,
                actor,
                ref,
                access=access,
                given=given,
                stale=exc.current,
                version=exc.current.version,
                status=409,
            )
        if form.get("back", max_length=10) == "live":  # the live page's sheet goes back to the live page
            return Redirect(
                url_for("live.juror", slug=award.slug, round_slug=rnd.slug, query={"saved": action}), status_code=303
            )
        return Redirect(
            url_for("jury.sheet", slug=award.slug, round_slug=rnd.slug, ref=ref, query={"saved": action}),
            status_code=303,
        )

    @post("/rounds/{round_slug:str}/jury/entries/{ref:str}/autosave", name="jury.autosave")
    async def autosave(
        self, request: Req, slug: str, round_slug: str, ref: str, viewer: Viewer, db_session: AsyncSession
    ) -> Response[Any]:
        """The page's script saves here: JSON answers, the same rules as the form."""
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        access = await sheets.sheet_access(db_session, award, rnd, actor.id, ref)
        if access.read_only:
            return read_only_response(access.read_only)
        form = await read_form(request)
        version = parse_version(form.get("version", max_length=12))
        if version is None:
            return Response(
                {"error": "version", "message": _("This form is out of date. Reload the page.")},
                status_code=400,
                media_type=MediaType.JSON,
            )
        try:
            saved = await sheets.save_sheet(
                db_session, award, rnd, access, actor.id, version=version, given=sheet_input(form, rnd)
            )
        except sheets.SheetReadOnlyError as exc:
            return read_only_response(exc.reason)
        except sheets.SheetSubmittedError:
            message = _("Not saved: this sheet is submitted. Your changes count once you submit them again.")
            return Response({"error": "submitted", "message": message}, status_code=409, media_type=MediaType.JSON)
        except FormError as exc:
            return Response({"error": "invalid", "errors": exc.errors}, status_code=422, media_type=MediaType.JSON)
        except sheets.StaleSheetError as exc:
            return Response(
                {"error": "stale", "current": snapshot_json(rnd, exc.current)},
                status_code=409,
                media_type=MediaType.JSON,
            )
        return Response({"ok": True, **snapshot_json(rnd, saved)}, status_code=200, media_type=MediaType.JSON)

    async def _attachment(
        self,
        storage: Storage,
        session: AsyncSession,
        slug: str,
        round_slug: str,
        ref: str,
        attachment_id: int,
        viewer: Viewer,
    ) -> tuple[Attachment, StoredFile]:
        award, rnd, actor = await award_for(session, slug, viewer, Action.SCORE, round_slug=round_slug)
        access = await sheets.sheet_access(session, award, rnd, actor.id, ref)
        attachment = await sheets.entry_attachment(session, access, attachment_id)
        assert attachment.storage_key is not None
        try:
            stored = await open_stored(storage, attachment.storage_key)
        except ValueError as exc:  # a key that is no storage key (imported metadata)
            raise NotFoundError("attachment") from exc
        return attachment, stored

    @get("/rounds/{round_slug:str}/jury/entries/{ref:str}/files/{attachment_id:int}", name="jury.file")
    async def view_file(
        self,
        storage: Storage,
        slug: str,
        round_slug: str,
        ref: str,
        attachment_id: int,
        viewer: Viewer,
        db_session: AsyncSession,
    ) -> Stream:
        attachment, data = await self._attachment(storage, db_session, slug, round_slug, ref, attachment_id, viewer)
        return file_response(attachment, data, inline=True)

    @get(
        "/rounds/{round_slug:str}/jury/entries/{ref:str}/files/{attachment_id:int}/download", name="jury.file_download"
    )
    async def download_file(
        self,
        storage: Storage,
        slug: str,
        round_slug: str,
        ref: str,
        attachment_id: int,
        viewer: Viewer,
        db_session: AsyncSession,
    ) -> Stream:
        attachment, data = await self._attachment(storage, db_session, slug, round_slug, ref, attachment_id, viewer)
        return file_response(attachment, data, inline=False)

    @post("/rounds/{round_slug:str}/jury/entries/{ref:str}/conflict", name="jury.declare_conflict")
    async def declare_conflict(
        self,
        request: Req,
        slug: str,
        round_slug: str,
        ref: str,
        viewer: Viewer,
        db_session: AsyncSession,
        mailer: Mailer,
    ) -> Template | Redirect:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        access = await sheets.sheet_access(db_session, award, rnd, actor.id, ref)
        if access.read_only:  # after the deadline a conflict would silently change closed results
            return await sheet_page(db_session, award, rnd, actor, ref, access=access, status=409)
        form = await read_form(request)
        values = {"kind": form.get("kind", max_length=40), "reason": form.get("reason", max_length=2500)}
        if await sheets.holds_closed_sheet(db_session, award, actor.id, access.entry.id):
            # a conflict discards the pair's sheets in every round, closed ones too
            message = _(
                "You scored this entry in a round that is closed, and a conflict would discard that sheet. "
                "Ask the organisers to record the conflict."
            )
            return await sheet_page(
                db_session,
                award,
                rnd,
                actor,
                ref,
                access=access,
                conflict_errors={"reason": message},
                conflict_values=values,
                status=409,
            )
        try:
            conflict = await conflicts.declare_conflict(
                db_session,
                award,
                juror_id=actor.id,
                entry_id=access.entry.id,
                kind=values["kind"] or "other",
                reason=values["reason"],
                actor=actor,
            )
        except FormError as exc:
            return await sheet_page(
                db_session,
                award,
                rnd,
                actor,
                ref,
                access=access,
                conflict_errors=exc.errors,
                conflict_values=values,
                status=400,
            )
        tasks = send_after_response(mailer, await conflicts.conflict_mails(db_session, mailer, award, actor, conflict))
        return Redirect(
            url_for("jury.dashboard", slug=award.slug, round_slug=rnd.slug, query={"conflict": access.entry.ref}),
            status_code=303,
            background=tasks,
        )


def field_text(text: str) -> str:
    """A score as its text field shows it: stored values in the page's language (``7,5``),
    anything a person typed as they typed it."""
    try:
        return input_number(Decimal(text)) if text.replace(".", "", 1).isdigit() else text
    except InvalidOperation:
        return text


def read_only_message(reason: str) -> str:
    return {
        sheets.UNASSIGNED: _("You are no longer assigned to this entry, so this sheet cannot be changed."),
        sheets.ENTRY_NOT_SUBMITTED: _("This entry is no longer in the competition, so its sheet cannot be changed."),
        sheets.FINALISED: _("The results of this round are final, so sheets cannot be changed."),
        sheets.CLOSED: _("The scoring deadline has passed, so sheets cannot be changed."),
    }.get(reason, _("This sheet cannot be changed."))


def read_only_response(reason: str) -> Response[Any]:
    return Response(
        {"error": "read_only", "reason": reason, "message": read_only_message(reason)},
        status_code=409,
        media_type=MediaType.JSON,
    )


def file_response(attachment: Attachment, stored: StoredFile, *, inline: bool) -> Stream:
    media_type = attachment.media_type if attachment.media_type in INLINE_TYPES else "application/octet-stream"
    return stored_file_response(stored, attachment.name, media_type, inline=inline)
