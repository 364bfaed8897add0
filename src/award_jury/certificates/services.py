"""Certificates: who earns which (from the finalised round's snapshot), issuing with codes that
survive reissues, the plain-value contexts for the renderer, settings, revocation, verification."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import segno
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from award_jury import i18n
from award_jury.audit.services import record_event
from award_jury.awards.branding import DEFAULT_BRAND, sniff_image, text_on
from award_jury.awards.models import Award, Category, Round
from award_jury.certificates.codes import new_code, normalise_code
from award_jury.certificates.context import (
    KIND_ORDER,
    MAX_SIGNATORIES,
    ORIENTATIONS,
    CertificateContext,
    Earned,
    Signatory,
    earned_certificates,
    place_label,
    select_kind,
)
from award_jury.certificates.models import Certificate, CertificateSettings
from award_jury.certificates.render import DocumentMeta, TextTemplateError, missing_characters, render_text
from award_jury.consequences import Consequences
from award_jury.db import utcnow
from award_jury.entries.models import Entry, Startup
from award_jury.entries.storage import Storage
from award_jury.enums import CertificateKind, EntryStatus
from award_jury.errors import DomainError, FormError, NotFoundError
from award_jury.ranking.models import ResultSnapshot
from award_jury.ranking.services import ranked_document
from award_jury.urls import absolute_url
from award_jury.webhooks import services as webhooks

KINDS = ("winner", "finalist", "participant", "all")
MAX_SIGNATURE_BYTES = 512 * 1024
PREVIEW_CODE = "0000-0000-0000-0000"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def default_texts() -> dict[str, str]:
    """The texts a certificate carries until the organiser writes their own (current language)."""
    _ = i18n.gettext
    return {
        "winner": _("Chosen by the jury of the {{ award }} for an outstanding idea and its convincing realisation."),
        "finalist": _("For reaching the final of the {{ award }} with an entry that convinced the jury."),
        "participant": _("Thank you for taking part in the {{ award }} and for sharing your idea with the jury."),
    }


def award_lang(award: Award) -> str:
    return award.locale if award.locale in ("de", "en") else "de"


# -- settings ---------------------------------------------------------------------------------


async def get_settings(session: AsyncSession, award: Award) -> CertificateSettings:
    """The award's certificate settings (defaults, not yet stored, when there are none)."""
    found = (
        await session.execute(sa.select(CertificateSettings).where(CertificateSettings.award_id == award.id))
    ).scalar_one_or_none()
    return found or CertificateSettings(
        award_id=award.id, orientation="landscape", place_name="", signatories=[], texts={}
    )


@dataclass
class SignatoryInput:
    name: str
    role: str
    #: New PNG bytes, or None to keep the stored signature.
    upload: bytes | None = None
    remove: bool = False


def check_signature(data: bytes) -> str | None:
    """A problem with an uploaded signature (by content, never by name), or None."""
    if len(data) > MAX_SIGNATURE_BYTES:
        return i18n.gettext("A signature image may be at most 512 KB.")
    if sniff_image(data) != "image/png" or len(data) < 33 or data[12:16] != b"IHDR":
        return i18n.gettext("The signature must be a PNG image.")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not (0 < width <= 4000 and 0 < height <= 4000):
        return i18n.gettext("The signature must be a PNG image.")
    return None


