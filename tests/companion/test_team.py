"""Company administration (O3, O5-O7, O9): invitations, deletion, administrators, assignment."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from companion_server.core import Core
from companion_server.errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from companion_server.installations import queue, services as installations
from companion_server.models import Company, Role, User
from companion_server.team import services as team
from companion_server.team.invitations import invite, revoke_invitation
from tests.companion.helpers import (
    PASSWORD,
    BrowserFactory,
    FakeClock,
    PortalClient,
    last_link,
    mails,
    make_company,
    make_user,
)

ACCEPT = {"name": "Nina New", "password": PASSWORD, "password_confirm": PASSWORD, "language": "sk"}


async def _admin(core: Core, email: str = "boss@example.com") -> tuple[Company, User]:
    company = await make_company(core, "Acme Installers")
    return company, await make_user(core, company, email, role=Role.ADMIN, name="Boss")


async def _role(core: Core, user_id: int) -> str | None:
    async with core.tx() as db:
        user = await db.get(User, user_id)
        return user.role if user else None


async def test_invite_accept_single_use(
    client: PortalClient, core: Core, browsers: BrowserFactory
) -> None:
    company, admin = await _admin(core)
    await client.login(admin.email)
    page = await client.post("/team/invitations", {"email": "Nina@Example.com", "language": "fr"})
    assert (page.status, page.location) == (303, "/team")
    page = await client.get("/team")
    assert "nina@example.com" in page.text and "L'invitation" not in page.text
    invitation = (await mails(core, "nina@example.com", "invitation"))[0]
    assert invitation.subject == "Acme Installers vous invite sur le portail installateur"
    link = await last_link(core, "nina@example.com", "invitation")

    nina = await browsers.new()
    page = await nina.get(link)
    assert page.status == 200 and "nina@example.com" in page.text
    page = await nina.post(link, {**ACCEPT, "password_confirm": "mismatch mismatch"})
    assert page.status == 400
    page = await nina.post(link, ACCEPT)
    assert (page.status, page.location) == (303, "/installations")
    page = await nina.get("/installations")
    assert "Vitajte! Váš účet je pripravený." in page.text  # logged in, in her language
    async with core.tx() as db:
        user = await db.scalar(select(User).where(User.email == "nina@example.com"))
    assert user is not None and user.role == Role.INSTALLER and user.company_id == company.id
    # Single use: the link is dead, for her and for anyone else.
    stranger = await browsers.new()
    assert (await stranger.get(link)).status == 404
    assert (await stranger.post(link, ACCEPT)).status == 404
    # Installers do not administer.
    assert (await nina.get("/team")).status == 403
    assert (
        await nina.post("/team/invitations", {"email": "z@example.com", "language": "en"})
    ).status == 403


async def test_invitation_expires_and_can_be_withdrawn(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    _, admin = await _admin(core)
    await invite(core, admin.id, email="late@example.com", language="en", ip="127.0.0.1")
    late = await last_link(core, "late@example.com")
    clock.advance(days=7, seconds=1)
    assert (await client.get(late)).status == 404
    assert (await client.post(late, ACCEPT)).status == 404

    await invite(core, admin.id, email="gone@example.com", language="en", ip="127.0.0.1")
    gone = await last_link(core, "gone@example.com")
    view = await team.team(core, admin.id)
    assert [i.email for i in view.invitations] == ["gone@example.com"]
    await revoke_invitation(core, admin.id, view.invitations[0].id, "127.0.0.1")
    assert (await client.get(gone)).status == 404
    # A new invitation replaces the pending one.
    await invite(core, admin.id, email="twice@example.com", language="en", ip="127.0.0.1")
    first = await last_link(core, "twice@example.com")
    await invite(core, admin.id, email="twice@example.com", language="en", ip="127.0.0.1")
    assert (await client.get(first)).status == 404
    assert (await client.get(await last_link(core, "twice@example.com"))).status == 200


async def test_one_login_per_person(client: PortalClient, core: Core) -> None:
    company, admin = await _admin(core)
    await make_user(core, company, "mine@example.com")
    other = await make_company(core, "Other Co")
    await make_user(core, other, "elsewhere@example.com", language="es")
    with pytest.raises(ValidationFailed) as err:
        await invite(core, admin.id, email="mine@example.com", language="en", ip="x")
    assert err.value.errors == {"email": "This person is already in your team."}
    # Someone of another company: the same answer as for a new address; they are told.
    await invite(core, admin.id, email="elsewhere@example.com", language="en", ip="x")
    notices = await mails(core, "elsewhere@example.com")
    assert [m.kind for m in notices] == ["invitation_existing"]
    assert "/invitation/" not in notices[0].body
    # An invitation accepted after the address got an account elsewhere is refused.
    await invite(core, admin.id, email="race@example.com", language="en", ip="x")
    link = await last_link(core, "race@example.com")
    await make_user(core, other, "race@example.com")
    assert (await client.post(link, ACCEPT)).status == 404


async def test_delete_collaborator_ends_access_at_once(
    client: PortalClient, core: Core, browsers: BrowserFactory
) -> None:
    company, admin = await _admin(core)
    worker = await make_user(core, company, "worker@example.com", language="fr")
    phone, laptop = await browsers.new(), await browsers.new()
    await phone.login("worker@example.com")
    await laptop.login("worker@example.com")
    assert (await phone.get("/installations")).status == 200
    installation = await installations.create_installation(core, company.id, name="Villa")
    await installations.assign(core, admin.id, installation.id, worker.id, "x")

    await client.login(admin.email)
    page = await client.post(f"/team/members/{worker.id}/delete")
    assert (page.status, page.location) == (303, "/team")
    for device in (phone, laptop):
        page = await device.get("/installations")
        assert page.status == 303 and page.location.startswith("/login")
    assert (await phone.login("worker@example.com")).status == 400
    notice = (await mails(core, "worker@example.com", "member_deleted"))[0]
    assert notice.subject == "Votre accès au portail installateur a pris fin"
    _, assignees = await installations.get_installation(core, admin.id, installation.id)
    assert assignees == []
    # Nobody deletes themselves.
    page = await client.post(f"/team/members/{admin.id}/delete")
    assert page.status == 409 and "You cannot delete yourself." in page.text
    assert await _role(core, admin.id) == Role.ADMIN


async def test_at_most_two_administrators(core: Core) -> None:
    company, admin = await _admin(core)
    second = await make_user(core, company, "second@example.com")
    third = await make_user(core, company, "third@example.com")
    await team.promote(core, admin.id, second.id, "x")
    assert await _role(core, second.id) == Role.ADMIN
    with pytest.raises(RuleViolation, match="at most two"):
        await team.promote(core, admin.id, third.id, "x")
    with pytest.raises(RuleViolation, match="at most two"):
        await team.promote(core, second.id, third.id, "x")
    assert [m.kind for m in await mails(core, "second@example.com")] == ["role_changed"]
    # Installers cannot promote, nor promote across companies.
    with pytest.raises(Forbidden):
        await team.promote(core, third.id, third.id, "x")
    _, outsider_admin = await _admin(core, "outsider@example.com")
    with pytest.raises(NotFound):
        await team.promote(core, outsider_admin.id, third.id, "x")


async def test_last_administrator_names_a_successor(client: PortalClient, core: Core) -> None:
    company, admin = await _admin(core)
    heir = await make_user(core, company, "heir@example.com")
    await client.login(admin.email)
    page = await client.post("/team/step-down", {"successor_id": ""})
    assert page.status == 409 and "Name a successor" in page.text
    assert await _role(core, admin.id) == Role.ADMIN
    page = await client.post("/team/step-down", {"successor_id": str(heir.id)})
    assert (page.status, page.location) == (303, "/installations")
    assert (await _role(core, admin.id), await _role(core, heir.id)) == (Role.INSTALLER, Role.ADMIN)
    assert (await client.get("/team")).status == 403  # the change applies at once
    # With two administrators, one may step down without naming anyone; then the
    # remaining one can delete the leaver.
    await team.promote(core, heir.id, admin.id, "x")
    await team.step_down(core, admin.id, None, "x")
    await team.delete_member(core, heir.id, admin.id, "x")
    with pytest.raises(RuleViolation):
        await team.step_down(core, heir.id, None, "x")
    with pytest.raises(RuleViolation, match="colleague"):
        await team.step_down(core, heir.id, heir.id, "x")


async def test_installers_see_only_their_installations(
    client: PortalClient, core: Core, browsers: BrowserFactory
) -> None:
    company, admin = await _admin(core)
    ivan = await make_user(core, company, "ivan@example.com", name="Ivan")
    olga = await make_user(core, company, "olga@example.com", name="Olga")
    mine = await installations.create_installation(
        core, company.id, name="Ivan's villa", box_pin="1234-5678-9012"
    )
    theirs = await installations.create_installation(core, company.id, name="Olga's flat")
    other_company = await make_company(core, "Elsewhere")
    foreign = await installations.create_installation(core, other_company.id, name="Foreign house")

    await client.login(admin.email)
    page = await client.post(f"/installations/{mine.id}/assignments", {"user_id": str(ivan.id)})
    assert (page.status, page.location) == (303, f"/installations/{mine.id}")
    await installations.assign(core, admin.id, theirs.id, olga.id, "x")
    await installations.assign(core, admin.id, theirs.id, olga.id, "x")  # idempotent
    page = await client.get("/installations")
    assert "Ivan's villa" in page.text and "Olga's flat" in page.text
    assert "Foreign house" not in page.text
    page = await client.get(f"/installations/{mine.id}")
    assert 'data-assignee="ivan@example.com"' in page.raw

    ivan_browser = await browsers.new()
    await ivan_browser.login("ivan@example.com")
    page = await ivan_browser.get("/installations")
    assert "Ivan's villa" in page.text and "Olga's flat" not in page.text
    assert (await ivan_browser.get(f"/installations/{mine.id}")).status == 200
    assert (await ivan_browser.get(f"/installations/{theirs.id}")).status == 404
    assert (await ivan_browser.get(f"/installations/{foreign.id}")).status == 404
    # Only administrators assign, and only inside their company.
    page = await ivan_browser.post(
        f"/installations/{theirs.id}/assignments", {"user_id": str(ivan.id)}
    )
    assert page.status == 403
    assert (
        await client.post(f"/installations/{foreign.id}/assignments", {"user_id": str(ivan.id)})
    ).status == 404
    outsider = await make_user(core, other_company, "out@example.com")
    assert (
        await client.post(f"/installations/{mine.id}/assignments", {"user_id": str(outsider.id)})
    ).status == 404

    page = await client.post(f"/installations/{mine.id}/assignments/{ivan.id}/delete")
    assert page.status == 303
    assert (await ivan_browser.get(f"/installations/{mine.id}")).status == 404
    page = await ivan_browser.get("/installations")
    assert "No installation is assigned to you yet" in page.text


async def test_installations_list_is_paginated(client: PortalClient, core: Core) -> None:
    company, admin = await _admin(core)
    for number in range(queue.PAGE_SIZE + 5):
        await installations.create_installation(core, company.id, name=f"Site {number:03}")
    newest = queue.QueueQuery(sort="newest")
    first = await queue.work_queue(core, admin, newest)
    assert first.next_after is not None
    second = await queue.work_queue(
        core, admin, queue.QueueQuery(sort="newest", after=first.next_after)
    )
    assert (first.total, len(first.rows), len(second.rows)) == (55, 50, 5)
    assert first.rows[0].installation.name == "Site 054"
    assert second.next_after is None
    await client.login(admin.email)
    page = await client.get("/installations?sort=newest&after=" + first.next_after)
    assert "Site 000" in page.text and "Site 054" not in page.text
    assert (await client.get("/installations?after=abc&sort=zzz")).status == 200


async def test_team_page_counts_and_security_log(client: PortalClient, core: Core) -> None:
    company, admin = await _admin(core)
    ivan = await make_user(core, company, "ivan@example.com", name="Ivan")
    for number in range(3):
        installation = await installations.create_installation(core, company.id, name=f"S{number}")
        await installations.assign(core, admin.id, installation.id, ivan.id, "x")
    await client.login(admin.email)
    page = await client.get("/team")
    row = page.raw.split('data-member="ivan@example.com"')[1].split("</tr>")[0]
    assert '<td data-label="Installations">3</td>' in row
    await client.post("/profile", {"name": "Boss", "language": "fr"})
    page = await client.get("/audit")
    assert page.status == 200
    for label in ("Connexion", "Installation attribuée", "Profil modifié"):
        assert label in page.text
    assert "ivan@example.com" in page.text
    # Another company's events are not shown.
    _, other = await _admin(core, "other-boss@example.com")
    await make_user(core, await make_company(core, "X"), "x@example.com")
    await installations.create_installation(core, other.company_id, name="Other")
    assert "other-boss@example.com" not in page.text


async def test_concurrent_role_changes_keep_the_rules(core: Core) -> None:
    company, admin = await _admin(core)
    second = await make_user(core, company, "second@example.com", role=Role.ADMIN)
    a = await make_user(core, company, "a@example.com")
    b = await make_user(core, company, "b@example.com")
    await team.step_down(core, second.id, None, "x")
    # Two promotions at once: exactly one wins (two administrators at most).
    results = await asyncio.gather(
        team.promote(core, admin.id, a.id, "x"),
        team.promote(core, admin.id, b.id, "x"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "RuleViolation"]
    async with core.tx() as db:
        assert await team.admin_count(db, company.id) == 2
    # Two administrators deleting each other at once: one of them stays.
    promoted = a if results[0] is None else b
    results = await asyncio.gather(
        team.delete_member(core, admin.id, promoted.id, "x"),
        team.delete_member(core, promoted.id, admin.id, "x"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "NotFound"]
    async with core.tx() as db:
        assert await team.admin_count(db, company.id) == 1


async def test_concurrent_wrong_passwords_are_all_counted(client: PortalClient, core: Core) -> None:
    from companion_server.accounts.logins import LoginFailed, login

    company = await make_company(core)
    await make_user(core, company, "target@example.com")
    results = await asyncio.gather(
        *(
            login(
                core,
                email="target@example.com",
                password="wrong!!!!!",
                ip="1.2.3.4",
                user_agent="t",
            )
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(r, LoginFailed) for r in results)
    async with core.tx() as db:
        user = await db.scalar(select(User).where(User.email == "target@example.com"))
    assert user is not None and user.failed_logins == 3 and user.locked_at is not None
