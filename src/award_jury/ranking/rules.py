"""The rules for finalising and publishing a round, with their consequences in numbers
(:class:`~award_jury.consequences.Consequences`): the confirmation pages show them, the
services and the command line check them again before acting."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.awards.models import Award, Round
from award_jury.consequences import Consequences
from award_jury.db import utcnow
from award_jury.entries.models import Entry, EntryRound
from award_jury.enums import EntryStatus, SheetStatus
from award_jury.i18n import format_datetime, ngettext
from award_jury.i18n import gettext as _
from award_jury.judging.models import Assignment, ScoreSheet
from award_jury.ranking.compute import CategoryResult
from award_jury.ranking.models import ResultSnapshot


def _n(text: str, num: int, **values: object) -> str:
    """A plural message (already chosen by ``ngettext``) with its numbers filled in."""
    return text % {"num": num, **values}


def submissions_open(rnd: Round, now: datetime) -> bool:
    """The call of this round still takes entries (its deadline lies ahead)."""
    return rnd.submissions_close is not None and now <= rnd.submissions_close


def scoring_open(rnd: Round, now: datetime) -> bool:
    """Scoring is open until a deadline that lies ahead (:meth:`Round.scoring_open`, the one rule;
    a round without a deadline has no date to warn about)."""
    return rnd.scoring_close is not None and rnd.scoring_open(now)


async def _sheet_counts(session: AsyncSession, rnd: Round) -> tuple[int, int, int, int]:
    """Submitted sheets, drafts, assigned sheets not started, and jurors with a sheet, over the
    round's submitted entries."""
    taking_part = (
        sa.select(EntryRound.entry_id)
        .join(Entry, Entry.id == EntryRound.entry_id)
        .where(EntryRound.round_id == rnd.id, Entry.status == EntryStatus.SUBMITTED)
    )
    counts = dict(
        (
            await session.execute(
                sa.select(ScoreSheet.status, sa.func.count())
                .where(ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id.in_(taking_part))
                .group_by(ScoreSheet.status)
            )
        ).all()
    )
    not_started = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(Assignment)
            .where(
                Assignment.round_id == rnd.id,
                Assignment.entry_id.in_(taking_part),
                ~sa.exists().where(
                    ScoreSheet.round_id == rnd.id,
                    ScoreSheet.entry_id == Assignment.entry_id,
                    ScoreSheet.juror_id == Assignment.juror_id,
                ),
            )
        )
    ).scalar_one()
    jurors = (
        await session.execute(
            sa.select(sa.func.count(sa.distinct(ScoreSheet.juror_id))).where(ScoreSheet.round_id == rnd.id)
        )
    ).scalar_one()
    return counts.get(SheetStatus.SUBMITTED, 0), counts.get(SheetStatus.DRAFT, 0), not_started, jurors


