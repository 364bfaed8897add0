"""Confirmation pages for irreversible actions (finalise, publish, …), one mechanism for all.

A GET shows :class:`~award_jury.consequences.Consequences` on ``confirm/page.html``; its form posts
``confirm=yes``, the ``state`` fingerprint of what was shown and, when there are warnings, an
``override_reason``. A POST without that confirmation acts on nothing (400, the page again); a
service's :class:`~award_jury.consequences.ConfirmationError` comes back as the same page with
what went wrong (409 refused or changed, 400 when the override reason is missing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from award_jury.consequences import ConfirmationError, Consequences
from award_jury.i18n import gettext as _
from award_jury.web.forms import read_form


@dataclass
class Confirmation:
    title: str
    action: str  # where the form posts
    back: str  # where "cancel" leads
    button: str
    lead: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # hidden fields the action needs besides the confirmation
    #: a required text the action needs from the person (e.g. a revocation's reason): its field name and label
    text_field: str = ""
    text_label: str = ""
    text_hint: str = ""
    #: re-authentication: the label of a "current password" field the action needs (checked by the caller)
    password_label: str = ""


@dataclass
class Confirmed:
    state: str
    override_reason: str


async def read_confirmation(request: Request[Any, Any, Any]) -> Confirmed | None:
    """The confirmation step's fields, or None when the POST did not come through the page."""
    form = await read_form(request)
    if form.get("confirm") != "yes" or not form.get("state"):
        return None
    return Confirmed(
        state=form.get("state", max_length=64), override_reason=form.get("override_reason", max_length=2000)
    )


def confirm_page(
    c: Confirmation,
    check: Consequences,
    *,
    award: Any = None,
    message: str = "",
    error: str = "",
    reason: str = "",
    status: int = 200,
    text: str = "",
    text_error: str = "",
    password_error: str = "",
) -> Template:
    context = {
        "c": c,
        "check": check,
        "message": message,
        "error": error,
        "reason": reason,
        "text": text,
        "text_error": text_error,
        "password_error": password_error,
    }
    if award is not None:  # (base.html shows an award's header only when there is one)
        context["award"] = award
    return Template("confirm/page.html", context=context, status_code=status)


def unconfirmed_page(c: Confirmation, check: Consequences, *, award: Any = None) -> Template:
    return confirm_page(
        c,
        check,
        award=award,
        status=400,
        message=_("Nothing was changed: this needs your confirmation on this page first."),
    )


def refused_page(
    c: Confirmation, check: Consequences, exc: ConfirmationError, answer: Confirmed, *, award: Any = None
) -> Template:
    """The page again after the service refused: what went wrong, nothing changed."""
    if exc.kind == "override":
        return confirm_page(
            c,
            check,
            award=award,
            status=400,
            reason=answer.override_reason,
            error=_("Write down why you go ahead despite the warnings."),
        )
    message = (
        _("Nothing was changed: the situation changed since the page was shown. Check the numbers again.")
        if exc.kind == "stale"
        else _("Nothing was changed: this is not possible now.")
    )
    return confirm_page(c, check, award=award, status=409, message=message, reason=answer.override_reason)


async def confirmed_action(
    request: Request[Any, Any, Any],
    c: Confirmation,
    check: Consequences | Callable[[], Awaitable[Consequences]],
    act: Callable[[Confirmed], Awaitable[str]],
    *,
    award: Any = None,
) -> Template | Redirect:
    """The POST of a confirmation page, the same for every action: without the page's fields the
    page again (400, nothing done); else ``act`` (which re-checks the rules in its service and
    returns where to go next); a refusal shows the page again with what went wrong. ``check`` is
    the consequences, or how to compute them when a page must be shown."""

    async def consequences() -> Consequences:
        return check if isinstance(check, Consequences) else await check()

    answer = await read_confirmation(request)
    if answer is None:
        return unconfirmed_page(c, await consequences(), award=award)
    try:
        done = await act(answer)
    except ConfirmationError as exc:
        return refused_page(c, await consequences(), exc, answer, award=award)
    return Redirect(done, status_code=303)
