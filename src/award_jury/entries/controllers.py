"""The call for entries and the startup's pages: call page, applying (sign-in by e-mail link),
the application form with drafts, autosave and the deck upload, the status page, withdrawing,
deleting a draft, inviting co-editors and downloading the deck; the organiser's entry list,
eligibility decisions, CSV export and anonymisation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury import db
from award_jury.accounts.controllers import rate_limited_message
from award_jury.accounts.models import Person
from award_jury.awards.models import Award
from award_jury.awards.services import get_award
from award_jury.certificates.services import published_certificate
from award_jury.db import utcnow, write_transaction  # the deadline's clock (tests move it); sign-in links use db.utcnow
from award_jury.entries import mails, services
from award_jury.entries.deck_check import deck_problem
from award_jury.entries.models import Entry
from award_jury.entries.services import DeadlinePassedError, EntryFilter, StaleEntryError, Upload
from award_jury.entries.storage import Storage
from award_jury.entries.validators import FIELD_NAMES, ONE_LINE, PITCH_LIMIT, STAGES
from award_jury.enums import EntryStatus
from award_jury.errors import (
    ConflictError,
    FormError,
    NotFoundError,
    RateLimitedError,
    StorageFullError,
    StorageUnavailableError,
)
from award_jury.i18n import current_locale, format_datetime
from award_jury.i18n import gettext as _
from award_jury.mail import Mailer
from award_jury.policy import Action, Viewer, can, require
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.auth import client_ip
from award_jury.web.bodies import LOCK_AFTER_CHECKS, TAKES_FILE
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action
from award_jury.web.files import open_stored, stored_file_response
from award_jury.web.forms import Form, parse_id, read_form
from award_jury.web.guards import award_for, entry_for
from award_jury.web.mailer import send_after_response

Req = Request[Any, Any, Any]


def wants_json(request: Req) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def read_deck(request: Req, limit: int) -> Upload | None:
    """The uploaded pitch deck (at most ``limit`` + 1 bytes read, so "too large" can be told),
    checked off the event loop (in a child process with a time budget)."""
    try:
        form = await request.form()
    except Exception:  # a body that is not a form has no file
        return None
    upload = form.get("deck")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    data: bytes = await upload.read(limit + 1)
    if not data and not upload.filename:
        return None
    return Upload(data=data, filename=upload.filename, problem=await deck_problem(data, limit))


def form_input(form: Form) -> dict[str, str]:
    # Browsers send line breaks as CR LF but count them as one character against maxlength.
    values = {name: form.get(name, max_length=20_000).replace("\r\n", "\n") for name in FIELD_NAMES}
    # One-line fields never hold a line break (a crafted one would break the e-mail's subject).
    for name in ONE_LINE:
        values[name] = " ".join(values[name].split())
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    return values


def stage_options() -> list[tuple[str, str]]:
    labels = {
        "idea": _("Idea"),
        "prototype": _("Prototype"),
        "pilot": _("Pilot with a public body"),
        "market": _("On the market"),
        "scaling": _("Scaling"),
    }
    return [(s, labels[s]) for s in STAGES]


def field_labels() -> dict[str, str]:
    return {
        "startup_name": _("Company name"),
        "legal_form": _("Legal form"),
        "city": _("City"),
        "founded": _("Founding year"),
        "employees": _("Employees"),
        "website": _("Website"),
        "contact_name": _("Name"),
        "contact_email": _("E-mail address"),
        "category": _("Category"),
        "title": _("Title of your solution"),
        "pitch": _("Pitch summary"),
        "problem": _("Problem"),
        "solution": _("Solution"),
        "benefit": _("Benefit for public administration and citizens"),
        "stage": _("Stage"),
        "investors": _("Investors and partners"),
        "video_url": _("Video link"),
        "consent": _("Privacy notice"),
        "deck": _("Pitch deck (PDF)"),
    }


def form_page(
    settings: Settings,
    entry: Entry,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str = "",
    stale: dict[str, str] | None = None,
    closed: bool = False,
) -> Template:
    now = utcnow()
    return Template(
        "entries/form.html",
        context={
            "entry": entry,
            "award": entry.award,
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "stale": stale or {},
            "closed": closed,
            "call": services.call_of(entry.award, now),
            "deck": services.deck_of(entry),
            "stages": stage_options(),
            "pitch_limit": PITCH_LIMIT,
            "max_size": settings.max_upload_bytes,
            "labels": field_labels(),
        },
        status_code=status,
    )


async def editing(session: AsyncSession, entry_id: int, viewer: Viewer) -> tuple[Entry, Person]:
    """The prelude of every change to an entry by its startup: the entry the policy lets the
    viewer edit, and the acting person. (The request's session is a write transaction already,
    so two tabs saving at once queue instead of failing: web.deps.provide_db_session.)"""
    entry = await entry_for(session, entry_id, viewer, Action.EDIT_ENTRY)
    actor = await session.get(Person, viewer.person_id)
    assert actor is not None  # entry_for lets only a signed-in person through
    return entry, actor


async def status_page(
    session: AsyncSession,
    entry: Entry,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str = "",
    status: int = 200,
) -> Template:
    """The entry's status page: its state over time, its content, its people and the actions."""
    outcome = await services.outcome_of(session, entry)
    now = utcnow()
    try:
        certificate = await published_certificate(session, entry.id)
    except NotFoundError:
        certificate = None
    return Template(
        "entries/status.html",
        context={
            "entry": entry,
            "award": entry.award,
            "call": services.call_of(entry.award, now),
            "steps": await services.timeline(session, entry),
            "state": services.current_state(entry, outcome, now),
            "outcome": outcome,
            "deck": services.deck_of(entry),
            "member": services.is_member(entry, viewer.person_id),
            "people": await services.member_people(session, entry),
            "organiser": can(viewer, Action.REVIEW_ENTRIES, award_id=entry.award_id),
            "stages": dict(stage_options()),
            "errors": errors or {},
            "values": values or {},
            "done": done,
            "certificate": certificate,
        },
        status_code=status,
    )