async def save_settings(
    session: AsyncSession,
    award: Award,
    actor_id: int,
    storage: Storage,
    *,
    orientation: str,
    place_name: str,
    signatories: Sequence[SignatoryInput],
    texts: dict[str, str],
) -> CertificateSettings:
    """Check everything first (texts must render in the sandbox, signatures must be PNG), then store."""
    _ = i18n.gettext
    errors: dict[str, str] = {}
    if orientation not in ORIENTATIONS:
        errors["orientation"] = _("Choose landscape or portrait.")
    if len(place_name) > 120:
        errors["place_name"] = _("At most 120 characters.")
    sample = {
        "award": award.name,
        "category": "Smart City",
        "startup": "Beispiel GmbH",
        "place": "1.",
        "round": "Finale",
        "date": "1.1.2026",
    }
    for kind, text in texts.items():
        if len(text) > 600:
            errors[f"text_{kind}"] = _("At most 600 characters.")
            continue
        try:
            render_text(text, sample)
        except TextTemplateError:
            errors[f"text_{kind}"] = _(
                "This text cannot be used. Write plain text; you may use {{ award }}, {{ category }}, "
                "{{ startup }}, {{ place }}, {{ round }} and {{ date }}."
            )
    for i, s in enumerate(signatories[:MAX_SIGNATORIES], start=1):
        if len(s.name) > 120 or len(s.role) > 120:
            errors[f"signatory{i}_name"] = _("At most 120 characters.")
        if s.upload is not None and (problem := check_signature(s.upload)):
            errors[f"signatory{i}_signature"] = problem
        if (s.role or s.upload) and not s.name:
            errors[f"signatory{i}_name"] = _("Enter the name of the person who signs.")
    if errors:
        raise FormError(errors)
    row = await get_settings(session, award)
    old = list(row.signatories or [])
    stored: list[dict[str, str]] = []
    for i, s in enumerate(signatories[:MAX_SIGNATORIES]):
        if not s.name:
            continue
        key = old[i].get("signature", "") if i < len(old) else ""
        if s.remove:
            key = ""
        if s.upload is not None:
            key = await storage.put(s.upload)
        stored.append({"name": s.name, "role": s.role, "signature": key})
    before = {
        "orientation": row.orientation,
        "place_name": row.place_name,
        "signatories": old,
        "texts": dict(row.texts or {}),
    }
    row.orientation, row.place_name, row.signatories = orientation, place_name, stored
    row.texts = {k: v for k, v in texts.items() if k in ("winner", "finalist", "participant") and v.strip()}
    session.add(row)
    await session.flush()
    after = {"orientation": orientation, "place_name": place_name, "signatories": stored, "texts": row.texts}
    record_event(
        session,
        "certificates.settings",
        actor_id=actor_id,
        award_id=award.id,
        object_type="award",
        object_id=award.id,
        before=before,
        after=after,
    )
    return row


# -- who earns what ---------------------------------------------------------------------------


async def round_document(session: AsyncSession, award: Award, rnd: Round) -> tuple[dict[str, Any], bool]:
    """The round's results: the frozen snapshot when finalised (True), else the live ranking
    (for previews only)."""
    snapshot = (
        await session.execute(sa.select(ResultSnapshot).where(ResultSnapshot.round_id == rnd.id))
    ).scalar_one_or_none()
    if snapshot is not None:
        return snapshot.payload, True
    _results, document = await ranked_document(session, award, rnd)
    return document, False


@dataclass(frozen=True)
class EntryInfo:
    id: int
    ref: str
    startup: str
    category: str


async def entries_by_ref(session: AsyncSession, award: Award) -> dict[str, EntryInfo]:
    """The award's submitted entries (withdrawn or disqualified ones get no certificate)."""
    rows = await session.execute(
        sa.select(Entry.id, Entry.ref, Startup.name, Category.name)
        .join(Startup, Startup.id == Entry.startup_id)
        .join(Category, Category.id == Entry.category_id)
        .where(Entry.award_id == award.id, Entry.status == EntryStatus.SUBMITTED)
    )
    return {ref: EntryInfo(eid, ref, startup, category) for eid, ref, startup, category in rows}


async def earned_in_round(
    session: AsyncSession, award: Award, rnd: Round, kind: str = "all"
) -> tuple[list[Earned], bool]:
    document, final = await round_document(session, award, rnd)
    first = bool(award.rounds) and award.rounds[0].id == rnd.id
    entries = await entries_by_ref(session, award)
    earned = [e for e in earned_certificates(document, first_round=first) if e.ref in entries]
    return select_kind(earned, kind), final


