"""Public award pages: the start page (awards and their open calls) and an award's overview."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.services import get_award, list_awards, round_phase, summarise
from award_jury.db import utcnow
from award_jury.policy import Action, Viewer, can


class AwardPagesController(Controller):
    @get("/", name="site.home")
    async def home(self, db_session: AsyncSession) -> Template:
        now = utcnow()
        return Template("awards/index.html", context={"summaries": await list_awards(db_session, now), "now": now})

    @get("/awards/{slug:str}", name="awards.detail")
    async def award(self, slug: str, viewer: Viewer, db_session: AsyncSession) -> Template:
        now = utcnow()
        award = await get_award(db_session, slug)
        phases = {r.id: round_phase(r, now) for r in award.rounds}
        return Template(
            "awards/detail.html",
            context={
                "award": award,
                "summary": summarise(award, now),
                "phases": phases,
                "now": now,
                "may_score": can(viewer, Action.SCORE, award_id=award.id),
            },
        )
