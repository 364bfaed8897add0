"""Invitations and the award's people page: invite, renew, accept, revoke, expire, resend,
validation, removing roles, and who may do any of it."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.models import AwardRole, Invitation, Person
from award_jury.audit.models import AuditEvent
from award_jury.awards.models import Category
from award_jury.bundle.services import import_bundle
from award_jury.db import Database, utcnow
from award_jury.enums import Role
from award_jury.judging.models import JurorCategory
from award_jury.settings import Settings
from tests.support.accounts import (
    EN,
    audit_actions,
    link_token,
    mail_parts,
    make_organiser,
    make_person,
    new_session_token,
    outbox,
    page_token,
    post_form,
    session_rows,
    sign_in_as,
    use_cheap_argon2,
)
from tests.support.apps import app_client, shared_app
from tests.support.confirm import confirm, open_confirmation
from tests.support.csrf import csrf_token
from tests.support.factories import small_bundle

Client = httpx.AsyncClient
PEOPLE = "/awards/mini-award/people"
INVITE = "/awards/mini-award/invitations"
JANE = "j.doe@example.org"  # a juror of mini-award (from the bundle)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_argon2(monkeypatch)


@pytest.fixture
async def award_id(db: Database) -> int:
    async with db.session() as s:
        award = await import_bundle(s, small_bundle())
        return award.id


@pytest.fixture
async def organiser(db: Database, award_id: int) -> int:
    """An organiser of mini-award only (a per-award role, not a platform one)."""
    return await make_person(
        db, "olga@example.org", "Olga Organiser", role=Role.ORGANISER, award_id=award_id, password="olga's secret 42"
    )


@pytest.fixture
async def org_client(client: Client, db: Database, settings: Settings, organiser: int) -> Client:
    await sign_in_as(client, db, settings, organiser)
    return client


@pytest.fixture
async def invitee_browser(settings: Settings, db: Database) -> AsyncIterator[Client]:
    async with app_client(shared_app(settings, db)) as c:
        yield c


async def invite(client: Client, **data: str | list[str]) -> httpx.Response:
    token = await page_token(client, PEOPLE)
    return await post_form(client, INVITE, data, token=token)


async def invitations(db: Database) -> list[Invitation]:
    async with db.session() as s:
        return list((await s.execute(sa.select(Invitation).order_by(Invitation.id))).scalars())


async def person_by_email(db: Database, address: str) -> Person | None:
    async with db.session() as s:
        return (await s.execute(sa.select(Person).where(Person.email == address))).scalar_one_or_none()


async def roles_of(db: Database, person_id: int, award_id: int) -> set[Role]:
    async with db.session() as s:
        return set(
            (
                await s.execute(
                    sa.select(AwardRole.role).where(AwardRole.person_id == person_id, AwardRole.award_id == award_id)
                )
            ).scalars()
        )


async def invitation_row_html(client: Client, name: str) -> str:
    """The people page's row of the invitation table for ``name``."""
    page = await client.get(PEOPLE, headers=EN)
    assert page.status_code == 200
    section = page.text.split('id="h-invitations"', 1)[1]
    rows = [r for r in section.split("<tr>") if name in r]
    assert len(rows) == 1, f"{len(rows)} invitation rows for {name}"
    return rows[0]


async def accept(browser: Client, token: str) -> httpx.Response:
    page = await browser.get(f"/invitations/{token}", headers=EN)
    assert page.status_code == 200, page.text
    return await post_form(browser, f"/invitations/{token}", token=csrf_token(page.text))


# --- inviting --------------------------------------------------------------------------------


