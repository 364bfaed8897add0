"""Who is told about an entry, and what: the apply link for a new applicant, the confirmation of
a submitted entry, a co-editor's invitation. Each function returns the mails (composed by
:class:`~award_jury.mail.Mailer`, in each recipient's language); the caller sends them once its
transaction is committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from award_jury.accounts.models import Person
from award_jury.accounts.services import find_person
from award_jury.accounts.signin import issue_apply_link, issue_link
from award_jury.accounts.validators import is_plain_name, is_valid_email, normalise_email
from award_jury.awards.models import Award
from award_jury.entries import services
from award_jury.entries.models import Entry
from award_jury.enums import TokenPurpose
from award_jury.errors import FormError
from award_jury.i18n import gettext as _
from award_jury.mail import Mail, Mailer
from award_jury.urls import url_for


def applicant_name(name: str) -> str:
    """The name as the apply form keeps it (runs of spaces made one)."""
    return " ".join(name.split())


async def request_apply_link(
    session: AsyncSession,
    mailer: Mailer,
    award: Award,
    *,
    email: str,
    name: str,
    locale: str,
    now: datetime,
    ip: str,
    secret: str,
) -> list[Mail]:
    """A new applicant asks for a sign-in link that leads to the apply form. FormError for an
    address or name that is not acceptable; RateLimitedError as for any link. The mail (none when
    nothing is to be sent) greets nobody by name: the form's text is a stranger's until the
    address's owner confirms it. No account is made here: the link creates it when used."""
    errors: dict[str, str] = {}
    if not is_valid_email(normalise_email(email)):
        errors["email"] = _("Enter a valid e-mail address, like name@example.org.")
    name = applicant_name(name)
    if not name:
        errors["name"] = _("Enter your name.")
    elif not is_plain_name(name):
        errors["name"] = _(
            "Enter your name in letters, with spaces, hyphens, apostrophes or dots between them "
            "(at most 100 characters)."
        )
    if errors:
        raise FormError(errors)
    token = await issue_apply_link(session, email, name, locale, now, ip=ip, secret=secret)
    if token is None:
        return []
    person = await find_person(session, email)
    return [
        mailer.compose(
            "apply_link",
            to=normalise_email(email),
            locale=person.locale if person else locale,
            award_name=award.name,
            link=mailer.url("signin.link", token=token, query={"next": url_for("apply.page", slug=award.slug)}),
        )
    ]


def submitted_mails(mailer: Mailer, entry: Entry, actor: Person) -> list[Mail]:
    """The confirmation of a submitted entry: to the person who submitted it (in their language)
    and to the entry's contact address if that is another one (in the award's language)."""
    recipients = {actor.email: actor.locale}
    if entry.contact_email:
        recipients.setdefault(entry.contact_email, entry.award.locale)
    return [
        mailer.compose(
            "entry_submitted",
            to=email,
            locale=locale,
            award_name=entry.award.name,
            startup=entry.startup.full_name,
            title=entry.title,
            category=entry.category.name,
            ref=entry.ref,
            time_zone=entry.award.time_zone,
            submitted_at=entry.submitted_at,
            link=mailer.url("entries.detail", entry_id=entry.id),
        )
        for email, locale in recipients.items()
    ]


async def invite_member(
    session: AsyncSession, mailer: Mailer, entry: Entry, email: str, name: str, *, actor: Person, now: datetime, ip: str
) -> list[Mail]:
    """Add a co-editor to the entry (:func:`services.add_member`: FormError for bad fields) and
    send them a sign-in link that leads to the form (none when the link limits say so;
    RateLimitedError beyond the per-IP limits)."""
    person = await services.add_member(session, entry, email, name, actor=actor)
    issued = await issue_link(session, person.email, TokenPurpose.SIGNIN, now, ip=ip)
    if issued is None:
        return []
    _person, token = issued
    return [
        mailer.compose(
            "entry_invitation",
            to=person.email,
            locale=person.locale,
            name=person.name,
            inviter=actor.name,
            award_name=entry.award.name,
            title=entry.title or entry.startup.name,
            link=mailer.url("signin.link", token=token, query={"next": url_for("entries.edit", entry_id=entry.id)}),
        )
    ]
