r"""E-mail: rendered from ``templates/emails/`` (a text and an HTML part, in the recipient's
language), then written to ``<data dir>/outbox/`` as ``.eml`` or sent through
``AWARD_JURY_SMTP_URL`` with aiosmtplib (STARTTLS when the server offers it).

:class:`Mailer` is what services use to write their mails ("who is told" lives in the service);
it needs no request, so the web (a Litestar dependency, ``web/deps.py``), the command line and
jobs (``Mailer.from_settings``) share it. Services only *compose*: they return the
:class:`Mail`\ s, and the caller sends them once its transaction is committed (the web after the
response, ``web/mailer.send_after_response``; a command with ``Mailer.send_all``)."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment

from award_jury import i18n
from award_jury.i18n import current_locale
from award_jury.settings import Settings
from award_jury.urls import absolute_url, url_for

SENDER_NAME = "award_jury"

log = logging.getLogger("award_jury.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    #: The award the mail is about, if any: its name is the sender's name unless one is configured.
    award_name: str = ""
    #: Which ``emails/`` template it was rendered from (for the log).
    template: str = ""


def render_mail(env: Environment, template: str, *, to: str, locale: str, context: dict[str, Any]) -> Mail:
    """Render ``emails/<template>.txt`` and ``.html`` (their first line ``Subject: …`` is the subject)."""
    token = current_locale.set(locale)
    try:
        text = env.get_template(f"emails/{template}.txt").render(**context)
        html = env.get_template(f"emails/{template}.html").render(**context)
        # One line, whatever a name or title in it holds (a header must not contain a line break).
        subject = " ".join(env.get_template(f"emails/{template}.subject").render(**context).split())
    finally:
        current_locale.reset(token)
    award_name = str(context.get("award_name") or "")
    return Mail(to=to, subject=subject, text=text, html=html, award_name=award_name, template=template)


def sender_address(settings: Settings) -> str:
    """AWARD_JURY_MAIL_FROM, else ``noreply@`` the base URL's host (``award-jury.invalid`` for an IP)."""
    if settings.mail_from:
        return settings.mail_from
    host = urlsplit(settings.base_url).hostname or "localhost"
    if host.replace(".", "").isdigit() or "." not in host:
        host = "award-jury.invalid"
    return f"noreply@{host}"


def sender_name(mail: Mail, settings: Settings) -> str:
    """AWARD_JURY_MAIL_FROM_NAME, else the award's name for a mail about an award, else award_jury."""
    return " ".join((settings.mail_from_name or mail.award_name or SENDER_NAME).split())


def to_message(mail: Mail, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name(mail, settings), sender_address(settings)))
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender_address(settings).split("@", 1)[1])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def write_to_outbox(msg: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{formatdate(usegmt=True).replace(' ', '_').replace(',', '').replace(':', '')}-{uuid.uuid4().hex[:12]}.eml"
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".mail-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(msg))
    target = outbox / name
    os.replace(tmp, target)
    return target


async def send_mail(mail: Mail, settings: Settings) -> None:
    msg = to_message(mail, settings)
    if not settings.smtp_url:
        write_to_outbox(msg, settings.outbox_dir)
        return
    url = urlsplit(settings.smtp_url)
    await aiosmtplib.send(
        msg,
        hostname=url.hostname or "127.0.0.1",
        port=url.port or (465 if url.scheme == "smtps" else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=url.scheme == "smtps",
        start_tls=None,  # STARTTLS when the server offers it
        timeout=30,
    )


def mail_environment(templates_dir: Path) -> Environment:
    """The Jinja environment for ``templates/emails/``: the pages' gettext and formatting filters,
    nothing that needs a request."""
    env = i18n.template_environment(templates_dir, ("html",))
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["number"] = i18n.format_number
    env.globals["current_locale"] = i18n.current_locale.get
    env.globals["url_for"] = url_for
    return env


@dataclass(frozen=True)
class Mailer:
    """Settings (sender, base URL, outbox or SMTP) and the mail templates, in one object."""

    settings: Settings
    env: Environment

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        return cls(settings, mail_environment(settings.templates_dir))

    def url(self, name: str, /, **kwargs: Any) -> str:
        """An absolute link for a mail: the route ``name`` behind the base URL (``urls.absolute_url``)."""
        return absolute_url(self.settings.base_url, name, **kwargs)

    def compose(self, template: str, *, to: str, locale: str, **context: Any) -> Mail:
        """Render ``emails/<template>`` in ``locale`` now (``base_url`` is in every context)."""
        return render_mail(
            self.env, template, to=to, locale=locale, context={"base_url": self.settings.base_url, **context}
        )

    async def send(self, mail: Mail) -> bool:
        """Deliver one mail; a failure is logged, never raised (it must not undo what caused it)."""
        try:
            await send_mail(mail, self.settings)
        except Exception:
            log.exception("could not send %s e-mail to %s", mail.template, mail.to)
            return False
        return True

    async def send_all(self, mails: Iterable[Mail]) -> int:
        """Deliver each mail in turn; how many went out."""
        return sum([await self.send(mail) for mail in mails])