async def test_invite_juror_sends_mail_in_invitees_language(
    org_client: Client, db: Database, settings: Settings
) -> None:
    response = await invite(
        org_client, email="Neu@Example.org", name="Nina Neu", role="juror", categories=["smart-city", "govtech"]
    )
    assert (response.status_code, response.headers["location"]) == (303, f"{PEOPLE}?invited=1")
    (row,) = await invitations(db)
    assert (row.role, row.categories, row.send_count) == (Role.JUROR, ["smart-city", "govtech"], 1)
    assert row.expires_at - row.created_at == timedelta(days=14)
    person = await person_by_email(db, "neu@example.org")
    assert person is not None and person.locale == "en"  # a new person gets the award's language

    (mail,) = outbox(settings)
    assert mail["To"] == "neu@example.org"
    assert mail["Subject"] == "Invitation to Mini Award"
    text, body = mail_parts(mail)
    assert "Olga Organiser invites you to the jury of Mini Award." in text
    assert "Hello Nina Neu," in html.unescape(body)
    token = link_token(mail, "/invitations")
    assert row.token_hash != token

    actions = await audit_actions(db)
    assert "invitation.created" in actions

    page = await org_client.get(f"{PEOPLE}?invited=1", headers=EN)
    assert "The invitation is on its way." in page.text
    assert "Pending" in await invitation_row_html(org_client, "Nina Neu")


async def test_invitation_mail_in_german_for_german_person(
    org_client: Client, db: Database, settings: Settings
) -> None:
    await make_person(db, "dora@example.org", "Dora Deutsch", locale="de")
    response = await invite(org_client, email="dora@example.org", name="Dora", role="organiser")
    assert response.status_code == 303
    (mail,) = outbox(settings)
    assert mail["Subject"] == "Einladung: Mini Award"
    text, _ = mail_parts(mail)
    assert "Guten Tag Dora Deutsch," in text  # an existing person keeps their name
    assert "Olga Organiser lädt Sie ein, den Wettbewerb „Mini Award“ mitzuorganisieren." in text
    (row,) = await invitations(db)
    assert (row.role, row.categories) == (Role.ORGANISER, [])


async def test_second_invitation_renews_the_first(org_client: Client, db: Database, settings: Settings) -> None:
    await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror", categories=["smart-city"])
    response = await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror", categories=["govtech"])
    assert response.status_code == 303
    (row,) = await invitations(db)
    assert (row.send_count, row.categories) == (2, ["govtech"])
    first, second = (link_token(m, "/invitations") for m in outbox(settings))
    assert first != second
    old = await org_client.get(f"/invitations/{first}", headers=EN)
    assert old.status_code == 400  # only the newest link works
    assert (await org_client.get(f"/invitations/{second}", headers=EN)).status_code == 200


async def test_inviting_someone_who_has_the_role_is_refused(
    org_client: Client, db: Database, settings: Settings
) -> None:
    response = await invite(org_client, email=JANE, name="Jane Doe", role="juror")
    assert response.status_code == 400
    assert re.search(r'id="f-email-error">.*This person already has this role in the award\.', response.text)
    assert await invitations(db) == []
    assert outbox(settings) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-address", "name": "Nina", "role": "juror"}, "email", "Enter a valid e-mail address"),
        ({"email": "neu@example.org", "name": "", "role": "juror"}, "name", "Enter the person's name."),
        ({"email": "neu@example.org", "name": "x" * 201, "role": "juror"}, "name", "Use at most 200 characters."),
        (
            {"email": "neu@example.org", "name": "Nina", "role": "juror", "categories": ["smart-city", "space"]},
            "categories",
            "Choose categories of this award.",
        ),
        ({"email": "neu@example.org", "name": "Nina"}, "role", "Choose a role."),
        ({"email": "neu@example.org", "name": "Nina", "role": "startup"}, "role", "Choose a role."),
    ],
)
async def test_invalid_invitation_is_explained_beside_the_field(
    org_client: Client, db: Database, settings: Settings, data: dict[str, str], field: str, message: str
) -> None:
    response = await invite(org_client, **data)
    assert response.status_code == 400
    text = html.unescape(response.text)
    if field in ("email", "name"):
        assert re.search(rf'id="f-{field}-error">.*{re.escape(message)}', text)
    else:  # role and categories are fieldsets with the message inside
        fieldset = text.split(f'id="f-{field}"', 1)[1].split("</fieldset>", 1)[0]
        assert f'<p class="field-error">{message}</p>' in fieldset
    assert "Please check your entries" in text
    assert await invitations(db) == []
    assert await person_by_email(db, "neu@example.org") is None
    assert outbox(settings) == []
    if data.get("email") == "neu@example.org":  # the form keeps what was typed
        assert 'value="neu@example.org"' in response.text