async def issue_certificates(
    session: AsyncSession, award: Award, rnd: Round, kind: str, actor_id: int | None, actor_label: str = ""
) -> list[Certificate]:
    """The certificates of a finalised round (of one kind, or all), issuing codes for new ones.
    Reissuing for the same entry, round and kind keeps the code. Revoked ones are left out."""
    if kind not in KINDS:
        raise DomainError(f"unknown kind {kind!r}; choose winner, finalist, participant or all")
    if rnd.finalised_at is None:
        raise DomainError(f"round {rnd.slug!r} is not finalised; finalise it before issuing certificates")
    earned, _final = await earned_in_round(session, award, rnd, kind)
    entries = await entries_by_ref(session, award)
    existing = {
        (c.entry_id, c.kind): c
        for c in (await session.execute(sa.select(Certificate).where(Certificate.round_id == rnd.id))).scalars()
    }
    issued: list[Certificate] = []
    new = 0
    events: list[dict[str, Any]] = []
    for e in earned:
        entry_id = entries[e.ref].id
        cert = existing.get((entry_id, e.kind))
        if cert is None:
            cert = await _insert_certificate(session, entry_id, rnd.id, e.kind, e.rank)
            new += 1
            events.append(
                {
                    "award": award.slug,
                    "round": rnd.slug,
                    "entry": e.ref,
                    "certificate_id": cert.id,
                    "kind": cert.kind.value,
                    "rank": cert.rank,
                }
            )
        elif cert.rank != e.rank:
            cert.rank = e.rank
        if cert.revoked_at is None:
            issued.append(cert)
    await session.flush()
    await webhooks.emit_many(session, award.id, "certificate.issued", events)
    if new:
        record_event(
            session,
            "certificates.issued",
            actor_id=actor_id,
            actor_label=actor_label,
            award_id=award.id,
            object_type="round",
            object_id=rnd.id,
            after={"kind": kind, "new": new},
        )
    return issued


async def _insert_certificate(
    session: AsyncSession, entry_id: int, round_id: int, kind: CertificateKind, rank: int | None
) -> Certificate:
    """A new certificate; when another request issued the same one a moment ago, that one."""
    for _attempt in range(3):
        cert = Certificate(
            code=new_code(), entry_id=entry_id, round_id=round_id, kind=kind, rank=rank, issued_at=utcnow()
        )
        try:
            async with session.begin_nested():
                session.add(cert)
                await session.flush()
            return cert
        except IntegrityError:
            found = (
                await session.execute(
                    sa.select(Certificate).where(
                        Certificate.entry_id == entry_id, Certificate.round_id == round_id, Certificate.kind == kind
                    )
                )
            ).scalar_one_or_none()
            if found is not None:
                return found
    raise DomainError("could not issue a unique certificate code")


async def certificates_of_round(session: AsyncSession, rnd: Round) -> list[tuple[Certificate, str, str]]:
    """Every certificate of a round with its entry's ref and startup, for the organisers' list."""
    rows = await session.execute(
        sa.select(Certificate, Entry.ref, Startup.name)
        .join(Entry, Entry.id == Certificate.entry_id)
        .join(Startup, Startup.id == Entry.startup_id)
        .where(Certificate.round_id == rnd.id)
        .order_by(Certificate.kind, Certificate.rank, Entry.ref)
    )
    return [(c, ref, name) for c, ref, name in rows]


# -- contexts ---------------------------------------------------------------------------------


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def qr_data_uri(url: str) -> str:
    uri: str = segno.make(url, error="m").svg_data_uri(border=0)
    return uri


@dataclass(frozen=True)
class Look:
    """What every certificate of an award shares (logo, colour, signatories, texts…)."""

    lang: str
    award: str
    colour: str
    logo: str
    signatories: tuple[Signatory, ...]
    texts: dict[str, str]
    orientation: str
    place_name: str
    time_zone: str


