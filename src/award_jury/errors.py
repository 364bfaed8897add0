"""Domain errors: raised by services, turned into messages by controllers and the CLI."""

from __future__ import annotations


class DomainError(Exception):
    """Something a user asked for cannot be done; the message says why, in one line."""


class NotFoundError(DomainError):
    pass


class ConflictError(DomainError):
    """The request clashes with the current state (an existing slug, a stale version)."""


class ValidationError(DomainError):
    """Input failed validation; ``problems`` lists every problem with its location."""

    def __init__(self, problems: list[str], summary: str | None = None) -> None:
        self.problems = problems
        super().__init__(summary or f"{len(problems)} problem(s): " + "; ".join(problems[:3]))


class NotAuthorizedError(DomainError):
    """The person may see the object but not do this to it (403)."""


class RateLimitedError(DomainError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"too many attempts; try again in {max(1, retry_after_seconds // 60)} minute(s)")


class SignInFailedError(DomainError):
    """Wrong address or password (never says which)."""


class TokenInvalidError(DomainError):
    """A link that is unknown, used, replaced by a newer one, or expired."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the link is {reason}")


class SignInRequiredError(DomainError):
    """The page needs a signed-in person; the web layer redirects to the sign-in page."""


class FormError(DomainError):
    """A form's fields failed validation: ``errors`` maps each field to its (translated) message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class StorageFullError(DomainError):
    """The disk (or quota) of the file storage is full: nothing was written."""


class SecondFactorFailedError(DomainError):
    """A wrong, used or malformed code from the authenticator app, or an unknown recovery code."""


class TwoFactorRequiredError(NotAuthorizedError):
    """An organiser of an award that requires two-factor sign-in has not turned it on: the web
    layer sends them to the set-up (403 where a page cannot be offered)."""

    def __init__(self, award_id: int) -> None:
        self.award_id = award_id
        super().__init__(f"award {award_id} requires two-factor sign-in of its organisers")


class StorageUnavailableError(DomainError):
    """The file storage (an S3 bucket, a mounted folder) cannot be reached or refused the request:
    nothing was written; the request may work again later."""
