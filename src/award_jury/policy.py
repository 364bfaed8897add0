"""Who may do what: the one place that decides access. Controllers ask :func:`require`
(or :func:`can` to show or hide a button); nothing else decides.

Objects a person may not see answer 404, actions they may not take 403, and an anonymous
visitor is sent to the sign-in page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from award_jury.enums import Role
from award_jury.errors import NotAuthorizedError, SignInRequiredError


class Action(StrEnum):
    #: The own account: profile, language, password, sessions.
    MANAGE_OWN_ACCOUNT = "account.manage"
    #: Download a copy of everything stored about oneself (GDPR Art. 15): the person themself only.
    EXPORT_OWN_DATA = "account.export_data"
    DELETE_OWN_ACCOUNT = "account.delete"
    #: An award's people page: organisers, jurors, invitations, roles.
    MANAGE_AWARD_PEOPLE = "award.people"
    #: Create a new award (platform-wide organisers).
    CREATE_AWARD = "award.create"
    #: An award's set-up: its settings, categories, rounds, criteria, assignments, conflicts.
    SET_UP_AWARD = "award.setup"
    #: A round's results with every explanation, tie decisions, finalisation and publication.
    MANAGE_RESULTS = "results.manage"
    #: A juror reads a round's published ranking (only where the round shows results to jurors).
    VIEW_PUBLISHED_RANKING = "results.view_published"
    #: A juror declares their own conflicts of interest in an award.
    DECLARE_OWN_CONFLICT = "conflict.declare"
    #: Apply to an award's call (anyone signed in who is not on its jury).
    APPLY = "entry.apply"
    #: See an entry's status page and files (its startup's people, the award's organisers).
    VIEW_ENTRY = "entry.view"
    #: Edit, submit, withdraw or delete an entry, invite co-editors (its startup's people).
    EDIT_ENTRY = "entry.edit"
    #: The award's entry list, eligibility decisions, the CSV export, anonymisation.
    REVIEW_ENTRIES = "entries.review"
    #: An award's certificates: settings, previews, issuing, batches, revocation.
    MANAGE_CERTIFICATES = "certificates.manage"
    #: A member of an entry (the startup's side) downloads the entry's certificate.
    DOWNLOAD_OWN_CERTIFICATE = "certificates.download_own"
    #: A juror scores entries of an award (the sheet service then checks the assignment,
    #: conflicts, recorded ones and being on the entry's team (judging/conflicts.py), the
    #: entry's status and the round's deadline for each sheet).
    SCORE = "sheet.score"
    #: Run a round's live pitch session (organisers).
    RUN_LIVE = "live.run"


@dataclass(frozen=True)
class Viewer:
    """The person behind a request (or nobody), with every role they hold."""

    person_id: int | None = None
    name: str = ""
    email: str = ""
    locale: str | None = None
    platform_roles: frozenset[Role] = frozenset()
    award_roles: Mapping[int, frozenset[Role]] = field(default_factory=dict)
    #: When the session ends unless the person does something (for the idle warning).
    session_deadline: datetime | None = None
    #: The web session's id (live streams re-check it and are counted per session).
    session_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.person_id is not None

    def roles_in(self, award_id: int) -> frozenset[Role]:
        return self.award_roles.get(award_id, frozenset())

    def organises(self, award_id: int) -> bool:
        """Organiser of this award, or a platform-wide organiser (who runs every award)."""
        return Role.ORGANISER in self.platform_roles or Role.ORGANISER in self.roles_in(award_id)


ANONYMOUS = Viewer()


def can(
    viewer: Viewer,
    action: Action,
    *,
    award_id: int | None = None,
    round_shows_jurors: bool = False,
    entry_member: bool = False,
) -> bool:
    """``entry_member``: the viewer is one of the startup's people on the entry in question."""
    if not viewer.authenticated:
        return False
    if action in (Action.MANAGE_OWN_ACCOUNT, Action.EXPORT_OWN_DATA, Action.DELETE_OWN_ACCOUNT):
        return True
    if action in (
        Action.MANAGE_AWARD_PEOPLE,
        Action.SET_UP_AWARD,
        Action.MANAGE_RESULTS,
        Action.REVIEW_ENTRIES,
        Action.MANAGE_CERTIFICATES,
        Action.RUN_LIVE,
    ):
        return award_id is not None and viewer.organises(award_id)
    if action is Action.VIEW_PUBLISHED_RANKING:
        return award_id is not None and (
            viewer.organises(award_id) or (round_shows_jurors and Role.JUROR in viewer.roles_in(award_id))
        )
    if action in (Action.DECLARE_OWN_CONFLICT, Action.SCORE):
        return award_id is not None and Role.JUROR in viewer.roles_in(award_id)
    if action is Action.APPLY:
        return award_id is not None and Role.JUROR not in viewer.roles_in(award_id)
    # A juror of the award never works on an entry of it, even one they were a co-editor of before.
    startup_side = entry_member and award_id is not None and Role.JUROR not in viewer.roles_in(award_id)
    if action is Action.VIEW_ENTRY:
        return startup_side or (award_id is not None and viewer.organises(award_id))
    if action is Action.EDIT_ENTRY:
        return startup_side
    if action is Action.DOWNLOAD_OWN_CERTIFICATE:  # organisers print them anyway
        return startup_side or (award_id is not None and viewer.organises(award_id))
    if action is Action.CREATE_AWARD:
        return Role.ORGANISER in viewer.platform_roles
    return False


def awards_where(viewer: Viewer, action: Action) -> frozenset[int] | None:
    """The ids of the awards in which ``viewer`` may do ``action`` (from :func:`can`, so the rule
    stays here), for a query to filter by; ``None`` means every award (a platform-wide role)."""
    if Role.ORGANISER in viewer.platform_roles and can(viewer, action, award_id=0):
        return None
    return frozenset(a for a in viewer.award_roles if can(viewer, action, award_id=a))


def require(
    viewer: Viewer,
    action: Action,
    *,
    award_id: int | None = None,
    round_shows_jurors: bool = False,
    entry_member: bool = False,
) -> None:
    """Raise unless ``viewer`` may do ``action``: SignInRequiredError for an anonymous
    visitor, NotAuthorizedError (403) for a signed-in person without the right."""
    if can(viewer, action, award_id=award_id, round_shows_jurors=round_shows_jurors, entry_member=entry_member):
        return
    if not viewer.authenticated:
        raise SignInRequiredError(action.value)
    raise NotAuthorizedError(action.value)
