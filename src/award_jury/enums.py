"""Enumerations persisted by value (StrEnum), shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ORGANISER = "organiser"
    JUROR = "juror"
    STARTUP = "startup"


class EntryStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    DISQUALIFIED = "disqualified"


class SheetStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Method(StrEnum):
    MEAN = "mean"
    MEDIAN = "median"
    TRIMMED = "trimmed"
    ZSCORE = "zscore"


class CertificateKind(StrEnum):
    WINNER = "winner"
    FINALIST = "finalist"
    PARTICIPANT = "participant"


class ConflictKind(StrEnum):
    INVESTOR = "investor"
    ADVISER = "adviser"
    FORMER_EMPLOYER = "former_employer"
    FAMILY = "family"
    OTHER = "other"


class MemberRole(StrEnum):
    """How a person is attached to an entry."""

    CONTACT = "contact"
    EDITOR = "editor"


class TokenPurpose(StrEnum):
    SIGNIN = "signin"
    RESET = "reset"
