"""Imports every model so that :data:`award_jury.db.metadata` knows every table (Alembic reads this)."""

from award_jury.accounts.models import (
    ApiToken,
    AwardRole,
    Invitation,
    LoginToken,
    PendingSignIn,
    Person,
    RateLimitHit,
    RecoveryCode,
    TwoFactor,
    WebSession,
)
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Award, Category, Criterion, Round, RubricLevel
from award_jury.certificates.models import Certificate, CertificateJob, CertificateSettings
from award_jury.db import metadata
from award_jury.entries.models import Attachment, Entry, EntryMember, EntryRound, Startup
from award_jury.judging.models import Assignment, Conflict, JurorCategory, Score, ScoreSheet
from award_jury.ranking.models import ResultSnapshot, TieDecision
from award_jury.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditEvent",
    "Award",
    "AwardRole",
    "Category",
    "Certificate",
    "CertificateJob",
    "CertificateSettings",
    "Conflict",
    "Criterion",
    "Entry",
    "EntryMember",
    "EntryRound",
    "Invitation",
    "JurorCategory",
    "LoginToken",
    "PendingSignIn",
    "Person",
    "RateLimitHit",
    "RecoveryCode",
    "ResultSnapshot",
    "Round",
    "RubricLevel",
    "Score",
    "ScoreSheet",
    "Startup",
    "TieDecision",
    "TwoFactor",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
