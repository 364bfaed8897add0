"""An e-mail's subject is one line, whatever the names and titles in it hold."""

from __future__ import annotations

from award_jury.mail import render_mail
from award_jury.settings import TEMPLATES_DIR
from award_jury.web.templating import create_environment


def test_a_line_break_in_a_title_does_not_reach_the_subject() -> None:
    env = create_environment(TEMPLATES_DIR)
    context = {
        "base_url": "https://a.example",
        "award_name": "Award",
        "startup": "S",
        "title": "Pot\r\nBcc: x@evil.example",
        "category": "C",
        "ref": "E001",
        "time_zone": "Europe/Berlin",
        "submitted_at": None,
        "link": "https://x.example",
    }
    mail = render_mail(env, "entry_submitted", to="a@example.org", locale="en", context=context)
    assert mail.subject == "Entry received: Pot Bcc: x@evil.example"