async def _small_file(storage: Storage, key: str | None) -> bytes | None:
    """A logo or signature (small), None when there is none or it is missing."""
    if not key:
        return None
    try:
        return await storage.get(key)
    except FileNotFoundError:
        return None


async def award_look(award: Award, row: CertificateSettings, storage: Storage) -> Look:
    colour = award.primary_color if award.primary_color and _HEX.match(award.primary_color) else DEFAULT_BRAND
    logo = ""
    if (data := await _small_file(storage, award.logo_key)) is not None:
        media_type = sniff_image(data)
        logo = data_uri(data, media_type) if media_type else ""
    signatories = []
    for s in (row.signatories or [])[:MAX_SIGNATORIES]:
        signature = ""
        if (image := await _small_file(storage, s.get("signature", ""))) is not None:
            signature = data_uri(image, "image/png")
        signatories.append(Signatory(s.get("name", ""), s.get("role", ""), signature))
    lang = award_lang(award)
    token = i18n.current_locale.set(lang)
    try:
        texts = default_texts() | dict(row.texts or {})
    finally:
        i18n.current_locale.reset(token)
    orientation = row.orientation if row.orientation in ORIENTATIONS else "landscape"
    return Look(lang, award.name, colour, logo, tuple(signatories), texts, orientation, row.place_name, award.time_zone)


def document_meta(look: Look, rnd: Round, kind: str) -> DocumentMeta:
    token = i18n.current_locale.set(look.lang)
    try:
        title = i18n.gettext("Certificates – %(award)s – %(round)s") % {"award": look.award, "round": rnd.name}
    finally:
        i18n.current_locale.reset(token)
    return DocumentMeta(title=title, author=look.award, lang=look.lang, orientation=look.orientation)


def build_context(
    look: Look, rnd: Round, earned: Earned, entry: EntryInfo, code: str, base_url: str, *, preview: bool = False
) -> CertificateContext:
    token = i18n.current_locale.set(look.lang)
    try:
        date = i18n.format_date(rnd.finalised_at or utcnow(), look.time_zone)
    finally:
        i18n.current_locale.reset(token)
    place = place_label(earned.rank, look.lang) if earned.kind is CertificateKind.WINNER and earned.rank else ""
    values = {
        "award": look.award,
        "category": entry.category,
        "startup": entry.startup,
        "place": place,
        "round": rnd.name,
        "date": date,
    }
    try:
        text = render_text(look.texts.get(earned.kind.value, ""), values)
    except TextTemplateError:
        text = ""
    verify_url = absolute_url(base_url, "verify.code", code=code)
    return CertificateContext(
        lang=look.lang,
        kind=earned.kind.value,
        award=look.award,
        category=entry.category,
        startup=entry.startup,
        round=rnd.name,
        place=place,
        text=text,
        date_line=f"{look.place_name}, {date}" if look.place_name else date,
        code=code,
        verify_url=verify_url,
        qr=qr_data_uri(verify_url),
        colour=look.colour,
        colour_text=text_on(look.colour),
        logo=look.logo,
        signatories=look.signatories,
        orientation=look.orientation,
        preview=preview,
    )


def glyph_warnings(ctx: CertificateContext) -> list[str]:
    """Characters of a certificate that its fonts cannot show (the preview warns about them)."""
    serif = missing_characters(" ".join([ctx.startup, ctx.award, ctx.text]), "serif")
    sans = missing_characters(
        " ".join([ctx.category, ctx.round, ctx.date_line, *(s.name + " " + s.role for s in ctx.signatories)]), "sans"
    )
    return list(dict.fromkeys(serif + sans))


