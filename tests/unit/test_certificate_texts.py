"""Organisers' certificate texts: variables, conditions and simple filters work; a text that could
take the server down (recursion, unbounded loops, huge numbers or strings) is refused at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from award_jury.certificates.render import TextTemplateError, render_text

VALUES = {
    "award": "Mini Award",
    "category": "GovTech",
    "startup": "Zweite AG",
    "place": "1st place",
    "round": "Final",
    "date": "1 Jan 2026",
}


#: Texts that could take the server down if they were rendered.
DANGEROUS = [
    # recursion: was a RecursionError (the settings form answered 500)
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    # unbounded work within 600 characters: nested loops, repeated doubling, huge numbers
    "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{{ award * 100000000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ award|center(10000000000) }}",
    "{{ award.ljust(10000000000) }}",
    "{{ lipsum(100000) }}",
]


def test_organiser_text_that_could_take_the_server_down_is_refused_at_once() -> None:
    # In one child process (before the fix these hang or eat all memory), one line per text as it
    # is done: a text that hangs is the first one without its line. The time limit is generous
    # (the machine may be busy): it only tells a hang from an answer.
    code = textwrap.dedent(
        f"""
        from award_jury.certificates.render import TextTemplateError, render_text
        for source in {DANGEROUS!r}:
            try:
                render_text(source, {VALUES!r})
                print("rendered", flush=True)
            except TextTemplateError:
                print("refused", flush=True)
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        finished = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        hung = DANGEROUS[len(finished.splitlines())]
        pytest.fail(f"rendering {hung[:60]!r} did not finish")
    answers = dict(zip(DANGEROUS, done.stdout.splitlines(), strict=False))
    assert answers == dict.fromkeys(DANGEROUS, "refused"), done.stderr[-500:]


def test_organiser_texts_keep_variables_conditions_and_simple_filters() -> None:
    assert render_text("Congratulations, {{ startup }}: {{ place }} in {{ category }}!", VALUES) == (
        "Congratulations, Zweite AG: 1st place in GovTech!"
    )
    assert render_text("{% if place %}{{ place|upper }}{% else %}-{% endif %} {{ award ~ ' ' ~ round }}", VALUES) == (
        "1ST PLACE Mini Award Final"
    )
    assert render_text("{{ place or 'participant' }}", VALUES | {"place": ""}) == "participant"
    for forbidden in ("{{ range }}", "{% set a = award ~ award %}{{ a }}", "{{ startup.upper() }}", "{{ award[0] }}"):
        with pytest.raises(TextTemplateError):
            render_text(forbidden, VALUES)