# --- accepting -------------------------------------------------------------------------------


async def test_accepting_signs_in_and_grants_role_and_categories(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings, award_id: int
) -> None:
    await invite(
        org_client, email="neu@example.org", name="Nina Neu", role="juror", categories=["smart-city", "govtech"]
    )
    token = link_token(outbox(settings)[0], "/invitations")

    page = await invitee_browser.get(f"/invitations/{token}", headers=EN)
    assert page.status_code == 200
    assert "Nina Neu, you are invited to the jury of this award." in page.text
    invitee = await person_by_email(db, "neu@example.org")
    assert invitee is not None
    assert await roles_of(db, invitee.id, award_id) == set()  # nothing granted before accepting

    response = await post_form(invitee_browser, f"/invitations/{token}", token=csrf_token(page.text))
    assert (response.status_code, response.headers["location"]) == (303, "/account?welcome=mini-award")
    new_session_token(response)

    person = await person_by_email(db, "neu@example.org")
    assert person is not None
    assert await roles_of(db, person.id, award_id) == {Role.JUROR}
    async with db.session() as s:
        slugs = set(
            (
                await s.execute(
                    sa.select(Category.slug)
                    .join(JurorCategory, JurorCategory.category_id == Category.id)
                    .where(JurorCategory.person_id == person.id)
                )
            ).scalars()
        )
        accepted = (
            await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "invitation.accepted"))
        ).scalar_one()
        granted = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "role.granted"))).scalar_one()
    assert slugs == {"smart-city", "govtech"}
    assert (accepted.actor_id, accepted.award_id) == (person.id, award_id)
    assert granted.after == {"role": "juror", "via": "invitation"}
    (row,) = await invitations(db)
    assert row.accepted_at is not None
    assert [r.person_id for r in await session_rows(db, person.id)] == [person.id]

    account = await invitee_browser.get("/account?welcome=mini-award", headers=EN)
    assert "Welcome! You have accepted the invitation." in account.text
    assert "Mini Award" in account.text and "Juror" in account.text

    again = await post_form(invitee_browser, f"/invitations/{token}", token=csrf_token(account.text))
    assert again.status_code == 400 and "used already" in again.text
    assert (await invitee_browser.get(f"/invitations/{token}", headers=EN)).status_code == 400
    assert "Accepted" in await invitation_row_html(org_client, "Nina Neu")


async def test_accepting_as_organiser_shows_people_link(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings, award_id: int
) -> None:
    await invite(org_client, email="otto@example.org", name="Otto Org", role="organiser", categories=["govtech"])
    token = link_token(outbox(settings)[0], "/invitations")
    assert (await accept(invitee_browser, token)).status_code == 303
    person = await person_by_email(db, "otto@example.org")
    assert person is not None
    assert await roles_of(db, person.id, award_id) == {Role.ORGANISER}
    async with db.session() as s:  # categories are for jurors only
        assert (await s.execute(sa.select(JurorCategory).where(JurorCategory.person_id == person.id))).first() is None
    assert (await invitee_browser.get(PEOPLE, headers=EN)).status_code == 200


async def test_unknown_invitation_token(client: Client) -> None:
    response = await client.get("/invitations/no-such-token", headers=EN)
    assert response.status_code == 400 and "This link no longer works" in response.text


async def test_accepting_needs_csrf_token(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings
) -> None:
    await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror")
    token = link_token(outbox(settings)[0], "/invitations")
    await invitee_browser.get(f"/invitations/{token}", headers=EN)
    response = await post_form(invitee_browser, f"/invitations/{token}", token="")
    assert response.status_code == 403
    (row,) = await invitations(db)
    assert row.accepted_at is None


# --- revoking, expiry, resending -------------------------------------------------------------