async def issued_contexts(
    session: AsyncSession,
    award: Award,
    rnd: Round,
    kind: str,
    certificates: Sequence[Certificate],
    storage: Storage,
    base_url: str,
) -> tuple[list[CertificateContext], DocumentMeta]:
    """Contexts of issued certificates, in the order of the results (category, then place)."""
    look = await award_look(award, await get_settings(session, award), storage)
    earned, _final = await earned_in_round(session, award, rnd, "all")
    entries = await entries_by_ref(session, award)
    by_id = {e.id: e for e in entries.values()}
    wanted = {(c.entry_id, c.kind): c for c in certificates}
    contexts = []
    for e in earned:
        info = entries[e.ref]
        cert = wanted.get((info.id, e.kind))
        if cert is not None:
            contexts.append(build_context(look, rnd, e, by_id[cert.entry_id], cert.code, base_url))
    return contexts, document_meta(look, rnd, kind)


async def preview_context(
    session: AsyncSession, award: Award, rnd: Round, ref: str, storage: Storage, base_url: str
) -> tuple[CertificateContext, DocumentMeta]:
    """A watermarked certificate of one entry, from the live ranking when the round is not final."""
    earned, _final = await earned_in_round(session, award, rnd, "all")
    found = next((e for e in earned if e.ref == ref), None)
    if found is None:
        raise NotFoundError(ref)
    entries = await entries_by_ref(session, award)
    look = await award_look(award, await get_settings(session, award), storage)
    ctx = build_context(look, rnd, found, entries[ref], PREVIEW_CODE, base_url, preview=True)
    return ctx, document_meta(look, rnd, found.kind.value)


async def preview_rows(
    session: AsyncSession, award: Award, rnd: Round, storage: Storage, base_url: str
) -> tuple[list[tuple[Earned, EntryInfo, list[str]]], bool]:
    """Every entry of the round with the certificate it would get and the characters its fonts lack."""
    earned, final = await earned_in_round(session, award, rnd, "all")
    entries = await entries_by_ref(session, award)
    look = await award_look(award, await get_settings(session, award), storage)
    rows = []
    for e in earned:
        ctx = build_context(look, rnd, e, entries[e.ref], PREVIEW_CODE, base_url, preview=True)
        rows.append((e, entries[e.ref], glyph_warnings(ctx)))
    return rows, final


# -- revocation and verification --------------------------------------------------------------


async def get_certificate(session: AsyncSession, award: Award, certificate_id: int) -> Certificate:
    cert = (
        await session.execute(
            sa.select(Certificate)
            .join(Entry, Entry.id == Certificate.entry_id)
            .where(Certificate.id == certificate_id, Entry.award_id == award.id)
        )
    ).scalar_one_or_none()
    if cert is None:
        raise NotFoundError("certificate")
    return cert


async def revoke_check(session: AsyncSession, award: Award, cert: Certificate) -> Consequences:
    """What revoking ``cert`` would change: whose certificate it is, its code, what verification then says."""
    ref, startup = (
        await session.execute(
            sa.select(Entry.ref, Startup.name)
            .join(Startup, Startup.id == Entry.startup_id)
            .where(Entry.id == cert.entry_id)
        )
    ).one()
    check = Consequences(numbers={"certificate": cert.id, "code": cert.code, "revoked": cert.revoked_at is not None})
    check.facts.append(
        i18n.gettext("The certificate %(code)s of %(ref)s – %(startup)s is revoked.")
        % {"code": cert.code, "ref": ref, "startup": startup}
    )
    check.facts.append(
        i18n.gettext(
            "Anyone who checks the code %(code)s on the verification page is told that "
            "the certificate was revoked and is no longer valid."
        )
        % {"code": cert.code}
    )
    check.facts.append(
        i18n.gettext("Newly generated files leave the certificate out. The reason stays with the organisers.")
    )
    if cert.revoked_at is not None:
        check.refusals.append(i18n.gettext("This certificate is revoked already."))
    return check


