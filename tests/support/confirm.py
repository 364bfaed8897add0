"""Going through a confirmation page (templates/confirm/page.html) the way a person without
JavaScript does: GET the page, read what it says, POST its form with the fields it carries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import httpx

EN = {"accept-language": "en"}
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"\s*/?>')


def _items(html: str, marker: str) -> list[str]:
    if marker not in html:
        return []
    block = html[html.index(marker) :]
    block = block[: block.index("</ul>")]
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in block.split("<li>")[1:]]


@dataclass
class ConfirmPage:
    status: int
    html: str

    @property
    def facts(self) -> list[str]:
        return _items(self.html, '<ul class="consequences">')

    @property
    def refusals(self) -> list[str]:
        return _items(self.html, 'aria-labelledby="h-refused"')

    @property
    def warnings(self) -> list[str]:
        return _items(self.html, 'aria-labelledby="h-warnings"')

    @property
    def fields(self) -> dict[str, str]:
        """The hidden fields of the confirmation form (empty when the action is refused)."""
        for form in self.html.split("<form")[1:]:
            form = form[: form.index("</form>")]
            if 'name="confirm"' in form:
                return {name: unescape(value) for name, value in _HIDDEN.findall(form)}
        return {}

    @property
    def asks_for_reason(self) -> bool:
        return 'name="override_reason"' in self.html


async def open_confirmation(client: httpx.AsyncClient, path: str, headers: dict[str, str] = EN) -> ConfirmPage:
    response = await client.get(path, headers=headers)
    return ConfirmPage(response.status_code, response.text)


async def confirm(
    client: httpx.AsyncClient, path: str, *, override_reason: str | None = None, page: ConfirmPage | None = None
) -> httpx.Response:
    """Open the confirmation page of ``path`` (or use ``page``) and send its form, never following redirects."""
    page = page or await open_confirmation(client, path)
    assert page.status == 200, (path, page.status)
    fields = page.fields
    assert fields.get("confirm") == "yes", f"{path}: the page offers no confirmation: {page.refusals}"
    if override_reason is not None:
        fields["override_reason"] = override_reason
    return await client.post(path, data=fields, headers=EN, follow_redirects=False)
