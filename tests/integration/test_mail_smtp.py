"""Mail through a real SMTP server (aiosmtpd on 127.0.0.1) when AWARD_JURY_SMTP_URL is set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import aiosmtplib
import pytest

from award_jury.db import Database
from award_jury.mail import Mail, render_mail, send_mail
from award_jury.settings import Settings
from award_jury.web.app import create_app
from award_jury.web.templating import create_environment
from tests.support.accounts import (
    link_token,
    mail_parts,
    make_person,
    new_session_token,
    page_token,
    post_form,
    session_rows,
)
from tests.support.apps import app_client
from tests.support.csrf import csrf_token
from tests.support.pg import free_port
from tests.support.smtp import SmtpSink

LINK = "http://testserver.local/signin/link/abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def render(settings: Settings, *, to: str = "jutta@example.org", locale: str = "de") -> Mail:
    env = create_environment(settings.templates_dir)
    return render_mail(
        env,
        "signin_link",
        to=to,
        locale=locale,
        context={"name": "Jutta Jürgens", "link": LINK, "base_url": settings.base_url},
    )


async def test_send_mail_delivers_multipart_message(settings: Settings, smtp: SmtpSink) -> None:
    settings = replace(settings, smtp_url=smtp.url)
    await send_mail(render(settings), settings)

    (received,) = smtp.received
    assert received.mail_from == "noreply@testserver.local"
    assert received.rcpt_tos == ("jutta@example.org",)
    msg = received.message
    assert msg["From"] == "award_jury <noreply@testserver.local>"  # not about an award
    assert msg["To"] == "jutta@example.org"
    assert msg["Subject"] == "Ihr Anmeldelink für award_jury"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@testserver.local>")
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, html = mail_parts(msg)
    assert "Guten Tag Jutta Jürgens," in text and LINK in text
    assert "Öffnen Sie diesen Link" in text
    assert "Der Link ist 30 Minuten gültig und kann einmal verwendet werden" in text
    assert f'href="{LINK}"' in html and '<html lang="de">' in html
    assert not settings.outbox_dir.exists()  # nothing written to the outbox


async def test_send_mail_in_english(settings: Settings, smtp: SmtpSink) -> None:
    settings = replace(settings, smtp_url=smtp.url)
    await send_mail(render(settings, locale="en"), settings)
    (msg,) = smtp.messages
    assert msg["Subject"] == "Your sign-in link for award_jury"
    assert "Hello Jutta Jürgens," in mail_parts(msg)[0]


def invitation(settings: Settings, *, locale: str = "de", name: str = "Dr. Petra Hoffmann") -> Mail:
    env = create_environment(settings.templates_dir)
    return render_mail(
        env,
        "invitation",
        to="petra@example.org",
        locale=locale,
        context={
            "name": name,
            "link": LINK,
            "base_url": settings.base_url,
            "role": "juror",
            "inviter": "Olga Organiser",
            "award_name": "Smart Country Startup Award 2026",
            "expires_at": datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
            "time_zone": "Europe/Berlin",
        },
    )


async def test_an_award_mail_comes_from_the_award_by_default(settings: Settings, smtp: SmtpSink) -> None:
    settings = replace(settings, smtp_url=smtp.url)
    await send_mail(invitation(settings), settings)
    (received,) = smtp.received
    assert received.mail_from == "noreply@testserver.local"
    (sender,) = received.message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Smart Country Startup Award 2026", "noreply@testserver.local")
    text, html = mail_parts(received.message)
    assert "Guten Tag Dr. Petra Hoffmann," in text and "Hallo" not in text
    expected = "Olga Organiser lädt Sie in die Jury des Wettbewerbs „Smart Country Startup Award 2026“ ein."
    assert expected in text and expected in html
    assert "Jury von" not in text


async def test_the_sender_name_and_address_can_be_configured(settings: Settings, smtp: SmtpSink) -> None:
    settings = replace(
        settings, smtp_url=smtp.url, mail_from="wettbewerb@stadt.example", mail_from_name="Stadt Beispiel – Wettbewerbe"
    )
    await send_mail(invitation(settings), settings)
    await send_mail(render(settings), settings)
    award_mail, signin_mail = smtp.received
    for received in (award_mail, signin_mail):
        assert received.mail_from == "wettbewerb@stadt.example"
        (sender,) = received.message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Stadt Beispiel – Wettbewerbe", "wettbewerb@stadt.example")
        assert received.message["Message-ID"].endswith("@stadt.example>")


async def test_a_mail_not_about_an_award_comes_from_award_jury(settings: Settings, smtp: SmtpSink) -> None:
    settings = replace(settings, smtp_url=smtp.url, mail_from="jury@stadt.example")
    await send_mail(render(settings), settings)
    (sender,) = smtp.messages[0]["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("award_jury", "jury@stadt.example")


async def test_a_greeting_without_a_name_has_no_stray_space(settings: Settings) -> None:
    for locale, greeting in (("de", "Guten Tag,"), ("en", "Hello,")):
        mail = invitation(settings, locale=locale, name="")
        assert mail.text.startswith(greeting + "\n"), mail.text[:40]
        assert " ," not in mail.text and " ," not in mail.html


async def test_send_mail_authenticates_with_url_credentials(settings: Settings) -> None:
    with SmtpSink(username="mailer", password="p@ss:w/rd 42") as sink:
        assert "p%40ss%3Aw%2Frd%2042" in sink.url
        settings = replace(settings, smtp_url=sink.url)
        await send_mail(render(settings), settings)
        assert sink.auth_attempts == [("mailer", "p@ss:w/rd 42")]
        (received,) = sink.received
        assert received.login == "mailer"


async def test_send_mail_with_wrong_credentials_fails_loudly(settings: Settings) -> None:
    with SmtpSink(username="mailer", password="right") as sink:
        wrong = sink.url.replace(":right@", ":wrong@")
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await send_mail(render(settings), replace(settings, smtp_url=wrong))
        assert sink.received == []


async def test_outbox_is_used_without_smtp_url(settings: Settings) -> None:
    await send_mail(render(settings), settings)
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1


async def test_sign_in_link_through_smtp(settings: Settings, db: Database, smtp: SmtpSink) -> None:
    person_id = await make_person(db, "juror@example.org", "Jutta Juror", locale="de")
    app = create_app(replace(settings, smtp_url=smtp.url), database=db)
    async with app_client(app) as client:
        token = await page_token(client)
        response = await post_form(client, "/signin/link", {"email": "juror@example.org"}, token=token)
        assert response.status_code == 200
        (msg,) = smtp.messages
        assert msg["To"] == "juror@example.org"
        assert msg["Subject"] == "Ihr Anmeldelink für award_jury"
        link = link_token(msg, "/signin/link")

        page = await client.get(f"/signin/link/{link}")
        assert page.status_code == 200
        used = await post_form(client, f"/signin/link/{link}", token=csrf_token(page.text))
        assert used.status_code == 303
        new_session_token(used)
    assert [r.person_id for r in await session_rows(db)] == [person_id]
    assert not settings.outbox_dir.exists()


async def test_unknown_address_sends_nothing_through_smtp(settings: Settings, db: Database, smtp: SmtpSink) -> None:
    app = create_app(replace(settings, smtp_url=smtp.url), database=db)
    async with app_client(app) as client:
        token = await page_token(client)
        response = await post_form(client, "/signin/link", {"email": "nobody@example.org"}, token=token)
    assert response.status_code == 200
    assert smtp.messages == []


async def test_unreachable_smtp_server_does_not_break_the_request(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_person(db, "juror@example.org", "Jutta Juror")
    app = create_app(replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}"), database=db)
    with caplog.at_level(logging.ERROR, logger="award_jury.mail"):
        async with app_client(app) as client:
            token = await page_token(client)
            response = await post_form(client, "/signin/link", {"email": "juror@example.org"}, token=token)
    assert response.status_code == 200
    assert "Check your e-mail" in response.text
    assert any("could not send signin_link e-mail" in r.getMessage() for r in caplog.records)
    assert not settings.outbox_dir.exists()  # no silent fallback to the outbox either