async def test_revoked_invitation_link_answers_400(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings
) -> None:
    await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror")
    token = link_token(outbox(settings)[0], "/invitations")
    (row,) = await invitations(db)
    response = await post_form(org_client, f"{INVITE}/{row.id}/revoke", token=await page_token(org_client, PEOPLE))
    assert (response.status_code, response.headers["location"]) == (303, f"{PEOPLE}?revoked=1")
    assert "invitation.revoked" in await audit_actions(db)

    page = await invitee_browser.get(f"/invitations/{token}", headers=EN)
    assert page.status_code == 400
    assert "The organisers have withdrawn this invitation." in page.text
    response = await post_form(invitee_browser, f"/invitations/{token}", token=await page_token(invitee_browser, "/"))
    assert response.status_code == 400
    assert "Withdrawn" in await invitation_row_html(org_client, "Nina Neu")
    # a withdrawn invitation cannot be sent again
    response = await post_form(org_client, f"{INVITE}/{row.id}/resend", token=await page_token(org_client, PEOPLE))
    assert response.headers["location"] == f"{PEOPLE}?not_open=1"
    assert len(outbox(settings)) == 1


async def test_expired_invitation_shows_expired_and_can_be_resent(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings, award_id: int
) -> None:
    await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror")
    old = link_token(outbox(settings)[0], "/invitations")
    async with db.session() as s:
        await s.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert "Expired" in await invitation_row_html(org_client, "Nina Neu")
    page = await invitee_browser.get(f"/invitations/{old}", headers=EN)
    assert page.status_code == 400 and "It has expired." in page.text

    (row,) = await invitations(db)
    response = await post_form(org_client, f"{INVITE}/{row.id}/resend", token=await page_token(org_client, PEOPLE))
    assert (response.status_code, response.headers["location"]) == (303, f"{PEOPLE}?resent=1")
    (row,) = await invitations(db)
    assert row.send_count == 2 and row.expires_at > utcnow() + timedelta(days=13)
    assert "Pending" in await invitation_row_html(org_client, "Nina Neu")
    assert "invitation.resent" in await audit_actions(db)
    new = link_token(outbox(settings)[1], "/invitations")
    assert new != old
    assert (await invitee_browser.get(f"/invitations/{old}", headers=EN)).status_code == 400
    assert (await accept(invitee_browser, new)).status_code == 303


async def test_accepted_invitation_cannot_be_revoked_or_resent(
    org_client: Client, invitee_browser: Client, db: Database, settings: Settings
) -> None:
    await invite(org_client, email="neu@example.org", name="Nina Neu", role="juror")
    await accept(invitee_browser, link_token(outbox(settings)[0], "/invitations"))
    (row,) = await invitations(db)
    token = await page_token(org_client, PEOPLE)
    for action in ("revoke", "resend"):
        response = await post_form(org_client, f"{INVITE}/{row.id}/{action}", token=token)
        assert response.headers["location"] == f"{PEOPLE}?not_open=1"
    (row,) = await invitations(db)
    assert row.revoked_at is None and row.send_count == 1


async def test_invitation_of_another_award_is_not_found(org_client: Client, db: Database) -> None:
    async with db.session() as s:
        other = await import_bundle(s, small_bundle("other-award"))
        olga = (await s.execute(sa.select(Person).where(Person.email == "olga@example.org"))).scalar_one()
        invitation = Invitation(
            award_id=other.id,
            person_id=olga.id,
            role=Role.JUROR,
            categories=[],
            token_hash="x" * 64,
            expires_at=utcnow() + timedelta(days=1),
        )
        s.add(invitation)
        await s.flush()
        invitation_id = invitation.id
    token = await page_token(org_client, PEOPLE)
    response = await post_form(org_client, f"{INVITE}/{invitation_id}/revoke", token=token)
    assert response.status_code == 404
    (row,) = await invitations(db)
    assert row.revoked_at is None


# --- roles -----------------------------------------------------------------------------------