class CallController(Controller):
    @get("/awards/{slug:str}/call", name="call.detail")
    async def call_page(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award = await get_award(db_session, slug)
        now = utcnow()
        mine = await services.entries_of(db_session, award.id, viewer.person_id) if viewer.person_id else []
        return Template(
            "entries/call.html",
            context={"award": award, "call": services.call_of(award, now), "mine": mine, "now": now},
        )

    @get("/awards/{slug:str}/apply", name="apply.page")
    async def apply_page(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award = await get_award(db_session, slug)
        call = services.call_of(award, utcnow())
        if viewer.authenticated:
            require(viewer, Action.APPLY, award_id=award.id)
            assert viewer.person_id is not None
            mine = await services.entries_of(db_session, award.id, viewer.person_id)
        else:
            mine = []
        return Template(
            "entries/apply.html",
            context={"award": award, "call": call, "mine": mine, "email": "", "name": "", "errors": {}},
        )

    @get("/privacy", name="site.privacy")
    async def privacy(self) -> Template:
        return Template("entries/privacy.html")

    @post("/awards/{slug:str}/apply/link", name="apply.link")
    async def apply_link(
        self, request: Req, slug: str, db_session: AsyncSession, settings: Settings, mailer: Mailer
    ) -> Template:
        """A new applicant gives an e-mail address and gets a sign-in link that leads to the form.
        The answer is the same whether or not the address already has an account."""
        award = await get_award(db_session, slug)
        call = services.call_of(award, utcnow())
        form = await read_form(request)
        email, name = form.get("email", max_length=320), mails.applicant_name(form.get("name", max_length=200))

        def again(errors: dict[str, str], status: int) -> Template:
            context = {"award": award, "call": call, "mine": [], "email": email, "name": name, "errors": errors}
            return Template("entries/apply.html", context=context, status_code=status)

        if not call.is_open:
            return again({"email": _("The call for entries is closed.")}, 409)
        try:
            sent = await mails.request_apply_link(
                db_session,
                mailer,
                award,
                email=email,
                name=name,
                locale=current_locale.get(),
                now=db.utcnow(),
                ip=client_ip(request),
                secret=settings.secret_key,
            )
        except FormError as exc:
            return again(exc.errors, 400)
        except RateLimitedError as exc:
            return again({"email": rate_limited_message(exc)}, 429)
        task = send_after_response(mailer, sent)
        return Template("entries/apply_sent.html", context={"award": award, "email": email}, background=task)

    @post("/awards/{slug:str}/apply", name="apply.start")
    async def start(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Redirect | Template:
        award, actor = await award_for(db_session, slug, viewer, Action.APPLY)
        try:
            entry = await services.start_application(db_session, award, actor, utcnow())
        except DeadlinePassedError:
            call = services.call_of(award, utcnow())
            mine = await services.entries_of(db_session, award.id, actor.id)
            context = {"award": award, "call": call, "mine": mine, "email": "", "name": "", "errors": {}}
            return Template("entries/apply.html", context=context, status_code=409)
        return Redirect(url_for("entries.edit", entry_id=entry.id), status_code=303)


class EntryController(Controller):
    path = "/entries/{entry_id:int}"

    @get("/", name="entries.detail")
    async def status_page(self, request: Req, entry_id: int, viewer: Viewer, db_session: AsyncSession) -> Template:
        entry = await entry_for(db_session, entry_id, viewer, Action.VIEW_ENTRY)
        return await status_page(db_session, entry, viewer, done=request.query_params.get("done", "")[:40])

    @get("/edit", name="entries.edit")
    async def edit_page(self, entry_id: int, viewer: Viewer, db_session: AsyncSession, settings: Settings) -> Template:
        entry = await entry_for(db_session, entry_id, viewer, Action.EDIT_ENTRY)
        editable = entry.status in (EntryStatus.DRAFT, EntryStatus.SUBMITTED)
        closed = not editable or not services.call_of(entry.award, utcnow()).is_open
        problems = {} if closed else services.draft_problems(entry, utcnow())
        return form_page(settings, entry, services.form_values(entry), errors=problems, closed=closed)

    @post("/edit", opt={TAKES_FILE: True, LOCK_AFTER_CHECKS: True}, name="entries.save")
    async def save(
        self,
        request: Req,
        entry_id: int,
        viewer: Viewer,
        db_session: AsyncSession,
        settings: Settings,
        storage: Storage,
        mailer: Mailer,
    ) -> Template | Redirect | Response[dict[str, Any]]:
        form = await read_form(request)
        values = form_input(form)
        action = form.get("action")
        autosave = action == "autosave"
        upload = None if autosave else await read_deck(request, settings.max_upload_bytes)
        # The deck is checked (off the event loop, in a child process): only now the write lock.
        await write_transaction(db_session)
        # A form without its version (or with anything but ASCII digits there) is stale by definition.
        version = parse_id(form.get("version")) or -1
        entry, actor = await editing(db_session, entry_id, viewer)
        was_draft = entry.status is EntryStatus.DRAFT
        now = utcnow()
        try:
            saved = await services.save_entry(
                db_session,
                entry,
                values,
                version=version,
                now=now,
                actor=actor,
                storage=storage,
                upload=upload,
                submit=action == "submit",
            )
        except StaleEntryError as exc:
            await db_session.rollback()
            fresh = await services.load_entry(db_session, entry_id)
            current = services.form_values(fresh)
            mine = {k: v for k, v in values.items() if v != current.get(k, "")}
            if wants_json(request):
                message = _("This entry was changed in another window or by a co-editor.")
                return Response({"error": "stale", "version": exc.current_version, "message": message}, status_code=409)
            notice = _(
                "Someone saved this entry in the meantime (another window, or a co-editor). Nothing of yours "
                "was saved. The form now shows the newer version; your text is below so you can copy it."
            )
            return form_page(settings, fresh, current, status=409, notice=notice, stale=mine)
        except DeadlinePassedError:
            await db_session.rollback()
            fresh = await services.load_entry(db_session, entry_id)
            message = _("The call for entries is closed, so nothing was saved. Your last saved version is kept.")
            if wants_json(request):
                return Response({"error": "closed", "message": message}, status_code=409)
            return form_page(settings, fresh, values, status=409, notice=message, closed=True)
        except FormError as exc:
            await db_session.rollback()
            if wants_json(request):
                return Response({"error": "invalid", "errors": exc.errors}, status_code=422)
            fresh = await services.load_entry(db_session, entry_id)
            return form_page(settings, fresh, values, errors=exc.errors, status=400)
        except StorageFullError:
            await db_session.rollback()
            message = _(
                "The server's storage is full, so the file could not be saved. Nothing was changed. "
                "Please try again later or tell the organisers."
            )
            if wants_json(request):
                return Response({"error": "storage-full", "message": message}, status_code=507)
            fresh = await services.load_entry(db_session, entry_id)
            return form_page(settings, fresh, values, errors={"deck": message}, status=507)
        except StorageUnavailableError:
            await db_session.rollback()
            message = _(
                "The file storage cannot be reached right now, so the file could not be saved. Nothing was "
                "changed. Please try again in a few minutes; if it keeps happening, tell the organisers."
            )
            if wants_json(request):
                return Response({"error": "storage-unavailable", "message": message}, status_code=503)
            fresh = await services.load_entry(db_session, entry_id)
            return form_page(settings, fresh, values, errors={"deck": message}, status=503)
        if wants_json(request):
            answer = {"ok": True, "version": entry.version, "saved_at": now.isoformat(), "errors": saved.problems}
            return Response(answer, status_code=200)
        if saved.problems:  # a draft with values that are not valid yet: saved, and shown beside the fields
            notice = _("Your draft is saved. Before you can submit it, please correct the marked fields.")
            return form_page(settings, entry, services.form_values(entry), errors=saved.problems, notice=notice)
        if action == "submit" and was_draft:
            task = send_after_response(mailer, mails.submitted_mails(mailer, entry, actor))
            return Redirect(
                url_for("entries.detail", entry_id=entry.id, query={"done": "submitted"}),
                status_code=303,
                background=task,
            )
        return Redirect(url_for("entries.edit", entry_id=entry.id, query={"saved": 1}), status_code=303)

    @post("/withdraw", name="entries.withdraw")
    async def withdraw(self, request: Req, entry_id: int, viewer: Viewer, db_session: AsyncSession) -> Redirect:
        entry, actor = await editing(db_session, entry_id, viewer)
        form = await read_form(request)
        if form.get("confirm") != "yes":
            return Redirect(
                url_for("entries.detail", entry_id=entry.id, query={"done": "confirm_withdraw"}, anchor="withdraw"),
                status_code=303,
            )
        try:
            await services.withdraw_entry(db_session, entry, now=utcnow(), actor=actor)
        except (ConflictError, DeadlinePassedError):
            return Redirect(
                url_for("entries.detail", entry_id=entry.id, query={"done": "withdraw_refused"}), status_code=303
            )
        return Redirect(url_for("entries.detail", entry_id=entry.id, query={"done": "withdrawn"}), status_code=303)

    @post("/delete", name="entries.delete")
    async def delete(
        self, request: Req, entry_id: int, viewer: Viewer, db_session: AsyncSession, storage: Storage
    ) -> Redirect:
        entry, actor = await editing(db_session, entry_id, viewer)
        form = await read_form(request)
        if form.get("confirm") != "yes":
            return Redirect(
                url_for("entries.detail", entry_id=entry.id, query={"done": "confirm_delete"}, anchor="delete"),
                status_code=303,
            )
        slug = entry.award.slug
        try:
            await services.delete_draft(db_session, entry, actor=actor, storage=storage)
        except ConflictError:
            return Redirect(
                url_for("entries.detail", entry_id=entry.id, query={"done": "delete_refused"}), status_code=303
            )
        return Redirect(url_for("apply.page", slug=slug, query={"deleted": 1}), status_code=303)

    @post("/members", name="entries.add_member")
    async def add_member(
        self, request: Req, entry_id: int, viewer: Viewer, db_session: AsyncSession, mailer: Mailer
    ) -> Template | Redirect:
        entry, actor = await editing(db_session, entry_id, viewer)
        form = await read_form(request)
        email, name = form.get("member_email", max_length=320), form.get("member_name", max_length=300)
        try:
            sent = await mails.invite_member(
                db_session, mailer, entry, email, name, actor=actor, now=db.utcnow(), ip=client_ip(request)
            )
        except (FormError, RateLimitedError) as exc:
            await db_session.rollback()
            errors = (
                exc.errors
                if isinstance(exc, FormError)
                else {"member_email": _("Too many attempts. Please try again later.")}
            )
            fresh = await services.load_entry(db_session, entry_id)
            values = {"member_email": email, "member_name": name}
            return await status_page(db_session, fresh, viewer, errors=errors, values=values, status=400)
        task = send_after_response(mailer, sent)
        return Redirect(
            url_for("entries.detail", entry_id=entry.id, query={"done": "member_added"}, anchor="people"),
            status_code=303,
            background=task,
        )

    @get("/deck", name="entries.deck")
    async def deck(self, entry_id: int, viewer: Viewer, db_session: AsyncSession, storage: Storage) -> Stream:
        entry = await entry_for(db_session, entry_id, viewer, Action.VIEW_ENTRY)
        deck = services.deck_of(entry)
        stored = await open_stored(storage, deck.storage_key if deck else None)
        return stored_file_response(stored, deck.name if deck else "deck.pdf", "application/pdf", inline=False)

    @post("/eligibility", name="entries.eligibility")
    async def eligibility(
        self, request: Req, entry_id: int, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        entry = await entry_for(db_session, entry_id, viewer, Action.VIEW_ENTRY)
        require(viewer, Action.REVIEW_ENTRIES, award_id=entry.award_id)
        actor = await db_session.get(Person, viewer.person_id)
        assert actor is not None
        form = await read_form(request)
        decision, reason = form.get("decision"), form.get("reason", max_length=5000)
        try:
            await services.decide_eligibility(db_session, entry, decision, reason, actor=actor, now=utcnow())
        except FormError as exc:
            await db_session.rollback()
            fresh = await services.load_entry(db_session, entry_id)
            values = {"decision": decision, "reason": reason}
            return await status_page(db_session, fresh, viewer, errors=exc.errors, values=values, status=400)
        return Redirect(
            url_for("entries.detail", entry_id=entry.id, query={"done": "decided"}, anchor="eligibility"),
            status_code=303,
        )


class OrganiserEntriesController(Controller):
    path = "/awards/{slug:str}"

    @get("/entries", name="entries.list")
    async def entry_list(
        self, slug: str, viewer: Viewer, db_session: AsyncSession, category: str = "", status: str = "", round: str = ""
    ) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.REVIEW_ENTRIES)
        flt = EntryFilter(category=category[:80], status=status[:20], round=round[:80])
        entries = await services.list_entries(db_session, award, flt)
        query = urlencode(
            {k: v for k, v in (("category", flt.category), ("status", flt.status), ("round", flt.round)) if v}
        )
        return Template(
            "entries/list.html",
            context={
                "award": award,
                "entries": entries,
                "filter": flt,
                "query": query,
                "statuses": [s.value for s in EntryStatus],
                "ended": services.award_ended(award, utcnow()),
            },
        )

    @get("/entries.csv", name="entries.csv")
    async def entry_csv(
        self, slug: str, viewer: Viewer, db_session: AsyncSession, category: str = "", status: str = "", round: str = ""
    ) -> Response[str]:
        award, _actor = await award_for(db_session, slug, viewer, Action.REVIEW_ENTRIES)
        flt = EntryFilter(category=category[:80], status=status[:20], round=round[:80])
        entries = await services.list_entries(db_session, award, flt)
        return Response(
            services.entries_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{award.slug}-entries.csv"',
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
            },
        )

    @get("/anonymise", name="entries.anonymise_page")
    async def anonymise_page(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.REVIEW_ENTRIES)
        check = await services.anonymise_check(db_session, award, utcnow())
        return confirm_page(anonymise_confirmation(award), check, award=award)

    @post("/anonymise", name="entries.anonymise")
    async def anonymise(
        self, request: Req, slug: str, viewer: Viewer, db_session: AsyncSession, storage: Storage
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.REVIEW_ENTRIES)
        now = utcnow()
        check = await services.anonymise_check(db_session, award, now)
        confirmation = anonymise_confirmation(award)

        async def act(answer: Confirmed) -> str:
            await services.anonymise_award(db_session, award, storage=storage, actor=actor, now=now, state=answer.state)
            return url_for("entries.list", slug=award.slug, query={"anonymised": 1})

        return await confirmed_action(request, confirmation, check, act, award=award)


def anonymise_confirmation(award: Award) -> Confirmation:
    lead = _(
        "After an award has ended, remove what the startups told you about people: contact names and e-mail "
        "addresses, the accounts of the startups' people (unless they use them elsewhere), investors and "
        "partners, websites, video links and every uploaded file."
    )
    if award.anonymised_at is not None:
        lead = _("The startups' personal data was removed on %(date)s.") % {
            "date": format_datetime(award.anonymised_at, award.time_zone)
        }
    return Confirmation(
        title=_("Remove personal data"),
        action=url_for("entries.anonymise", slug=award.slug),
        back=url_for("entries.list", slug=award.slug),
        button=_("Remove personal data now"),
        lead=lead,
    )
