"""What an irreversible action would do, in numbers, and what stands in its way.

Services compute a :class:`Consequences` for an action (``finalise_check``, ``publish_check``, …);
the confirmation page shows it, and the service checks it again when the action is carried out:
a *refusal* stops the action, a *warning* lets it go ahead only with a written override reason
(which the service audits). ``state`` is a fingerprint of the numbers shown, so a confirmation
given on a page that no longer matches the data is refused instead of acting on something else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from award_jury.errors import DomainError


class ConfirmationError(DomainError):
    """The action was not carried out; ``kind`` says why: ``refused``, ``stale`` or ``override``."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass
class Consequences:
    facts: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """A short fingerprint of the numbers (and of what is refused or warned about)."""
        canonical = json.dumps([self.numbers, len(self.refusals), len(self.warnings)], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]

    def require(self, *, state: str | None, override_reason: str) -> str:
        """Raise unless the action may go ahead now; returns the override reason it needs ("" if none).
        ``state`` None means the caller confirms the present state (the command line)."""
        if self.refusals:
            raise ConfirmationError("refused", self.refusals[0])
        if state is not None and state != self.state:
            raise ConfirmationError("stale", "the situation changed since the confirmation page was shown")
        reason = override_reason.strip()
        if self.warnings and not reason:
            raise ConfirmationError("override", "needs an override with a reason: " + "; ".join(self.warnings))
        return reason if self.warnings else ""
