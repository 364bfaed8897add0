"""What the API shows of the domain's objects: plain conversions to the response Structs, and the
opaque cursors of paginated lists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from award_jury.awards.models import Award, Round
from award_jury.awards.services import summarise
from award_jury.certificates.models import Certificate
from award_jury.certificates.services import Verification
from award_jury.entries.models import Entry
from award_jury.i18n import plain_number
from award_jury.judging import sheets
from award_jury.judging.dashboard import DashboardEntry
from award_jury.urls import absolute_url
from award_jury.web.api import schemas
from award_jury.web.api.problems import bad_input

T = TypeVar("T")


# -- cursors --------------------------------------------------------------------------------


def encode_cursor(key: str) -> str:
    """An opaque cursor: the last key of a page, base64url (clients must not build their own)."""
    return base64.urlsafe_b64encode(msgspec.json.encode({"after": key})).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key after which the next page starts ("" for the first page); 400 for a cursor we did not make."""
    if not cursor:
        return ""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = msgspec.json.decode(raw, type=dict[str, str])["after"]
    except (binascii.Error, ValueError, KeyError, msgspec.DecodeError, msgspec.ValidationError):
        raise bad_input("cursor", "Not a cursor of this API: use the 'next' of a previous page.") from None
    return after


def page(items: Sequence[T], key: Callable[[T], str], cursor: str, limit: int) -> tuple[list[T], str | None]:
    """The page after ``cursor`` of ``items`` (sorted by ``key``), and the next page's cursor."""
    after = decode_cursor(cursor)
    rest = [item for item in items if key(item) > after] if after else list(items)
    chosen = rest[:limit]
    return chosen, encode_cursor(key(chosen[-1])) if len(rest) > limit else None


# -- conversions ----------------------------------------------------------------------------


def award_summary(award: Award, now: datetime, base_url: str) -> schemas.AwardSummaryOut:
    return schemas.AwardSummaryOut(
        slug=award.slug,
        name=award.name,
        locale=award.locale,
        phase=summarise(award, now).phase,
        url=absolute_url(base_url, "awards.detail", slug=award.slug),
    )


def round_out(rnd: Round) -> schemas.RoundOut:
    return schemas.RoundOut(
        slug=rnd.slug,
        name=rnd.name,
        submissions_open=rnd.submissions_open,
        submissions_close=rnd.submissions_close,
        scoring_close=rnd.scoring_close,
        method=rnd.method.value,
        min_sheets=rnd.min_sheets,
        published_at=rnd.published_at,
    )


def award_out(award: Award, now: datetime, base_url: str) -> schemas.AwardOut:
    return schemas.AwardOut(
        slug=award.slug,
        name=award.name,
        locale=award.locale,
        time_zone=award.time_zone,
        description=award.description,
        phase=summarise(award, now).phase,
        categories=[schemas.CategoryOut(slug=c.slug, name=c.name, prizes=c.prizes) for c in award.categories],
        rounds=[round_out(r) for r in award.rounds],
        url=absolute_url(base_url, "awards.detail", slug=award.slug),
    )


def entry_out(entry: Entry, award_slug: str, base_url: str) -> schemas.EntryOut:
    s = entry.startup
    return schemas.EntryOut(
        id=entry.id,
        award=award_slug,
        ref=entry.ref,
        category=entry.category.slug,
        status=entry.status.value,
        title=entry.title,
        startup=schemas.StartupOut(
            name=s.name,
            legal_form=s.legal_form,
            city=s.city,
            founded=s.founded,
            employees=s.employees,
            website=s.website,
        ),
        contact_name=entry.contact_name,
        contact_email=entry.contact_email,
        pitch=entry.pitch,
        problem=entry.problem,
        solution=entry.solution,
        benefit=entry.benefit,
        stage=entry.stage,
        video_url=entry.video_url,
        submitted_at=entry.submitted_at,
        rounds=[er.round.slug for er in sorted(entry.rounds, key=lambda er: er.round.position)],
        attachments=[
            schemas.AttachmentOut(name=a.name, size=a.size, media_type=a.media_type, sha256=a.sha256)
            for a in entry.attachments
        ],
        version=entry.version,
        url=absolute_url(base_url, "entries.detail", entry_id=entry.id),
    )


def sheet_summary(item: DashboardEntry, category: str) -> schemas.SheetSummaryOut:
    return schemas.SheetSummaryOut(
        ref=item.ref,
        title=item.title,
        startup=item.startup,
        category=category,
        state=item.state,
        assigned=item.assigned,
        scored=item.scored,
        updated_at=item.updated_at,
    )


def sheet_state(snapshot: sheets.SheetSnapshot, rnd: Round | None = None) -> schemas.SheetState:
    total = sheets.total_of(rnd, snapshot.scores) if rnd is not None else None
    return schemas.SheetState(
        version=snapshot.version,
        status=snapshot.status.value,
        scores={k: plain_number(v) for k, v in sorted(snapshot.scores.items())},
        comment=snapshot.comment,
        private_note=snapshot.private_note,
        total=None if total is None else round(total, 4),
        submitted_at=snapshot.submitted_at,
        updated_at=snapshot.updated_at,
    )


def sheet_out(award: Award, rnd: Round, access: sheets.SheetAccess, snapshot: sheets.SheetSnapshot) -> schemas.SheetOut:
    entry = access.entry
    return schemas.SheetOut(
        award=award.slug,
        round=rnd.slug,
        ref=entry.ref,
        title=entry.title,
        startup=entry.startup.full_name,
        category=entry.category.slug,
        read_only=access.read_only,
        criteria=[
            schemas.CriterionOut(
                key=c.key,
                name=c.name,
                weight=plain_number(c.weight),
                min=plain_number(c.min_value),
                max=plain_number(c.max_value),
                step=plain_number(c.step),
            )
            for c in rnd.criteria
        ],
        sheet=sheet_state(snapshot, rnd),
    )


def sheet_input(rnd: Round, data: schemas.SheetWrite) -> sheets.SheetInput:
    """The body as the sheet service takes it (what the page's form sends); unknown criteria are refused."""
    keys = {c.key for c in rnd.criteria}
    unknown = sorted(set(data.scores) - keys)
    if unknown:
        raise bad_input(f"scores.{unknown[0]}", "This round has no criterion with this key.", status=422)
    return sheets.SheetInput(
        scores={k: score_text(v) for k, v in data.scores.items()},
        comment=data.comment,
        private_note=data.private_note,
    )


def score_text(value: str | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def certificate_out(cert: Certificate, base_url: str) -> schemas.CertificateOut:
    return schemas.CertificateOut(
        code=cert.code,
        kind=cert.kind.value,
        round=cert.round.slug,
        rank=cert.rank,
        issued_at=cert.issued_at,
        revoked_at=cert.revoked_at,
        verify_url=absolute_url(base_url, "verify.code", code=cert.code),
    )


def verification_out(found: Verification) -> schemas.VerificationOut:
    return schemas.VerificationOut(
        code=found.code,
        award=found.award.slug,
        award_name=found.award.name,
        round=found.round.slug,
        round_name=found.round.name,
        category=found.category,
        kind=found.kind.value,
        startup=found.startup,
        rank=found.rank,
        issued_at=found.issued_at,
        valid=found.revoked_at is None,
        revoked_at=found.revoked_at,
    )


def results_out(doc: dict[str, Any]) -> schemas.ResultsOut:
    return msgspec.convert(doc, schemas.ResultsOut)
