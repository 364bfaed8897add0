"""The organiser's webhook pages: add an endpoint (its secret shown once, then on request),
refuse URLs that are not https or lead into a private network with a message beside the field,
edit, send a test event, page through the delivery log, delete through the confirmation page.
Every POST needs the CSRF token; only the award's organisers reach the pages."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
import sqlalchemy as sa

from award_jury.db import Database
from award_jury.enums import Role
from award_jury.settings import Settings
from award_jury.web.app import create_app
from award_jury.webhooks import services
from award_jury.webhooks.models import EVENT_TYPES, WebhookEndpoint
from tests.conftest import app_client
from tests.support.accounts import csrf_token, post_form
from tests.support.confirm import confirm, open_confirmation
from tests.support.setup_helpers import Browser, browser_for, field_errors, import_small
from tests.support.webhooks import add_endpoint, deliveries

SLUG = "mini-award"
HOOKS = f"/awards/{SLUG}/webhooks"
PUBLIC_URL = "https://93.184.215.14/hooks/award"


async def endpoints(db: Database) -> list[WebhookEndpoint]:
    async with db.session() as s:
        return list((await s.execute(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))).scalars())


async def organiser(client: httpx.AsyncClient, db: Database, settings: Settings) -> tuple[Browser, int]:
    award_id = await import_small(db, SLUG)
    return await browser_for(client, db, settings, "olga@example.org", award_ids=(award_id,)), award_id


async def test_organiser_adds_an_endpoint_and_sees_its_secret_once(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    b, award_id = await organiser(client, db, settings)
    assert (await b.get(f"/awards/{SLUG}/setup")).text.count(f'href="{HOOKS}"') == 1
    page = await b.get(HOOKS)
    assert page.status_code == 200 and "No endpoints yet." in page.text
    added = await b.post(
        HOOKS,
        {"url": PUBLIC_URL, "description": "CRM", "events": ["entry.submitted", "round.finalised"], "active": "1"},
    )
    [endpoint] = await endpoints(db)
    assert (endpoint.award_id, endpoint.url, endpoint.description, endpoint.events, endpoint.active) == (
        award_id,
        PUBLIC_URL,
        "CRM",
        ["entry.submitted", "round.finalised"],
        True,
    )
    assert added.status_code == 200 and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in added.text and added.headers["cache-control"] == "no-store"
    later = await b.get(f"{HOOKS}/{endpoint.id}")
    assert later.status_code == 200 and endpoint.secret not in later.text and "Show secret" in later.text
    assert PUBLIC_URL in (await b.get(HOOKS)).text

    shown = await b.post(f"{HOOKS}/{endpoint.id}/secret")
    assert shown.status_code == 200 and endpoint.secret in shown.text and shown.headers["cache-control"] == "no-store"
    rotated = await b.post(f"{HOOKS}/{endpoint.id}/rotate")
    [after] = await endpoints(db)
    assert after.secret != endpoint.secret and after.secret in rotated.text and endpoint.secret not in rotated.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hooks", "Use an address that starts with https://."),
        ("https://127.0.0.1/hooks", "private or local network (127.0.0.1)"),
        ("https://localhost:8443/hooks", "private or local network"),
        ("https://10.0.0.8/hooks", "private or local network (10.0.0.8)"),
        ("https://169.254.169.254/latest", "private or local network (169.254.169.254)"),
        ("not a url", "Enter a full web address"),
        ("", "Enter the address that receives the events."),
    ],
)
async def test_refused_url_gets_a_message_beside_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, url: str, message: str
) -> None:
    b, _award_id = await organiser(client, db, settings)
    refused = await b.post(HOOKS, {"url": url, "events": ["entry.submitted"], "active": "1"})
    assert refused.status_code == 400
    assert message in field_errors(refused.text)["nw-url"]
    assert await endpoints(db) == []


async def test_endpoint_needs_an_event(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    b, _award_id = await organiser(client, db, settings)
    refused = await b.post(HOOKS, {"url": PUBLIC_URL, "events": ["entry.deleted"]})
    assert refused.status_code == 400
    assert field_errors(refused.text) == {"nw-events": "Choose at least one event."}
    assert await endpoints(db) == []


async def test_setting_allows_a_private_address(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    app = create_app(replace(settings, webhooks_allow_private=True), database=db)
    async with app_client(app) as private_client:
        b, _award_id = await organiser(private_client, db, settings)
        added = await b.post(HOOKS, {"url": "https://127.0.0.1:8443/hooks", "events": list(EVENT_TYPES)})
        assert added.status_code == 200, field_errors(added.text)
    assert [e.url for e in await endpoints(db)] == ["https://127.0.0.1:8443/hooks"]


async def test_organiser_edits_an_endpoint(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    b, award_id = await organiser(client, db, settings)
    endpoint = await add_endpoint(db, award_id, PUBLIC_URL)
    refused = await b.post(f"{HOOKS}/{endpoint.id}", {"url": "http://93.184.215.14/", "events": ["sheet.submitted"]})
    assert refused.status_code == 400 and field_errors(refused.text) == {
        "ep-url": "Use an address that starts with https://."
    }
    assert (await endpoints(db))[0].url == PUBLIC_URL
    saved = await b.post(f"{HOOKS}/{endpoint.id}", {"url": PUBLIC_URL + "/v2", "events": ["sheet.submitted"]})
    assert saved.status_code == 303 and saved.headers["location"] == f"{HOOKS}/{endpoint.id}?saved=1"
    [after] = await endpoints(db)
    assert (after.url, after.events, after.active, after.secret) == (
        PUBLIC_URL + "/v2",
        ["sheet.submitted"],
        False,
        endpoint.secret,
    )


async def test_test_event_is_queued_and_the_log_pages(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    b, award_id = await organiser(client, db, settings)
    endpoint = await add_endpoint(db, award_id, PUBLIC_URL)
    sent = await b.post(f"{HOOKS}/{endpoint.id}/test")
    assert sent.status_code == 303 and sent.headers["location"] == f"{HOOKS}/{endpoint.id}?tested=1#log"
    [row] = await deliveries(db)
    assert (row.endpoint_id, row.event_type, row.status) == (endpoint.id, "webhook.test", "pending")
    page = await b.get(f"{HOOKS}/{endpoint.id}?tested=1")
    assert "A test event is on its way." in page.text and page.text.count("<code>webhook.test</code>") == 1
    assert "Waiting" in page.text

    async with db.session() as s:
        stored = await services.get_endpoint(s, award_id, endpoint.id)
        for _ in range(services.PAGE_SIZE + 4):
            services.send_test_event(s, stored, SLUG)
    first, second = await b.get(f"{HOOKS}/{endpoint.id}"), await b.get(f"{HOOKS}/{endpoint.id}?page=2")
    assert first.text.count("<code>webhook.test</code>") == services.PAGE_SIZE and "Page 1 of 2" in first.text
    assert second.text.count("<code>webhook.test</code>") == 5 and "Page 2 of 2" in second.text
    odd = await b.get(f"{HOOKS}/{endpoint.id}?page=-3x")
    assert odd.status_code == 200 and "Page 1 of 2" in odd.text


async def test_delete_goes_through_the_confirmation_page(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    b, award_id = await organiser(client, db, settings)
    endpoint = await add_endpoint(db, award_id, PUBLIC_URL)
    await b.post(f"{HOOKS}/{endpoint.id}/test")
    path = f"{HOOKS}/{endpoint.id}/delete"
    page = await open_confirmation(client, path)
    assert page.status == 200
    assert page.facts == [
        f"The endpoint {PUBLIC_URL} receives no more events.",
        "1 delivery that is still waiting is not sent.",
        "The log with 1 delivery is deleted.",
    ]
    unconfirmed = await b.post(path)
    assert unconfirmed.status_code == 400 and len(await endpoints(db)) == 1
    done = await confirm(client, path, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"{HOOKS}?deleted=1"
    assert await endpoints(db) == [] and await deliveries(db) == []


async def test_every_post_needs_the_csrf_token(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    _b, award_id = await organiser(client, db, settings)
    endpoint = await add_endpoint(db, award_id, PUBLIC_URL)
    form = {"url": PUBLIC_URL + "/x", "events": ["round.finalised"], "confirm": "yes", "state": "x"}
    for path in (
        "",
        f"/{endpoint.id}",
        f"/{endpoint.id}/secret",
        f"/{endpoint.id}/rotate",
        f"/{endpoint.id}/test",
        f"/{endpoint.id}/delete",
    ):
        response = await post_form(client, HOOKS + path, form, token="")
        assert response.status_code == 403, path
        assert endpoint.secret not in response.text
    [after] = await endpoints(db)
    assert (after.url, after.secret) == (PUBLIC_URL, endpoint.secret)
    assert await deliveries(db) == []


async def test_only_the_awards_organisers_reach_the_pages(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    award_id = await import_small(db, SLUG)
    other_id = await import_small(db, "other-award")
    endpoint = await add_endpoint(db, award_id, PUBLIC_URL)
    anonymous = await client.get(HOOKS, follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/signin" in anonymous.headers["location"]
    juror = await browser_for(client, db, settings, "jules@example.org", role=Role.JUROR, award_ids=(award_id,))
    assert (await juror.get(HOOKS)).status_code == 403
    assert (await juror.post(f"{HOOKS}/{endpoint.id}/secret")).status_code == 403
    elsewhere = await browser_for(client, db, settings, "otto@example.org", award_ids=(other_id,))
    assert (await elsewhere.get(f"/awards/other-award/webhooks/{endpoint.id}")).status_code == 404
    assert (await elsewhere.post(f"/awards/other-award/webhooks/{endpoint.id}/secret")).status_code == 404
    assert csrf_token((await elsewhere.get("/awards/other-award/webhooks")).text)
