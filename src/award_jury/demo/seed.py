"""Seeding the demo database: the shipped bundle plus login accounts for each kind of user."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.accounts.passwords import hash_password
from award_jury.accounts.services import find_person, get_or_create_person, grant_role
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.db import Database
from award_jury.demo import (
    JUROR_EMAIL,
    JUROR_PASSWORD,
    ORGANISER,
    STARTUP_EMAIL,
    STARTUP_PASSWORD,
    load_demo_bundle,
    open_call_bundle,
)
from award_jury.entries.models import Entry
from award_jury.entries.storage import storage_for
from award_jury.enums import Role
from award_jury.judging import assignments
from award_jury.judging.models import Assignment, ScoreSheet
from award_jury.migrate import upgrade
from award_jury.ranking.queries import rank
from award_jury.settings import Settings


async def prepare_jury_work(session: AsyncSession, slug: str, organiser: Person) -> None:
    """Give the demo jurors something to do: every sheet of the bundle stands for an assignment
    (bundles carry sheets, not assignments); the best three of each category advance to the
    final, where every juror of the category is assigned, so the final's pitch day can be run."""
    award = await get_award(session, slug)
    first, final = award.rounds[0], award.rounds[1]
    pairs = await session.execute(
        sa.select(ScoreSheet.juror_id, ScoreSheet.entry_id).where(ScoreSheet.round_id == first.id)
    )
    session.add_all(Assignment(round_id=first.id, juror_id=juror, entry_id=entry) for juror, entry in pairs)
    await session.flush()
    refs = {e.ref for c in await rank(session, award, first) for e in c.entries if e.rank is not None and e.rank <= 3}
    ids = (await session.execute(sa.select(Entry.id).where(Entry.award_id == award.id, Entry.ref.in_(refs)))).scalars()
    await assignments.advance_entries(session, award, first, final, list(ids), organiser)
    await assignments.apply_plan(session, award, final, assignments.MAX_K, organiser)


async def build_demo(db: Database, settings: Settings) -> list[tuple[str, str, str]]:
    """Migrate, import the demo award and set passwords; returns (role, e-mail, password) rows."""
    await upgrade(db)
    async with db.session() as session:
        award = await import_bundle(session, load_demo_bundle(), storage=storage_for(settings), actor_label="demo")
        name, email, password = ORGANISER
        organiser = await get_or_create_person(session, email, name, "de")
        organiser.password_hash = hash_password(password)
        await grant_role(session, organiser, Role.ORGANISER, None)
        await grant_role(session, organiser, Role.ORGANISER, award.id)
        open_call = await import_bundle(session, open_call_bundle(), actor_label="demo")
        await grant_role(session, organiser, Role.ORGANISER, open_call.id)
        for login_email, login_password in ((JUROR_EMAIL, JUROR_PASSWORD), (STARTUP_EMAIL, STARTUP_PASSWORD)):
            person = await find_person(session, login_email)
            if person is None:
                raise RuntimeError(f"the demo bundle has no person {login_email}")
            person.password_hash = hash_password(login_password)
        await prepare_jury_work(session, award.slug, organiser)
    return [
        ("organiser", email, password),
        ("juror", JUROR_EMAIL, JUROR_PASSWORD),
        ("startup", STARTUP_EMAIL, STARTUP_PASSWORD),
    ]
