"""The organiser's set-up of an award: the award itself, categories, rounds and criteria.

Every function validates its input completely (FormError with a message per field, nothing
changed) and writes an audit event with the state before and after."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.accounts.services import grant_role
from award_jury.audit.services import record_event
from award_jury.awards import validators as v
from award_jury.awards.branding import check_logo
from award_jury.awards.models import Award, Category, Criterion, Round, RubricLevel
from award_jury.consequences import Consequences
from award_jury.entries.models import Entry, EntryRound
from award_jury.entries.storage import Storage
from award_jury.enums import Method, Role, SheetStatus
from award_jury.errors import ConflictError, FormError, NotFoundError
from award_jury.i18n import gettext as _
from award_jury.i18n import ngettext, plain_number
from award_jury.judging.models import Assignment, JurorCategory, Score, ScoreSheet
from award_jury.ranking import queries as ranking

#: Award slugs that would collide with pages under /awards/.
RESERVED_SLUGS = frozenset({"new"})


def _check(errors: dict[str, str], field: str, message: str | None) -> None:
    if message and field not in errors:
        errors[field] = message


# ------------------------------------------------------------------ award


@dataclass
class AwardForm:
    name: str
    slug: str
    locale: str
    time_zone: str
    description: str
    primary_color: str

    def validate(self, *, creating: bool) -> dict[str, str]:
        errors: dict[str, str] = {}
        _check(errors, "name", v.required_text(self.name))
        if creating:
            _check(errors, "slug", v.slug_problem(self.slug))
            if self.slug in RESERVED_SLUGS:
                errors.setdefault("slug", _("This address is reserved. Choose another one."))
        if self.locale not in ("de", "en"):
            errors["locale"] = _("Choose German or English.")
        _check(errors, "time_zone", v.time_zone_problem(self.time_zone))
        if len(self.description) > 20_000:
            errors["description"] = _("Use at most %(n)d characters.") % {"n": 20_000}
        _check(errors, "primary_color", v.colour_problem(self.primary_color))
        return errors

    def snapshot(self) -> dict[str, Any]:
        return dict(self.__dict__)


def award_snapshot(award: Award) -> dict[str, Any]:
    return {
        "name": award.name,
        "slug": award.slug,
        "locale": award.locale,
        "time_zone": award.time_zone,
        "description": award.description,
        "primary_color": award.primary_color or "",
    }


async def create_award(session: AsyncSession, form: AwardForm, creator: Person) -> Award:
    errors = form.validate(creating=True)
    if not errors and (await session.execute(sa.select(Award.id).where(Award.slug == form.slug))).first():
        errors["slug"] = _("Another award has this address already.")
    if errors:
        raise FormError(errors)
    award = Award(
        name=form.name,
        slug=form.slug,
        locale=form.locale,
        time_zone=form.time_zone,
        description=form.description,
        primary_color=form.primary_color or None,
    )
    session.add(award)
    await session.flush()
    await grant_role(session, creator, Role.ORGANISER, award.id)
    record_event(
        session,
        "award.created",
        actor_id=creator.id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        after=form.snapshot(),
    )
    return award


async def update_award(session: AsyncSession, award: Award, form: AwardForm, actor: Person) -> None:
    errors = form.validate(creating=False)
    if errors:
        raise FormError(errors)
    before = award_snapshot(award)
    award.name, award.locale, award.time_zone = form.name, form.locale, form.time_zone
    award.description, award.primary_color = form.description, form.primary_color or None
    record_event(
        session,
        "award.updated",
        actor_id=actor.id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        before=before,
        after=award_snapshot(award),
    )


# ------------------------------------------------------------------ categories


async def save_category(
    session: AsyncSession,
    award: Award,
    actor: Person,
    *,
    name: str,
    description: str,
    prizes: str,
    category: Category | None = None,
) -> Category:
    errors: dict[str, str] = {}
    _check(errors, "name", v.required_text(name))
    count, problem = v.parse_int(prizes, 0, 100)
    _check(errors, "prizes", problem)
    slug = category.slug if category else v.slugify(name)
    if not errors:
        others = [c for c in award.categories if c is not category]
        if not slug:
            errors["name"] = _("Use at least one letter or digit.")
        elif any(c.name.casefold() == name.casefold() or (category is None and c.slug == slug) for c in others):
            errors["name"] = _("There is a category with this name already.")
    if errors:
        raise FormError(errors)
    assert count is not None
    before = None if category is None else {"name": category.name, "prizes": category.prizes}
    if category is None:
        category = Category(award_id=award.id, slug=slug, position=len(award.categories))
        award.categories.append(category)
    category.name, category.description, category.prizes = name, description[:5000], count
    await session.flush()
    record_event(
        session,
        "category.saved",
        actor_id=actor.id,
        award_id=award.id,
        object_type="category",
        object_id=category.id,
        before=before,
        after={"name": name, "prizes": count},
    )
    return category


async def _count(session: AsyncSession, query: Any) -> int:
    return int((await session.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one())


async def delete_category_check(session: AsyncSession, award: Award, category: Category) -> Consequences:
    """What deleting ``category`` would change: refused while it has entries; its juror links go."""
    entries = await _count(session, sa.select(Entry.id).where(Entry.category_id == category.id))
    jurors = await _count(session, sa.select(JurorCategory.id).where(JurorCategory.category_id == category.id))
    check = Consequences(
        numbers={"category": category.id, "entries": entries, "jurors": jurors, "prizes": category.prizes}
    )
    check.facts.append(
        ngettext(
            "The category %(name)s with its %(num)d prize is deleted.",
            "The category %(name)s with its %(num)d prizes is deleted.",
            category.prizes,
        )
        % {"name": category.name, "num": category.prizes}
    )
    check.facts.append(
        ngettext("%(num)d entry is in this category.", "%(num)d entries are in this category.", entries)
        % {"num": entries}
    )
    check.facts.append(
        ngettext(
            "%(num)d juror no longer judges this category; their other categories stay.",
            "%(num)d jurors no longer judge this category; their other categories stay.",
            jurors,
        )
        % {"num": jurors}
    )
    if entries:
        check.refusals.append(_("This category has entries and cannot be deleted."))
    return check


async def delete_category(
    session: AsyncSession, award: Award, category: Category, actor: Person, *, state: str | None = None
) -> None:
    """Delete after :func:`delete_category_check` allows it (``state``: the confirmation page's)."""
    (await delete_category_check(session, award, category)).require(state=state, override_reason="")
    award.categories.remove(category)
    await session.delete(category)
    record_event(
        session,
        "category.deleted",
        actor_id=actor.id,
        award_id=award.id,
        object_type="category",
        object_id=category.id,
        before={"name": category.name},
    )


def find_category(award: Award, category_id: int) -> Category:
    for category in award.categories:
        if category.id == category_id:
            return category
    raise NotFoundError("category")


# ------------------------------------------------------------------ rounds


@dataclass
class RoundForm:
    name: str
    submissions_open: str
    submissions_close: str
    scoring_close: str
    method: str
    min_sheets: str
    results_visible_to_jurors: bool


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def round_snapshot(rnd: Round) -> dict[str, Any]:
    return {
        "name": rnd.name,
        "method": rnd.method.value,
        "min_sheets": rnd.min_sheets,
        "submissions_open": _utc(rnd.submissions_open),
        "submissions_close": _utc(rnd.submissions_close),
        "scoring_close": _utc(rnd.scoring_close),
        "results_visible_to_jurors": rnd.results_visible_to_jurors,
    }


async def save_round(
    session: AsyncSession, award: Award, form: RoundForm, actor: Person, rnd: Round | None = None
) -> Round:
    errors: dict[str, str] = {}
    _check(errors, "name", v.required_text(form.name))
    times: dict[str, datetime | None] = {}
    for field in ("submissions_open", "submissions_close", "scoring_close"):
        times[field], problem = v.parse_local_datetime(getattr(form, field), award.time_zone)
        _check(errors, field, problem)
    opened, closed, scoring = times["submissions_open"], times["submissions_close"], times["scoring_close"]
    if (opened is None) != (closed is None):
        errors.setdefault("submissions_close", _("Give both the opening and the closing of submissions, or neither."))
    if opened and closed and opened >= closed:
        errors.setdefault("submissions_close", _("Submissions must close after they open."))
    if closed and scoring and scoring < closed:
        errors.setdefault("scoring_close", _("Scoring cannot end before submissions close."))
    if form.method not in [m.value for m in Method]:
        errors["method"] = _("Choose a method.")
    min_sheets, problem = v.parse_int(form.min_sheets, 0, 1000)
    _check(errors, "min_sheets", problem)
    slug = rnd.slug if rnd else v.slugify(form.name)
    if "name" not in errors:
        others = [r for r in award.rounds if r is not rnd]
        if not slug:
            errors["name"] = _("Use at least one letter or digit.")
        elif any(r.name.casefold() == form.name.casefold() or (rnd is None and r.slug == slug) for r in others):
            errors["name"] = _("There is a round with this name already.")
    if errors:
        raise FormError(errors)
    assert min_sheets is not None
    before = None if rnd is None else round_snapshot(rnd)
    if rnd is None:
        rnd = Round(award_id=award.id, slug=slug, position=len(award.rounds))
        award.rounds.append(rnd)
    rnd.name, rnd.method, rnd.min_sheets = form.name, Method(form.method), min_sheets
    rnd.submissions_open, rnd.submissions_close, rnd.scoring_close = opened, closed, scoring
    rnd.results_visible_to_jurors = form.results_visible_to_jurors
    await session.flush()
    record_event(
        session,
        "round.saved",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        before=before,
        after=round_snapshot(rnd),
    )
    return rnd


async def round_is_locked(session: AsyncSession, round_id: int) -> bool:
    """Once a sheet of the round is submitted, its scales and its set of criteria are fixed."""
    found = await session.execute(
        sa.select(ScoreSheet.id)
        .where(ScoreSheet.round_id == round_id, ScoreSheet.status == SheetStatus.SUBMITTED)
        .limit(1)
    )
    return found.first() is not None


async def delete_round_check(session: AsyncSession, award: Award, rnd: Round) -> Consequences:
    """What deleting ``rnd`` would change: refused while entries take part or sheets exist."""
    entries = await _count(session, sa.select(EntryRound.id).where(EntryRound.round_id == rnd.id))
    sheets = await _count(session, sa.select(ScoreSheet.id).where(ScoreSheet.round_id == rnd.id))
    assigned = await _count(session, sa.select(Assignment.id).where(Assignment.round_id == rnd.id))
    criteria = len(rnd.criteria)
    check = Consequences(
        numbers={"round": rnd.id, "entries": entries, "sheets": sheets, "assignments": assigned, "criteria": criteria}
    )
    check.facts.append(
        ngettext(
            "The round %(name)s and its %(num)d criterion are deleted.",
            "The round %(name)s and its %(num)d criteria are deleted.",
            criteria,
        )
        % {"name": rnd.name, "num": criteria}
    )
    check.facts.append(
        ngettext("%(num)d entry takes part in this round.", "%(num)d entries take part in this round.", entries)
        % {"num": entries}
    )
    check.facts.append(
        ngettext("%(num)d score sheet exists in this round.", "%(num)d score sheets exist in this round.", sheets)
        % {"num": sheets}
    )
    check.facts.append(
        ngettext("%(num)d assignment of a juror is removed.", "%(num)d assignments of jurors are removed.", assigned)
        % {"num": assigned}
    )
    if entries or sheets:
        check.refusals.append(_("This round has entries or score sheets and cannot be deleted."))
    return check


async def delete_round(
    session: AsyncSession, award: Award, rnd: Round, actor: Person, *, state: str | None = None
) -> None:
    """Delete after :func:`delete_round_check` allows it (``state``: the confirmation page's)."""
    (await delete_round_check(session, award, rnd)).require(state=state, override_reason="")
    award.rounds.remove(rnd)
    await session.delete(rnd)
    record_event(
        session,
        "round.deleted",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=rnd.id,
        before=round_snapshot(rnd),
    )


async def copy_sources(
    session: AsyncSession, rnd: Round, award_ids: Collection[int] | None
) -> list[tuple[Round, Award]]:
    """The rounds criteria can be copied from into ``rnd``: every other round of the awards
    ``award_ids`` (``None``: of every award), by award name and position."""
    query = sa.select(Round, Award).join(Award, Award.id == Round.award_id).where(Round.id != rnd.id)
    if award_ids is not None:
        query = query.where(Round.award_id.in_(list(award_ids)))
    return [(r, a) for r, a in await session.execute(query.order_by(Award.name, Round.position))]


def find_round(award: Award, slug: str) -> Round:
    for rnd in award.rounds:
        if rnd.slug == slug:
            return rnd
    raise NotFoundError("round")


# ------------------------------------------------------------------ criteria


@dataclass
class CriterionForm:
    name: str
    key: str
    description: str
    weight: str
    min_value: str
    max_value: str
    step: str
    levels: str


def criterion_snapshot(c: Criterion) -> dict[str, Any]:
    return {
        "key": c.key,
        "name": c.name,
        "weight": plain_number(c.weight),
        "min": plain_number(c.min_value),
        "max": plain_number(c.max_value),
        "step": plain_number(c.step),
    }


@dataclass(frozen=True)
class RankMove:
    category: str
    ref: str
    startup: str
    before: int | None
    after: int | None


class WeightChangeNeedsConfirmation(Exception):
    """A weight of a round with submitted sheets changes: show which ranks would move first."""

    def __init__(self, moves: list[RankMove], old: Decimal, new: Decimal) -> None:
        self.moves, self.old, self.new = moves, old, new
        super().__init__(f"{len(moves)} ranks would move")


async def rank_moves(session: AsyncSession, award: Award, rnd: Round, weights: dict[str, Decimal]) -> list[RankMove]:
    """Entries whose rank (or prize) would change if ``weights`` replaced the current ones."""
    names = {c.slug: c.name for c in award.categories}
    before = await ranking.rank(session, award, rnd)
    after = await ranking.rank(session, award, rnd, weights=weights)
    moves = []
    for old_cat, new_cat in zip(before, after, strict=True):
        old_rank = {e.ref: (e.rank, e.winner) for e in old_cat.entries}
        for entry in new_cat.entries:
            if old_rank.get(entry.ref) != (entry.rank, entry.winner):
                moves.append(
                    RankMove(
                        names.get(new_cat.category, new_cat.category),
                        entry.ref,
                        entry.startup,
                        old_rank.get(entry.ref, (None, False))[0],
                        entry.rank,
                    )
                )
    return moves


async def save_criterion(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    form: CriterionForm,
    actor: Person,
    criterion: Criterion | None = None,
    *,
    confirmed: bool = False,
) -> Criterion:
    errors: dict[str, str] = {}
    _check(errors, "name", v.required_text(form.name))
    key = criterion.key if criterion else (form.key or v.slugify(form.name, "_"))
    if criterion is None and (form.key or "name" not in errors):
        if key[:1].isdigit():
            key = f"c_{key}"
        _check(errors, "key", v.key_problem(key))
        if any(c.key == key for c in rnd.criteria):
            errors.setdefault("key", _("Another criterion of this round has this key."))
    if len(form.description) > 20_000:
        errors["description"] = _("Use at most %(n)d characters.") % {"n": 20_000}
    numbers: dict[str, Decimal | None] = {}
    for field in ("weight", "min_value", "max_value", "step"):
        numbers[field], problem = v.parse_decimal(getattr(form, field))
        _check(errors, field, problem)
    weight, lo, hi, step = numbers["weight"], numbers["min_value"], numbers["max_value"], numbers["step"]
    if weight is not None and weight <= 0:
        errors.setdefault("weight", _("The weight must be greater than 0."))
    if lo is not None and hi is not None and step is not None:
        for field, message in v.scale_problems(lo, hi, step).items():
            errors.setdefault(field, message)
    levels, problem = v.parse_levels(form.levels, lo, hi)
    _check(errors, "levels", problem)
    if rnd.finalised_at is not None:
        errors["name"] = _("This round is finalised; its results can no longer change.")
    locked = await round_is_locked(session, rnd.id)
    if locked:
        if criterion is None:
            errors["name"] = _("Scores have been submitted in this round: its criteria can no longer change.")
        elif (lo, hi, step) != (criterion.min_value, criterion.max_value, criterion.step):
            errors.setdefault("min_value", _("Scores have been submitted in this round: its scales are fixed."))
        elif weight is not None and weight != criterion.weight and not errors and not confirmed:
            raise WeightChangeNeedsConfirmation(
                await rank_moves(session, award, rnd, {criterion.key: weight}), criterion.weight, weight
            )
    if errors:
        raise FormError(errors)
    assert weight is not None
    assert lo is not None
    assert hi is not None
    assert step is not None
    before = None if criterion is None else criterion_snapshot(criterion)
    moves = []
    if criterion is not None and locked and weight != criterion.weight:
        moves = [m.__dict__ for m in await rank_moves(session, award, rnd, {criterion.key: weight})]
    if criterion is None:
        criterion = Criterion(round_id=rnd.id, key=key, position=len(rnd.criteria))
        rnd.criteria.append(criterion)
    criterion.name, criterion.description = form.name, form.description
    criterion.weight, criterion.min_value, criterion.max_value, criterion.step = weight, lo, hi, step
    if criterion.levels:
        criterion.levels.clear()  # delete the old bands before inserting new ones (unique start)
        await session.flush()
    criterion.levels = [RubricLevel(min_value=a, max_value=b, text=t) for a, b, t in levels]
    await session.flush()
    after = criterion_snapshot(criterion) | ({"rank_moves": moves} if moves else {})
    record_event(
        session,
        "criterion.saved",
        actor_id=actor.id,
        award_id=award.id,
        object_type="criterion",
        object_id=criterion.id,
        before=before,
        after=after,
    )
    return criterion


async def delete_criterion_check(session: AsyncSession, award: Award, rnd: Round, criterion: Criterion) -> Consequences:
    """What deleting ``criterion`` would change: refused once a sheet of the round is submitted;
    the values given for it on draft sheets go with it."""
    drafts = await _count(session, sa.select(Score.id).where(Score.criterion_id == criterion.id))
    levels = await _count(session, sa.select(RubricLevel.id).where(RubricLevel.criterion_id == criterion.id))
    locked = await round_is_locked(session, rnd.id)
    check = Consequences(
        numbers={
            "criterion": criterion.id,
            "scores": drafts,
            "levels": levels,
            "locked": locked,
            "others": len(rnd.criteria) - 1,
        }
    )
    check.facts.append(
        _("The criterion %(name)s (weight %(weight)s) is deleted from the round %(round)s.")
        % {"name": criterion.name, "weight": plain_number(criterion.weight), "round": rnd.name}
    )
    if levels:
        check.facts.append(
            ngettext(
                "Its %(num)d band of what the values mean is deleted.",
                "Its %(num)d bands of what the values mean are deleted.",
                levels,
            )
            % {"num": levels}
        )
    check.facts.append(
        ngettext(
            "%(num)d value given for it on draft sheets is deleted.",
            "%(num)d values given for it on draft sheets are deleted.",
            drafts,
        )
        % {"num": drafts}
    )
    check.facts.append(
        ngettext(
            "%(num)d other criterion stays in this round.",
            "%(num)d other criteria stay in this round.",
            len(rnd.criteria) - 1,
        )
        % {"num": len(rnd.criteria) - 1}
    )
    if locked:
        check.refusals.append(_("Scores have been submitted in this round: its criteria can no longer change."))
    return check


async def delete_criterion(
    session: AsyncSession, award: Award, rnd: Round, criterion: Criterion, actor: Person, *, state: str | None = None
) -> None:
    """Delete after :func:`delete_criterion_check` allows it (``state``: the confirmation page's)."""
    (await delete_criterion_check(session, award, rnd, criterion)).require(state=state, override_reason="")
    rnd.criteria.remove(criterion)
    await session.delete(criterion)
    record_event(
        session,
        "criterion.deleted",
        actor_id=actor.id,
        award_id=award.id,
        object_type="criterion",
        object_id=criterion.id,
        before=criterion_snapshot(criterion),
    )


async def copy_criteria(session: AsyncSession, award: Award, target: Round, source_round_id: int, actor: Person) -> int:
    """Copy every criterion of another round (of any award the actor organises) that the target
    does not have yet (by key). Returns how many were copied."""
    if await round_is_locked(session, target.id):
        raise ConflictError(_("Scores have been submitted in this round: its criteria can no longer change."))
    source = (
        (
            await session.execute(
                sa.select(Criterion).where(Criterion.round_id == source_round_id).order_by(Criterion.position)
            )
        )
        .scalars()
        .all()
    )
    existing = {c.key for c in target.criteria}
    copied = 0
    for c in source:
        if c.key in existing:
            continue
        levels = list((await session.execute(sa.select(RubricLevel).where(RubricLevel.criterion_id == c.id))).scalars())
        target.criteria.append(
            Criterion(
                key=c.key,
                name=c.name,
                description=c.description,
                weight=c.weight,
                min_value=c.min_value,
                max_value=c.max_value,
                step=c.step,
                position=len(target.criteria),
                levels=[RubricLevel(min_value=lv.min_value, max_value=lv.max_value, text=lv.text) for lv in levels],
            )
        )
        copied += 1
    await session.flush()
    record_event(
        session,
        "criteria.copied",
        actor_id=actor.id,
        award_id=award.id,
        object_type="round",
        object_id=target.id,
        after={"from_round": source_round_id, "copied": copied},
    )
    return copied


def find_criterion(rnd: Round, key: str) -> Criterion:
    for c in rnd.criteria:
        if c.key == key:
            return c
    raise NotFoundError("criterion")


async def set_logo(session: AsyncSession, award: Award, data: bytes, storage: Storage, actor: Person) -> None:
    """Store a logo checked by its content (PNG, JPEG, or SVG stripped of anything active)."""
    checked = check_logo(data)
    if isinstance(checked, str):
        raise FormError(
            {
                "logo": {
                    "too_large": _("The logo may be at most 1 MB."),
                    "not_image": _("Upload a PNG, JPEG or SVG image."),
                    "bad_svg": _("This SVG file cannot be read. Save it again as plain SVG."),
                }[checked]
            }
        )
    _media_type, content = checked
    before = award.logo_key
    award.logo_key = await storage.put(content)
    record_event(
        session,
        "award.logo",
        actor_id=actor.id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        before={"logo": before},
        after={"logo": award.logo_key},
    )


async def remove_logo(session: AsyncSession, award: Award, actor: Person) -> None:
    if award.logo_key:
        record_event(
            session,
            "award.logo",
            actor_id=actor.id,
            award_id=award.id,
            object_type="award",
            object_id=award.id,
            before={"logo": award.logo_key},
            after={"logo": None},
        )
        award.logo_key = None
