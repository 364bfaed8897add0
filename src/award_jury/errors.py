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
