"""Checks that look at a page the way a person does, not at its DOM: a radio or checkbox that is
chosen must change what is drawn where its label is, a button must look like one, and nothing may
stick out of the screen.

:func:`look_around` runs them on every page the browser journeys check with axe (see
``tests.support.browser.serious_violations``), in German and English, at 360 and 1280 px, in a tab
of its own that cannot send anything (every request but GET is aborted, local storage is put back),
and writes a screenshot of each as a test artefact under ``test-results/screenshots/<run>/``.
CSS does not depend on the database, so it runs in one pass only (``LOOK.enabled``, ``LOOK_IN`` in
scripts/test.sh)."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGE_COOKIE = "award_jury_lang"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@dataclass
class Look:
    enabled: bool = False
    run: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S"))
    seen: set[str] = field(default_factory=set)
    shots: int = 0


LOOK = Look()

# Every visible, enabled radio and checkbox with the box a person sees for it: its label's box
# (which contains the input, or is tied to it by `for`), else the input's own box.
_CHOICES = """() => [...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')]
  .filter(el => !el.disabled && el.checkVisibility({checkVisibilityCSS: true}))
  .map((el, i) => {
    el.dataset.lookIndex = String(i);
    const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
    const box = (label || el).getBoundingClientRect();
    const own = el.getBoundingClientRect();
    const doc = document.documentElement;
    const left = Math.max(0, Math.min(box.left, own.left) + window.scrollX);
    const top = Math.max(0, Math.min(box.top, own.top) + window.scrollY);
    const right = Math.min(doc.scrollWidth, Math.max(box.right, own.right) + window.scrollX);
    const bottom = Math.min(doc.scrollHeight, Math.max(box.bottom, own.bottom) + window.scrollY);
    return {index: i, name: el.name, value: el.value, checked: el.checked,
            x: Math.floor(left), y: Math.floor(top),
            width: Math.floor(right - left), height: Math.floor(bottom - top)};
  })"""

# Buttons (and links styled as buttons) whose background and border do not set them apart from
# what is behind them: they read as plain text.
_FLAT_BUTTONS = """() => {
  const colour = (c) => c.replace(/\\s/g, '');
  const transparent = (c) => c === 'rgba(0,0,0,0)' || c === 'transparent';
  const behind = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const bg = colour(getComputedStyle(p).backgroundColor);
      if (!transparent(bg)) return bg;
    }
    return 'rgb(255,255,255)';
  };
  return [...document.querySelectorAll('main button, main .button, main input[type=submit]')]
    .filter(el => el.getClientRects().length && !el.classList.contains('link-button'))
    .filter(el => {
      const s = getComputedStyle(el);
      const bg = colour(s.backgroundColor);
      const filled = !transparent(bg) && bg !== behind(el);
      const bordered = parseFloat(s.borderTopWidth) >= 1 && s.borderTopStyle !== 'none'
        && !transparent(colour(s.borderTopColor)) && colour(s.borderTopColor) !== behind(el);
      return !(filled || bordered);
    })
    .map(el => (el.textContent || el.value || '').trim().slice(0, 40));
}"""


async def invisible_choices(page: Any, *, one_per_name: bool = False) -> list[str]:
    """Click each choice (and click a checkbox back): name the ones whose area looks the same.
    With ``one_per_name`` only one unchosen choice of each group is tried (the rule is CSS-wide)."""
    problems = []
    choices = await page.evaluate(_CHOICES)
    if one_per_name:
        first: dict[str, dict[str, Any]] = {}
        for choice in choices:
            if not choice["checked"]:
                first.setdefault(choice["name"], choice)
        choices = list(first.values())
    for choice in choices:
        if choice["width"] < 1 or choice["height"] < 1:
            problems.append(f"{choice['name']}={choice['value']}: no area")
            continue
        clip = {k: choice[k] for k in ("x", "y", "width", "height")}
        before = await page.screenshot(clip=clip, full_page=True, animations="disabled")
        element = page.locator(f'[data-look-index="{choice["index"]}"]')
        await element.evaluate("el => { el.click(); el.blur(); }")  # as a tap does, without focus rings
        after = await page.screenshot(clip=clip, full_page=True, animations="disabled")
        if await element.evaluate("el => el.checked") != choice["checked"] and before == after:
            problems.append(f"{choice['name']}={choice['value']}: choosing it changes nothing that is drawn")
        if await element.evaluate("el => el.type") == "checkbox":
            await element.evaluate("el => { el.click(); el.blur(); }")
    return problems


async def flat_buttons(page: Any) -> list[str]:
    return [f"button {text!r} does not look like a button" for text in await page.evaluate(_FLAT_BUTTONS)]


_WIDER_THAN = """(limit) => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > limit + 1 && el.checkVisibility())
  .filter(el => ![...el.querySelectorAll('*')].some(child => child.getBoundingClientRect().right > limit + 1))
  .slice(0, 3)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '')
       + ' ' + JSON.stringify((el.textContent || '').trim().slice(0, 30)))"""


async def sticking_out(page: Any) -> list[str]:
    """Elements that reach past the right edge of the screen (the page then scrolls sideways)."""
    limit = await page.evaluate("window.innerWidth")
    if await page.evaluate("document.documentElement.scrollWidth") <= limit:
        return []
    return [f"wider than the screen: {', '.join(await page.evaluate(_WIDER_THAN, limit)) or 'the page'}"]


def _key(url: str) -> str:
    """A page's kind: its path with numbers and codes generalised, and its query's keys."""
    parts = urlsplit(url)
    path = re.sub(r"/(\d+|E\d+|[A-Z0-9]{4,}(-[A-Z0-9]{4,})+|[\w-]{20,})(?=/|$)", "/*", parts.path)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(keys) if keys else "")


def _shot_path(url: str, lang: str, width: int) -> Path:
    test = os.environ.get("PYTEST_CURRENT_TEST", "outside-a-test").split(" ")[0]
    folder = SCREENSHOTS / LOOK.run / re.sub(r"[^\w.-]+", "_", test).strip("_")
    LOOK.shots += 1
    name = re.sub(r"[^\w-]+", "_", _key(url).replace("*", "N")).strip("_") or "start"  # (no tokens)
    return folder / f"{LOOK.shots:03d}-{name[:80]}-{lang}-{width}.png"


async def look_around(page: Any) -> list[str]:
    """The look checks on the page the browser shows now, in both languages and at both widths,
    once per kind of page and run. Returns readable problems (empty when all is well)."""
    if not LOOK.enabled or not page.url.startswith("http") or _key(page.url) in LOOK.seen:
        return []
    LOOK.seen.add(_key(page.url))
    context, url = page.context, urldefrag(page.url).url  # (a #fragment would not load the page)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    before = [c for c in await context.cookies(origin) if c["name"] == LANGUAGE_COOKIE]
    tab = await context.new_page()

    async def only_reads(route: Any) -> None:
        await (route.continue_() if route.request.method in ("GET", "HEAD") else route.abort())

    await tab.route("**/*", only_reads)
    problems: list[str] = []
    try:
        for lang in ("en", "de"):
            await context.add_cookies([{"name": LANGUAGE_COOKIE, "value": lang, "url": origin}])
            response = await tab.goto(url)
            if response is None or response.status != 200:
                problems.append(f"{url} ({lang}): status {response and response.status}")
                continue
            stored = await tab.evaluate("JSON.stringify(Object.assign({}, localStorage))")
            # First what is drawn as it came (screenshots, width, buttons) at both widths, then the
            # choices, which the check clicks (so a screenshot never shows its clicks).
            for viewport in (PHONE, DESKTOP):
                await tab.set_viewport_size(viewport)
                where = f"{urlsplit(url).path} ({lang}, {viewport['width']} px)"
                path = _shot_path(url, lang, viewport["width"])
                path.parent.mkdir(parents=True, exist_ok=True)
                await tab.screenshot(path=str(path), full_page=True, animations="disabled")
                problems += [f"{where}: {problem}" for problem in await sticking_out(tab) + await flat_buttons(tab)]
            for viewport in (PHONE, DESKTOP):
                await tab.set_viewport_size(viewport)
                where = f"{urlsplit(url).path} ({lang}, {viewport['width']} px)"
                problems += [f"{where}: {problem}" for problem in await invisible_choices(tab, one_per_name=True)]
            await tab.evaluate("s => { localStorage.clear(); Object.assign(localStorage, JSON.parse(s)); }", stored)
    finally:
        await tab.close()
        await context.clear_cookies(name=LANGUAGE_COOKIE)
        if before:
            await context.add_cookies(before)
    return problems
