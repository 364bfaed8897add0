"""Account services: creating people and granting roles, one's own account, who is in an award."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury.accounts.models import AwardRole, Invitation, Person
from award_jury.accounts.passwords import hash_password_async, password_problem
from award_jury.accounts.sessions import end_all_sessions
from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.audit.services import record_event
from award_jury.awards.models import Award, Category
from award_jury.enums import Role
from award_jury.errors import ConflictError, FormError, ValidationError
from award_jury.i18n import gettext as _
from award_jury.judging.models import JurorCategory
from award_jury.settings import SUPPORTED_LOCALES


async def find_person(session: AsyncSession, email: str) -> Person | None:
    return (await session.execute(sa.select(Person).where(Person.email == normalise_email(email)))).scalar_one_or_none()


async def get_or_create_person(session: AsyncSession, email: str, name: str, locale: str = "de") -> Person:
    person = await find_person(session, email)
    if person is None:
        person = Person(email=normalise_email(email), name=name.strip(), locale=locale)
        session.add(person)
        await session.flush()
    return person


async def grant_role(session: AsyncSession, person: Person, role: Role, award_id: int | None) -> AwardRole:
    existing = (
        await session.execute(
            sa.select(AwardRole).where(
                AwardRole.person_id == person.id,
                AwardRole.role == role,
                AwardRole.award_id.is_(None) if award_id is None else AwardRole.award_id == award_id,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    grant = AwardRole(person_id=person.id, award_id=award_id, role=role)
    session.add(grant)
    await session.flush()
    return grant


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    locale: str = "de",
    actor_label: str = "cli",
) -> Person:
    """Create an account with a platform-wide role (the first organiser, say)."""
    problems = []
    if not is_valid_email(normalise_email(email)):
        problems.append(f"email: {email!r} is not a valid e-mail address")
    if not name.strip():
        problems.append("name: must not be empty")
    if password is not None and (why := password_problem(password)):
        problems.append(f"password: {why}")
    if problems:
        raise ValidationError(problems, f"the account details have {len(problems)} problem(s)")
    if await find_person(session, email) is not None:
        raise ConflictError(f"an account with the e-mail address {normalise_email(email)} exists already")
    person = Person(
        email=normalise_email(email),
        name=name.strip(),
        locale=locale,
        password_hash=await hash_password_async(password) if password else None,
    )
    session.add(person)
    await session.flush()
    await grant_role(session, person, role, None)
    record_event(
        session,
        "account.created",
        actor_label=actor_label,
        object_type="person",
        object_id=person.id,
        after={"email": person.email, "role": role.value},
    )
    return person


async def disable_person(
    session: AsyncSession, person: Person, *, actor_id: int | None = None, actor_label: str = ""
) -> None:
    """Disable an account: it can no longer sign in, and every session of it ends now."""
    person.is_active = False
    ended = await end_all_sessions(session, person.id)
    record_event(
        session,
        "account.disabled",
        actor_id=actor_id,
        actor_label=actor_label,
        object_type="person",
        object_id=person.id,
        after={"sessions_ended": ended},
    )
    await session.flush()


async def awards_of(session: AsyncSession, person_id: int) -> list[tuple[Award, list[str]]]:
    """Every award the person has a role in, with those roles (for the account page)."""
    rows = (
        await session.execute(
            sa.select(Award, AwardRole.role)
            .join(AwardRole, AwardRole.award_id == Award.id)
            .where(AwardRole.person_id == person_id)
            .options(selectinload(Award.rounds))
            .order_by(Award.name, AwardRole.role)
        )
    ).all()
    grouped: dict[int, tuple[Award, list[str]]] = {}
    for award, role in rows:
        grouped.setdefault(award.id, (award, []))[1].append(role.value)
    return list(grouped.values())


async def update_account(session: AsyncSession, person: Person, *, name: str, locale: str, organisation: str) -> None:
    """Change the person's own name, language and organisation (recorded before/after).
    FormError with a message per field when a value is not acceptable."""
    errors: dict[str, str] = {}
    if len(organisation) > 200:
        errors["organisation"] = _("Use at most 200 characters.")
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > 200:
        errors["name"] = _("Use at most 200 characters.")
    if locale not in SUPPORTED_LOCALES:
        errors["locale"] = _("Choose German or English.")
    if errors:
        raise FormError(errors)
    before = {"name": person.name, "locale": person.locale, "organisation": person.organisation}
    person.name, person.locale, person.organisation = name, locale, organisation
    record_event(
        session,
        "account.updated",
        actor_id=person.id,
        object_type="person",
        object_id=person.id,
        before=before,
        after={"name": name, "locale": locale, "organisation": organisation},
    )


@dataclass(frozen=True)
class AwardPeople:
    """Everyone in an award: people by role, each juror's categories, the invitations (newest first)."""

    by_role: dict[str, list[Person]]
    categories_of: dict[int, list[str]]
    invitations: list[Any]  # (Invitation, Person) rows


async def people_of_award(session: AsyncSession, award: Award) -> AwardPeople:
    """Everything the people page shows, in a fixed number of queries."""
    members = (
        await session.execute(
            sa.select(Person, AwardRole.role)
            .join(AwardRole, AwardRole.person_id == Person.id)
            .where(AwardRole.award_id == award.id)
            .order_by(Person.name)
        )
    ).all()
    categories_of: dict[int, list[str]] = {}
    for person_id, name in await session.execute(
        sa.select(JurorCategory.person_id, Category.name)
        .join(Category, Category.id == JurorCategory.category_id)
        .where(Category.award_id == award.id)
        .order_by(Category.position)
    ):
        categories_of.setdefault(person_id, []).append(name)
    invites = (
        await session.execute(
            sa.select(Invitation, Person)
            .join(Person, Person.id == Invitation.person_id)
            .where(Invitation.award_id == award.id)
            .order_by(Invitation.created_at.desc())
        )
    ).all()
    by_role: dict[str, list[Person]] = {r.value: [] for r in Role}
    for person, role in members:
        by_role[role.value].append(person)
    return AwardPeople(by_role=by_role, categories_of=categories_of, invitations=list(invites))