async def revoke_certificate(
    session: AsyncSession, award: Award, certificate_id: int, reason: str, actor_id: int, *, state: str | None = None
) -> Certificate:
    """Revoke after :func:`revoke_check` allows it (``state``: the confirmation page's; None: as it is now)."""
    cert = await get_certificate(session, award, certificate_id)
    (await revoke_check(session, award, cert)).require(state=state, override_reason="")
    if not reason.strip():
        raise FormError({"reason": i18n.gettext("Write down why the certificate is revoked.")})
    if cert.revoked_at is None:
        cert.revoked_at, cert.revoked_reason, cert.revoked_by_id = utcnow(), reason.strip()[:2000], actor_id
        record_event(
            session,
            "certificate.revoked",
            actor_id=actor_id,
            award_id=award.id,
            object_type="certificate",
            object_id=cert.id,
            after={"code": cert.code, "reason": cert.revoked_reason},
        )
    return cert


async def reinstate_certificate(session: AsyncSession, award: Award, certificate_id: int, actor_id: int) -> Certificate:
    cert = await get_certificate(session, award, certificate_id)
    if cert.revoked_at is not None:
        before = {"code": cert.code, "revoked_at": cert.revoked_at.isoformat(), "reason": cert.revoked_reason}
        cert.revoked_at, cert.revoked_reason, cert.revoked_by_id = None, "", None
        record_event(
            session,
            "certificate.reinstated",
            actor_id=actor_id,
            award_id=award.id,
            object_type="certificate",
            object_id=cert.id,
            before=before,
        )
    return cert


@dataclass(frozen=True)
class Verification:
    code: str
    award: Award
    round: Round
    category: str
    kind: CertificateKind
    startup: str
    rank: int | None
    issued_at: Any
    revoked_at: Any


async def verify_code(session: AsyncSession, text: str) -> Verification:
    """What a code certifies; NotFoundError for anything that is not an issued code."""
    code = normalise_code(text)
    if code is None:
        raise NotFoundError("certificate")
    row = (
        await session.execute(
            sa.select(Certificate, Startup.name, Category.name)
            .join(Entry, Entry.id == Certificate.entry_id)
            .join(Startup, Startup.id == Entry.startup_id)
            .join(Category, Category.id == Entry.category_id)
            .where(Certificate.code == code)
            .options(selectinload(Certificate.round).selectinload(Round.award))
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError("certificate")
    cert, startup, category = row
    return Verification(
        cert.code,
        cert.round.award,
        cert.round,
        category,
        cert.kind,
        startup,
        cert.rank,
        cert.issued_at,
        cert.revoked_at,
    )


# -- a startup's own certificate --------------------------------------------------------------


async def published_certificate(session: AsyncSession, entry_id: int) -> Certificate:
    """The entry's certificate to download: of the latest published round that issued it one,
    the highest kind, not revoked. NotFoundError when there is none (yet)."""
    rows = (
        await session.execute(
            sa.select(Certificate)
            .join(Round, Round.id == Certificate.round_id)
            .where(Certificate.entry_id == entry_id, Certificate.revoked_at.is_(None), Round.published_at.is_not(None))
            .options(selectinload(Certificate.round).selectinload(Round.award))
        )
    ).scalars()
    ranked = sorted(rows, key=lambda c: (-c.round.position, KIND_ORDER.index(c.kind)))
    if not ranked:
        raise NotFoundError("certificate")
    return ranked[0]


async def certificates_of_entry(session: AsyncSession, entry_id: int, *, published_only: bool) -> list[Certificate]:
    """An entry's issued certificates, oldest first. ``published_only`` (the startup's side): only
    those of published rounds that are not revoked, as the download page has them."""
    query = (
        sa.select(Certificate)
        .join(Round, Round.id == Certificate.round_id)
        .where(Certificate.entry_id == entry_id)
        .options(selectinload(Certificate.round))
        .order_by(Certificate.id)
    )
    if published_only:
        query = query.where(Certificate.revoked_at.is_(None), Round.published_at.is_not(None))
    return list((await session.execute(query)).scalars())
