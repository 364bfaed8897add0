"""The look checks see what a person sees: each one reports a page made to show its defect
(and stays quiet on the same page done right), so a green journey means something."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.look import PHONE, flat_buttons, invisible_choices, sticking_out

pytestmark = [pytest.mark.browser, pytest.mark.once]

PAGE = """<!doctype html><html lang="en"><head><style>
  body {{ margin: 0; font: 16px sans-serif; background: #fff; }}
  button {{ font: inherit; padding: .5rem 1rem; border-radius: 4px; }}
  {css}
</style></head><body><main>
  <fieldset><legend>Category</legend>
    <label class="choice"><input type="radio" name="category" value="city" checked> Smart City</label>
    <label class="choice"><input type="radio" name="category" value="govtech"> GovTech</label>
  </fieldset>
  <label class="choice"><input type="checkbox" name="consent"> I agree</label>
  <button class="secondary">Save draft</button>
  <div class="wide">Ranking table</div>
</main></body></html>"""

RIGHT = ".secondary { background: #fff; border: 2px solid #0b4f91; } .wide { width: 100%; }"
WRONG = ".choice input { opacity: 0; } .secondary { background: transparent; border: 0; } .wide { width: 900px; }"


async def test_the_look_checks_report_what_a_person_would_miss(browser: Any) -> None:
    ctx = await browser.new_context(viewport=PHONE)
    page = await ctx.new_page()
    await page.set_content(PAGE.format(css=RIGHT))
    assert await invisible_choices(page) == []
    assert await flat_buttons(page) == []
    assert await sticking_out(page) == []

    await page.set_content(PAGE.format(css=WRONG))
    assert sorted(await invisible_choices(page)) == [
        "category=govtech: choosing it changes nothing that is drawn",
        "consent=on: choosing it changes nothing that is drawn",
    ]
    assert await flat_buttons(page) == ["button 'Save draft' does not look like a button"]
    [wide] = await sticking_out(page)
    assert "div.wide" in wide and "Ranking table" in wide
    await ctx.close()
