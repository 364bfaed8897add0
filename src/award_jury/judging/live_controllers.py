"""Live pitch day: the organiser's control page and the jurors' live page, both following the
round's stage through server-sent events (JSON once for a client that does not ask for a stream).

The streams read the stage from the database about once a second, so they work with several
workers and on PostgreSQL; they end after a few minutes and the browser reconnects by itself.
Each read is a short unit of work of its own: a stream holds no database connection while it
waits, so many streams cannot exhaust the pool. Each read also checks that the web session is still
valid, so a stream ends within a tick of sign-out. A web session and a person may hold only a few
streams at once (settings ``live_streams_per_session`` / ``_per_person``); more get 429."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.accounts.sessions import session_is_alive
from award_jury.awards.models import Award, Round
from award_jury.awards.setup import find_round
from award_jury.db import Database, utcnow
from award_jury.errors import FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.judging import live
from award_jury.judging.scoring_controllers import sheet_context, sheet_url
from award_jury.policy import Action, Viewer
from award_jury.settings import Settings
from award_jury.urls import url_for
from award_jury.web.auth import session_policy
from award_jury.web.confirm import Confirmation, Confirmed, confirm_page, confirmed_action, unconfirmed_page
from award_jury.web.forms import parse_id, read_form
from award_jury.web.guards import award_for

Req = Request[Any, Any, Any]
log = logging.getLogger("award_jury.live")

POLL_SECONDS = 1.0
STREAM_SECONDS = 300.0
KEEPALIVE_POLLS = 15
#: Seconds a refused stream is told to wait (Retry-After) before it tries again.
STREAM_RETRY_AFTER = 30

Builder = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
Alive = Callable[[AsyncSession], Awaitable[bool]]


class StreamRegistry:
    """The open live streams per web session and per person, counted in this process's memory.

    With several app processes (workers) each one counts only its own streams, so the caps hold
    per process; the scale-out issue moves live updates to channels, which will count them
    centrally. Only the event loop touches the counts (no awaits in between), so no lock."""

    def __init__(self) -> None:
        self.by_session: dict[int, int] = {}
        self.by_person: dict[int, int] = {}

    def for_person(self, person_id: int) -> int:
        return self.by_person.get(person_id, 0)

    def try_open(self, session_id: int, person_id: int, *, per_session: int, per_person: int) -> bool:
        if self.by_session.get(session_id, 0) >= per_session or self.for_person(person_id) >= per_person:
            return False
        self.by_session[session_id] = self.by_session.get(session_id, 0) + 1
        self.by_person[person_id] = self.for_person(person_id) + 1
        return True

    def close(self, session_id: int, person_id: int) -> None:
        for counts, key in ((self.by_session, session_id), (self.by_person, person_id)):
            left = counts.get(key, 0) - 1
            if left > 0:
                counts[key] = left
            else:
                counts.pop(key, None)


def session_still_valid(settings: Settings, session_id: int) -> Alive:
    """The per-tick check that the web session behind a stream is still there and not past its
    deadlines (one small query; sign-out and "sign out everywhere" delete the row)."""
    policy = session_policy(settings)

    async def alive(session: AsyncSession) -> bool:
        return await session_is_alive(session, session_id, policy, utcnow())

    return alive


def wants_stream(request: Req) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


async def stage_events(
    db: Database,
    build: Builder,
    *,
    seconds: float = STREAM_SECONDS,
    poll: float = POLL_SECONDS,
    alive: Alive | None = None,
    signed_out: ServerSentEventMessage | None = None,
) -> AsyncIterator[ServerSentEventMessage]:
    """``stage`` events whenever the state changes (the timer's seconds alone are no change),
    a comment now and then to keep proxies from closing the line, and the end after ``seconds``
    or as soon as ``alive`` says the web session has ended (then ``signed_out`` is the last
    event, so the page stops instead of reconnecting). Every tick is a short unit of work of its
    own: no database connection is held between ticks."""
    started = time.monotonic()
    last, quiet = None, 0
    yield ServerSentEventMessage(retry=2000, comment="stage")
    while time.monotonic() - started < seconds:
        try:
            async with db.session() as session:
                if alive is not None and not await alive(session):
                    if signed_out is not None:
                        yield signed_out
                    return
                data = await build(session)
        except Exception:  # the next poll tries again; the browser keeps its last state
            log.exception("could not read the live stage")
            data = None
        if data is not None:
            key = json.dumps({k: v for k, v in data.items() if k != "remaining"}, sort_keys=True, default=str)
            if key != last:
                last, quiet = key, 0
                yield ServerSentEventMessage(data=json.dumps(data, default=str), event="stage")
            else:
                quiet += 1
                if quiet >= KEEPALIVE_POLLS:
                    quiet = 0
                    yield ServerSentEventMessage(comment="keep-alive")
        await asyncio.sleep(poll)


async def juror_stage(session: AsyncSession, award: Award, rnd_id: int, juror_id: int) -> dict[str, Any]:
    rnd = await session.get(Round, rnd_id)
    if rnd is None:
        raise NotFoundError("round")
    stage = await live.read_stage(session, rnd_id)
    assert stage is not None
    order = await live.running_order(session, award, rnd)
    mine = await live.juror_entries(session, rnd, juror_id)
    data = live.stage_json(stage, order, utcnow())
    data["scoring"] = stage.entry_id in mine
    data["sheet"] = sheet_url(award, rnd, data["entry"]) if data["scoring"] else None
    return data


async def organiser_stage(session: AsyncSession, award: Award, rnd_id: int) -> dict[str, Any]:
    rnd = await session.get(Round, rnd_id)
    if rnd is None:
        raise NotFoundError("round")
    stage = await live.read_stage(session, rnd_id)
    assert stage is not None
    order = await live.running_order(session, award, rnd)
    data = live.stage_json(stage, order, utcnow())
    jurors = await live.submissions_for(session, rnd_id, stage.entry_id) if stage.entry_id else []
    data["jurors"] = [{"name": j.name, "state": j.state} for j in jurors]
    data["submitted"] = sum(1 for j in jurors if j.state == "submitted")
    return data


async def counted(
    events: AsyncIterator[ServerSentEventMessage], registry: StreamRegistry, session_id: int, person_id: int
) -> AsyncIterator[ServerSentEventMessage]:
    """The events of a stream already counted in ``registry``; uncounted however it ends (also when
    the browser goes away and the server cancels it)."""
    try:
        async for message in events:
            yield message
    finally:
        registry.close(session_id, person_id)


def stream_registry(request: Req) -> StreamRegistry:
    registry: StreamRegistry = request.app.state.live_streams
    return registry


def signed_out_event(stream_path: str) -> ServerSentEventMessage:
    """The stream's last event when its web session ended: where to sign in and come back to the
    page (the stream's path without ``/state``); static/js/live.js stops and shows it."""
    page = stream_path.removesuffix("/state")
    return ServerSentEventMessage(
        event="signed_out", data=json.dumps({"signin": url_for("signin.form", query={"next": page})})
    )


async def live_response(
    request: Req, settings: Settings, db: Database, viewer: Viewer, build: Builder
) -> Response[Any]:
    if wants_stream(request) and viewer.person_id is not None and viewer.session_id is not None:
        registry = stream_registry(request)
        session_id, person_id = viewer.session_id, viewer.person_id
        if not registry.try_open(
            session_id,
            person_id,
            per_session=settings.live_streams_per_session,
            per_person=settings.live_streams_per_person,
        ):
            # EventSource gives up on this answer; static/js/live.js then follows the stage by
            # polling the JSON answer and tries a stream again later.
            return Response(
                {"error": "too many live streams"},
                status_code=429,
                media_type=MediaType.JSON,
                headers={"retry-after": str(STREAM_RETRY_AFTER), "cache-control": "no-store"},
            )
        events = stage_events(
            db,
            build,
            seconds=settings.live_stream_seconds,
            poll=settings.live_poll_seconds,
            alive=session_still_valid(settings, session_id),
            signed_out=signed_out_event(request.url.path),
        )
        return ServerSentEvent(
            counted(events, registry, session_id, person_id),
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )
    async with db.session() as session:
        return Response(await build(session), media_type=MediaType.JSON)


async def render_control(
    session: AsyncSession, award: Award, rnd: Round, *, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    order = await live.running_order(session, award, rnd)
    stage = await live.read_stage(session, rnd.id)
    assert stage is not None
    jurors = await live.submissions_for(session, rnd, stage.entry_id) if stage.entry_id else []
    return Template(
        "judging/live_control.html",
        context={
            "award": award,
            "round": rnd,
            "order": order,
            "stage": stage,
            "jurors": jurors,
            "data": live.stage_json(stage, order, utcnow()),
            "errors": errors or {},
        },
        status_code=status,
    )


class LiveController(Controller):
    path = "/awards/{slug:str}/rounds/{round_slug:str}/live"

    @get("/control", name="live.control")
    async def control_page(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.RUN_LIVE)
        return await render_control(db_session, award, find_round(award, round_slug))

    @post("/control", name="live.control_action")
    async def control(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.RUN_LIVE)
        rnd = find_round(award, round_slug)
        form = await read_form(request)
        action = form.get("do", max_length=20)
        if action == "stop":  # ending the session goes through its confirmation page
            check = await live.end_check(db_session, award, rnd)
            return unconfirmed_page(end_confirmation(award, rnd), check, award=award)
        try:
            await live.control(
                db_session,
                award,
                rnd,
                actor,
                action,
                entry_id=parse_id(form.get("entry", max_length=12)),
                pitch_minutes=form.get("pitch_minutes", max_length=5),
                qa_minutes=form.get("qa_minutes", max_length=5),
            )
        except FormError as exc:
            return await render_control(db_session, award, rnd, errors=exc.errors, status=400)
        return Redirect(url_for("live.control", slug=award.slug, round_slug=rnd.slug), status_code=303)

    @get("/end", name="live.confirm_end")
    async def confirm_end(self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        award, _actor = await award_for(db_session, slug, viewer, Action.RUN_LIVE)
        rnd = find_round(award, round_slug)
        check = await live.end_check(db_session, award, rnd)
        return confirm_page(end_confirmation(award, rnd), check, award=award)

    @post("/end", name="live.end")
    async def end(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession
    ) -> Template | Redirect:
        award, actor = await award_for(db_session, slug, viewer, Action.RUN_LIVE)
        rnd = find_round(award, round_slug)

        async def act(answer: Confirmed) -> str:
            await live.control(db_session, award, rnd, actor, "stop", state=answer.state)
            return url_for("live.control", slug=award.slug, round_slug=rnd.slug)

        return await confirmed_action(
            request, end_confirmation(award, rnd), lambda: live.end_check(db_session, award, rnd), act, award=award
        )

    @get("/control/state", name="live.control_state")
    async def control_state(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db: Database, settings: Settings
    ) -> Response[Any]:
        async with db.session() as session:
            award, _actor = await award_for(session, slug, viewer, Action.RUN_LIVE)
            rnd_id = find_round(award, round_slug).id
        return await live_response(request, settings, db, viewer, lambda s: organiser_stage(s, award, rnd_id))

    @get("", name="live.juror")
    async def juror_page(
        self, slug: str, round_slug: str, viewer: Viewer, db_session: AsyncSession, saved: str = "", change: str = ""
    ) -> Template:
        award, rnd, actor = await award_for(db_session, slug, viewer, Action.SCORE, round_slug=round_slug)
        return await juror_live_page(db_session, award, rnd, actor, notice=saved[:10], change=change == "1")

    @get("/state", name="live.juror_state")
    async def juror_state(
        self, request: Req, slug: str, round_slug: str, viewer: Viewer, db: Database, settings: Settings
    ) -> Response[Any]:
        async with db.session() as session:
            award, rnd, actor = await award_for(session, slug, viewer, Action.SCORE, round_slug=round_slug)
            rnd_id, juror_id = rnd.id, actor.id
        return await live_response(request, settings, db, viewer, lambda s: juror_stage(s, award, rnd_id, juror_id))


async def juror_live_page(
    session: AsyncSession, award: Award, rnd: Round, actor: Person, *, notice: str = "", change: bool = False
) -> Template:
    order = await live.running_order(session, award, rnd)
    stage = await live.read_stage(session, rnd.id)
    assert stage is not None
    mine = await live.juror_entries(session, rnd, actor.id)
    data = live.stage_json(stage, order, utcnow())
    here = next((i for i, slot in enumerate(order) if slot.entry_id == stage.entry_id), None)
    earlier = [slot for slot in order[: here or 0] if slot.entry_id in mine]
    current = order[here] if here is not None else None
    context: dict[str, Any] = {
        "award": award,
        "round": rnd,
        "data": data,
        "current": current,
        "earlier": earlier,
        "scoring": current is not None and current.entry_id in mine,
    }
    if context["scoring"] and current is not None:
        context.update(
            await sheet_context(session, award, rnd, actor, current.ref, live=True, notice=notice, change=change)
        )
    return Template("judging/live.html", context=context)


def end_confirmation(award: Award, rnd: Round) -> Confirmation:
    return Confirmation(
        title=_("End the live session of %(round)s?") % {"round": rnd.name},
        action=url_for("live.end", slug=award.slug, round_slug=rnd.slug),
        back=url_for("live.control", slug=award.slug, round_slug=rnd.slug),
        button=_("End the session"),
    )
