"""Every request and response body of the API as a msgspec Struct: the OpenAPI schema is generated
from these, and request bodies are decoded strictly (unknown fields, wrong types and out-of-range
numbers are refused with 400 and the field named)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

Slug = Annotated[str, Meta(max_length=80)]
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
Limit = Annotated[int, Meta(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]


class FieldError(Struct, kw_only=True):
    """One problem with one field of the input."""

    field: str
    message: str


class Problem(Struct, kw_only=True, omit_defaults=True):
    """An error (RFC 9457 problem details)."""

    status: int
    title: str
    detail: str = ""
    type: str = "about:blank"
    #: For invalid input: every problem with its field.
    errors: list[FieldError] | None = None
    #: For a stale write (409): the stored state the write was not based on.
    current: Any = None


# -- awards ---------------------------------------------------------------------------------


class CategoryOut(Struct, kw_only=True):
    slug: str
    name: str
    prizes: int


class RoundOut(Struct, kw_only=True):
    slug: str
    name: str
    submissions_open: datetime | None
    submissions_close: datetime | None
    scoring_close: datetime | None
    method: Literal["mean", "median", "trimmed", "zscore"]
    min_sheets: int
    published_at: datetime | None


class AwardSummaryOut(Struct, kw_only=True):
    slug: str
    name: str
    locale: str
    #: ``upcoming``, ``open`` (the call for entries), ``judging`` or ``closed``.
    phase: str
    url: str


class AwardOut(Struct, kw_only=True):
    slug: str
    name: str
    locale: str
    time_zone: str
    description: str
    phase: str
    categories: list[CategoryOut]
    rounds: list[RoundOut]
    url: str


class AwardPage(Struct, kw_only=True):
    items: list[AwardSummaryOut]
    #: The cursor of the next page (null on the last page).
    next: str | None


# -- entries --------------------------------------------------------------------------------


class StartupOut(Struct, kw_only=True):
    name: str
    legal_form: str | None
    city: str | None
    founded: int | None
    employees: int | None
    website: str | None


class AttachmentOut(Struct, kw_only=True):
    name: str
    size: int
    media_type: str
    sha256: str


class EntryOut(Struct, kw_only=True):
    id: int
    award: str
    ref: str
    category: str
    status: Literal["draft", "submitted", "withdrawn", "disqualified"]
    title: str
    startup: StartupOut
    contact_name: str
    contact_email: str
    pitch: str
    problem: str
    solution: str
    benefit: str
    stage: str
    video_url: str | None
    submitted_at: datetime | None
    rounds: list[str]
    attachments: list[AttachmentOut]
    version: int
    url: str


class EntryPage(Struct, kw_only=True):
    items: list[EntryOut]
    next: str | None


# -- sheets ---------------------------------------------------------------------------------


class CriterionOut(Struct, kw_only=True):
    key: str
    name: str
    weight: str
    min: str
    max: str
    step: str


class SheetSummaryOut(Struct, kw_only=True):
    ref: str
    title: str
    startup: str
    category: str
    #: ``not_started``, ``draft`` or ``submitted``.
    state: str
    assigned: bool
    scored: int
    updated_at: datetime | None


class SheetPage(Struct, kw_only=True):
    items: list[SheetSummaryOut]
    next: str | None


class SheetState(Struct, kw_only=True):
    """A stored sheet (version 0: none yet). Scores are decimal strings, as stored."""

    version: int
    status: Literal["draft", "submitted"]
    scores: dict[str, str]
    comment: str
    private_note: str
    total: float | None
    submitted_at: datetime | None
    updated_at: datetime | None


class SheetOut(Struct, kw_only=True):
    award: str
    round: str
    ref: str
    title: str
    startup: str
    category: str
    #: Null when the sheet can be changed, else why not: ``unassigned``, ``entry``, ``finalised``, ``closed``.
    read_only: str | None
    criteria: list[CriterionOut]
    sheet: SheetState


#: A score: a number, or its text ("7.5"); null or absent: not scored yet. The sheet service checks
#: it against the criterion (SPEC §2) and names the field when it does not fit (422).
Score = str | float | None


class SheetWrite(Struct, kw_only=True, forbid_unknown_fields=True):
    """Save a sheet. ``version`` is the version the change is based on (0 for a new sheet);
    a stale one answers 409 with the stored state. Every criterion of the round may be given
    (a number, or null/absent for "not scored yet"); ``submit`` needs all of them."""

    version: Annotated[int, Meta(ge=0, le=2**31 - 1)]
    scores: Annotated[dict[Annotated[str, Meta(max_length=80)], Score], Meta(max_length=200)] = msgspec.field(
        default_factory=dict
    )
    comment: Annotated[str, Meta(max_length=5000)] = ""
    private_note: Annotated[str, Meta(max_length=5000)] = ""
    action: Literal["save", "submit", "reopen"] = "save"


# -- results, certificates, verification ----------------------------------------------------


class ResultEntryOut(Struct, kw_only=True, omit_defaults=True):
    ref: str
    startup: str
    rank: int | None
    score: float | None
    sheets: int
    tied: bool
    winner: bool
    decision_needed: bool
    status: str
    decided_by: str | None = None
    decision_reason: str | None = None


class ResultCategoryOut(Struct, kw_only=True):
    category: str
    prizes: int
    entries: list[ResultEntryOut]


class ResultsOut(Struct, kw_only=True):
    """The document of SPEC §3, the same as ``award-jury results --format json``."""

    award: str
    round: str
    method: Literal["mean", "median", "trimmed", "zscore"]
    categories: list[ResultCategoryOut]


class CertificateOut(Struct, kw_only=True):
    code: str
    kind: Literal["winner", "finalist", "participant"]
    round: str
    rank: int | None
    issued_at: datetime
    revoked_at: datetime | None
    verify_url: str


class CertificateList(Struct, kw_only=True):
    items: list[CertificateOut]


class VerificationOut(Struct, kw_only=True):
    """What a certificate's code certifies (the facts of the verification page)."""

    code: str
    award: str
    award_name: str
    round: str
    round_name: str
    category: str
    kind: Literal["winner", "finalist", "participant"]
    startup: str
    rank: int | None
    issued_at: datetime
    valid: bool
    revoked_at: datetime | None