async def test_organiser_removes_a_jurors_role_after_a_confirmation_page(
    org_client: Client, db: Database, award_id: int
) -> None:
    jane = await person_by_email(db, JANE)
    assert jane is not None
    page = await org_client.get(PEOPLE, headers=EN)
    confirm_url = f"{PEOPLE}/{jane.id}/remove-role"
    assert f'href="{confirm_url}?role=juror"' in page.text  # a link to the confirmation page, no one-click form
    shown = await open_confirmation(org_client, f"{confirm_url}?role=juror")
    assert shown.status == 200 and "Remove Jane Doe as juror?" in shown.html
    assert shown.facts == [
        "Jane Doe can no longer open this award's score sheets.",
        "1 submitted sheet stays and counts.",
    ]
    assert (shown.refusals, shown.warnings) == ([], [])
    # the old one-click form (no confirmation fields) changes nothing
    token = csrf_token(page.text)
    unconfirmed = await post_form(org_client, confirm_url, {"role": "juror"}, token=token)
    assert unconfirmed.status_code == 400
    assert await roles_of(db, jane.id, award_id) == {Role.JUROR}
    response = await confirm(org_client, confirm_url, page=shown)
    assert (response.status_code, response.headers["location"]) == (303, f"{PEOPLE}?removed=1")
    assert await roles_of(db, jane.id, award_id) == set()
    async with db.session() as s:
        event = (await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "role.revoked"))).scalar_one()
    assert (event.object_id, event.before) == (str(jane.id), {"role": "juror"})


async def test_organiser_cannot_remove_own_organiser_role(
    org_client: Client, db: Database, organiser: int, award_id: int
) -> None:
    token = await page_token(org_client, PEOPLE)
    shown = await open_confirmation(org_client, f"{PEOPLE}/{organiser}/remove-role?role=organiser")
    assert shown.refusals == ["You cannot remove your own organiser role."] and shown.fields == {}
    forged = {"role": "organiser", "confirm": "yes", "state": "x"}
    response = await post_form(org_client, f"{PEOPLE}/{organiser}/remove-role", forged, token=token)
    assert response.status_code == 409
    assert "You cannot remove your own organiser role." in response.text
    assert await roles_of(db, organiser, award_id) == {Role.ORGANISER}
    assert "role.revoked" not in await audit_actions(db)


async def test_organiser_removes_another_organiser(
    org_client: Client, db: Database, award_id: int, organiser: int
) -> None:
    other = await make_person(db, "otto@example.org", "Otto Org", role=Role.ORGANISER, award_id=award_id)
    shown = await open_confirmation(org_client, f"{PEOPLE}/{other}/remove-role?role=organiser")
    assert shown.facts == ["Otto Org can no longer manage this award.", "1 organiser remains: Olga Organiser."]
    response = await confirm(org_client, f"{PEOPLE}/{other}/remove-role", page=shown)
    assert response.headers["location"] == f"{PEOPLE}?removed=1"
    assert await roles_of(db, other, award_id) == set()


async def test_the_last_organiser_of_an_award_is_never_removed(
    client: Client, db: Database, settings: Settings, award_id: int, organiser: int
) -> None:
    root = await make_organiser(db, "root@example.org", "Rita Root")  # platform-wide: manages every award
    await sign_in_as(client, db, settings, root)
    path = f"{PEOPLE}/{organiser}/remove-role"
    shown = await open_confirmation(client, f"{path}?role=organiser")
    assert shown.facts == ["Olga Organiser can no longer manage this award.", "No organiser remains."]
    assert shown.refusals == ["Olga Organiser is the award's last organiser. Invite another organiser first."]
    assert shown.fields == {}
    token = await page_token(client, PEOPLE)
    forged = await post_form(client, path, {"role": "organiser", "confirm": "yes", "state": "x"}, token=token)
    assert forged.status_code == 409
    assert await roles_of(db, organiser, award_id) == {Role.ORGANISER}
    assert "role.revoked" not in await audit_actions(db)


