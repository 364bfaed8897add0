"""Checks that look at a page the way a person does, not at its DOM: a radio or checkbox that is
chosen must change what is drawn where its label is, and a button must look like one."""

from __future__ import annotations

from typing import Any

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


async def invisible_choices(page: Any) -> list[str]:
    """Click each choice (and click a checkbox back): name the ones whose area looks the same."""
    problems = []
    for choice in await page.evaluate(_CHOICES):
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