async def finalise_check(
    session: AsyncSession, award: Award, rnd: Round, results: list[CategoryResult], now: datetime | None = None
) -> Consequences:
    """What finalising ``rnd`` now would do, what refuses it and what needs an override."""
    now = now or utcnow()
    tz = award.time_zone
    entries = [e for c in results for e in c.entries]
    winners = [e for e in entries if e.winner]
    below = [e for e in entries if e.status == "insufficient"]
    pending = [e.ref for e in entries if e.decision_needed]
    submitted, drafts, not_started, jurors = await _sheet_counts(session, rnd)
    check = Consequences(
        numbers={
            "entries": len(entries),
            "winners": len(winners),
            "below": len(below),
            "submitted": submitted,
            "drafts": drafts,
            "not_started": not_started,
            "pending": pending,
            "finalised": rnd.finalised_at is not None,
            "call_open": submissions_open(rnd, now),
            "scoring_open": scoring_open(rnd, now),
        },
    )
    n_entries, n_winners, n_below, missing = len(entries), len(winners), len(below), drafts + not_started
    facts = check.facts
    facts.append(
        _n(
            ngettext(
                "%(num)d entry takes part in this round; its result is frozen with a fingerprint.",
                "%(num)d entries take part in this round; their results are frozen with a fingerprint.",
                n_entries,
            ),
            n_entries,
        )
    )
    facts.append(_n(ngettext("%(num)d entry wins a prize.", "%(num)d entries win a prize.", n_winners), n_winners))
    facts.append(
        _n(
            ngettext(
                "%(num)d score sheet is submitted and counts.",
                "%(num)d score sheets are submitted and count.",
                submitted,
            ),
            submitted,
        )
    )
    if drafts:
        facts.append(
            _n(
                ngettext(
                    "%(num)d sheet is still a draft and will not count.",
                    "%(num)d sheets are still drafts and will not count.",
                    drafts,
                ),
                drafts,
            )
        )
    if not_started:
        facts.append(
            _n(
                ngettext(
                    "%(num)d assigned sheet is not started.", "%(num)d assigned sheets are not started.", not_started
                ),
                not_started,
            )
        )
    if below:
        facts.append(
            _n(
                ngettext(
                    "%(num)d entry has fewer than %(min)d submitted sheets and gets no rank.",
                    "%(num)d entries have fewer than %(min)d submitted sheets and get no rank.",
                    n_below,
                ),
                n_below,
                min=rnd.min_sheets,
            )
        )
    facts.append(
        _n(
            ngettext(
                "The score sheets of %(num)d juror become read-only.",
                "The score sheets of %(num)d jurors become read-only.",
                jurors,
            ),
            jurors,
        )
    )
    if rnd.submissions_close is not None and not submissions_open(rnd, now):
        check.facts.append(
            _("The call for entries closed on %(date)s.") % {"date": format_datetime(rnd.submissions_close, tz)}
        )
    if rnd.finalised_at is not None:
        check.refusals.append(_("This round is finalised already."))
    if pending:
        check.refusals.append(_("A tie needs a decision first: %(refs)s.") % {"refs": ", ".join(pending)})
    if submissions_open(rnd, now):
        check.refusals.append(
            _(
                "The call for entries is open until %(date)s: finalising now would close it and lock the startups' "
                "entries. Finalise the round after the deadline."
            )
            % {"date": format_datetime(rnd.submissions_close, tz)}
        )
    if scoring_open(rnd, now):
        check.warnings.append(
            _("Scoring is open until %(date)s: jurors can still submit and change sheets.")
            % {"date": format_datetime(rnd.scoring_close, tz)}
        )
    if missing:
        check.warnings.append(
            _n(
                ngettext(
                    "%(num)d score sheet is missing (drafts and sheets not started).",
                    "%(num)d score sheets are missing (drafts and sheets not started).",
                    missing,
                ),
                missing,
            )
        )
    if below:
        check.warnings.append(
            _n(
                ngettext(
                    "%(num)d entry has too few sheets for a rank.",
                    "%(num)d entries have too few sheets for a rank.",
                    n_below,
                ),
                n_below,
            )
        )
    return check


def publish_check(
    award: Award, rnd: Round, snapshot: ResultSnapshot | None, recomputed_sha256: str | None
) -> Consequences:
    """What publishing ``rnd`` would do: from its frozen results (the snapshot)."""
    categories = snapshot.payload.get("categories", []) if snapshot else []
    entries = [e for c in categories for e in c.get("entries", [])]
    winners = [e for e in entries if e.get("winner")]
    check = Consequences(
        numbers={
            "entries": len(entries),
            "winners": len(winners),
            "finalised": snapshot is not None,
            "published": rnd.published_at is not None,
            "matches": snapshot is not None and recomputed_sha256 == snapshot.sha256,
            "jurors_see": rnd.results_visible_to_jurors,
        },
    )
    n_winners, n_entries = len(winners), len(entries)
    check.facts.append(
        _n(
            ngettext(
                "The award's public results page names %(num)d winner.",
                "The award's public results page names %(num)d winners.",
                n_winners,
            ),
            n_winners,
        )
    )
    check.facts.append(
        _n(
            ngettext(
                "%(num)d startup sees its result on its status page.",
                "%(num)d startups see their result on their status pages.",
                n_entries,
            ),
            n_entries,
        )
    )
    check.facts.append(
        _("The award's jurors can see the frozen ranking of this round.")
        if rnd.results_visible_to_jurors
        else _("The award's jurors do not see the ranking (the round's setting).")
    )
    check.facts.append(_("Publishing cannot be undone."))
    if snapshot is None or rnd.finalised_at is None:
        check.refusals.append(_("Finalise the round before publishing it."))
    elif rnd.published_at is not None:
        check.refusals.append(_("The results are published already."))
    elif recomputed_sha256 != snapshot.sha256:
        check.warnings.append(
            _(
                "Recomputing from the score sheets gives a different fingerprint than the frozen results: the sheets "
                "or the set-up changed after finalisation. The frozen results would be published."
            )
        )
    return check