async def test_people_page_lists_people_by_role(org_client: Client) -> None:
    page = await org_client.get(PEOPLE, headers=EN)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Olga Organiser" in page.text and "Jane Doe" in page.text and "Max Muster" in page.text
    jurors = page.text.split('id="h-juror"', 1)[1].split("</section>", 1)[0]
    assert "Jane Doe" in jurors and "Smart City" in jurors
    assert "No invitations yet." in page.text


# --- who may -----------------------------------------------------------------------------------


async def test_juror_gets_403_on_people_page_and_every_post(
    client: Client, db: Database, settings: Settings, award_id: int, organiser: int
) -> None:
    jane = await person_by_email(db, JANE)
    assert jane is not None
    async with db.session() as s:
        s.add(
            Invitation(
                award_id=award_id,
                person_id=organiser,
                role=Role.JUROR,
                categories=[],
                token_hash="y" * 64,
                expires_at=utcnow() + timedelta(days=1),
            )
        )
    (row,) = await invitations(db)
    await sign_in_as(client, db, settings, jane.id)
    page = await client.get(PEOPLE, headers=EN)
    assert page.status_code == 403 and "Access denied" in page.text
    token = await page_token(client, "/account")
    posts = [
        (INVITE, {"email": "neu@example.org", "name": "Nina", "role": "juror"}),
        (f"{INVITE}/{row.id}/resend", {}),
        (f"{INVITE}/{row.id}/revoke", {}),
        (f"{PEOPLE}/{organiser}/remove-role", {"role": "organiser"}),
        (f"{PEOPLE}/{jane.id}/remove-role", {"role": "juror"}),
    ]
    for path, data in posts:
        response = await post_form(client, path, data, token=token)
        assert response.status_code == 403, path
    (after,) = await invitations(db)
    assert (after.send_count, after.revoked_at) == (1, None)
    assert await roles_of(db, organiser, award_id) == {Role.ORGANISER}
    assert await roles_of(db, jane.id, award_id) == {Role.JUROR}
    assert await person_by_email(db, "neu@example.org") is None
    assert outbox(settings) == []


async def test_organiser_of_another_award_gets_403(client: Client, db: Database, settings: Settings) -> None:
    async with db.session() as s:
        await import_bundle(s, small_bundle())
        other = await import_bundle(s, small_bundle("other-award"))
    person_id = await make_person(db, "otto@example.org", "Otto Org", role=Role.ORGANISER, award_id=other.id)
    await sign_in_as(client, db, settings, person_id)
    assert (await client.get("/awards/other-award/people", headers=EN)).status_code == 200
    assert (await client.get(PEOPLE, headers=EN)).status_code == 403
    token = await page_token(client, "/account")
    response = await post_form(
        client, INVITE, {"email": "neu@example.org", "name": "Nina", "role": "juror"}, token=token
    )
    assert response.status_code == 403


async def test_platform_organiser_manages_every_award(
    client: Client, db: Database, settings: Settings, award_id: int
) -> None:
    person_id = await make_organiser(db, "root@example.org", "Rita Root")
    await sign_in_as(client, db, settings, person_id)
    assert (await client.get(PEOPLE, headers=EN)).status_code == 200
    response = await invite(client, email="neu@example.org", name="Nina", role="juror")
    assert response.status_code == 303


async def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: Database, award_id: int) -> None:
    response = await client.get(PEOPLE, headers=EN, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/signin?next=%2Fawards%2Fmini-award%2Fpeople")
    token = await page_token(client, "/")
    response = await post_form(
        client, INVITE, {"email": "neu@example.org", "name": "Nina", "role": "juror"}, token=token
    )
    assert response.status_code == 401
    assert await invitations(db) == []


async def test_unknown_award_is_404(client: Client, db: Database, settings: Settings) -> None:
    person_id = await make_organiser(db)
    await sign_in_as(client, db, settings, person_id)
    assert (await client.get("/awards/no-such-award/people", headers=EN)).status_code == 404
    token = await page_token(client, "/account")
    response = await post_form(
        client,
        "/awards/no-such-award/invitations",
        {"email": "neu@example.org", "name": "N", "role": "juror"},
        token=token,
    )
    assert response.status_code == 404
