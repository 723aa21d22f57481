"""The console's pages over HTTP: an invited operator, the queue, a case, refused steps."""

from __future__ import annotations

import re

from companion_server.core import Core
from companion_server.models import Role
from tests.companion import centre_world as world
from tests.companion.helpers import BrowserFactory, PortalClient, last_link, make_user

ACCEPT = {
    "name": "Olga",
    "language": "fr",
    "password": "a long enough password",
    "password_confirm": "a long enough password",
}


def version_of(text: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', text)
    assert match is not None
    return match.group(1)


async def test_an_invited_operator_works_in_the_console(
    client: PortalClient, core: Core, browsers: BrowserFactory
) -> None:
    case_id, _, admin_id = await world.opened_case(core)
    async with core.tx() as db:
        from companion_server.models import User

        admin = await db.get(User, admin_id)
        assert admin is not None
    await client.login(admin.email)
    page = await client.post(
        "/team/invitations", {"email": "olga@acme.example", "language": "fr", "role": "operator"}
    )
    assert (page.status, page.location) == (303, "/team")
    assert (
        await client.post("/team/invitations", {"email": "x@acme.example", "role": "boss"})
    ).status == 400
    olga = await browsers.new()
    page = await olga.post(await last_link(core, "olga@acme.example", "invitation"), ACCEPT)
    assert page.status == 303
    # Operators land in the console and see nothing of the installations.
    page = await olga.get("/")
    assert (page.status, page.location) == (303, "/centre")
    page = await olga.get("/installations")
    assert (page.status, page.location) == (303, "/centre")
    page = await olga.get("/centre")
    assert page.status == 200 and f"/centre/cases/{case_id}" in page.text
    assert 'href="/installations"' not in page.text
    assert (
        await olga.post("/installations/registrations", {"pin": "1234-5678-9012"})
    ).status == 403
    # The case: contacts with tel: links, instructions, and nothing to record before taking it.
    page = await olga.get(f"/centre/cases/{case_id}")
    assert 'href="tel:+33612345678"' in page.text and "The dog is friendly." in page.text
    assert 'name="step"' not in page.text
    assert (await olga.post(f"/centre/cases/{case_id}/claim")).status == 303
    page = await olga.get(f"/centre/cases/{case_id}")
    version = version_of(page.text)
    assert 'value="no_answer"' in page.text and 'value="dispatch_guard"' not in page.text
    # A step the protocol does not offer now: 409, translated, nothing recorded.
    page = await olga.post(
        f"/centre/cases/{case_id}/steps", {"step": "dispatch_guard", "version": version}
    )
    assert page.status == 409
    assert "Cette étape n'est pas permise" in page.text
    page = await olga.post(
        f"/centre/cases/{case_id}/steps",
        {"step": "identify", "version": version, "password": world.PASSWORDS[0]},
    )
    assert (page.status, page.location) == (303, f"/centre/cases/{case_id}")
    # The same page sent again is outdated.
    page = await olga.post(
        f"/centre/cases/{case_id}/steps", {"step": "no_answer", "version": version}
    )
    assert page.status == 409 and "Ce dossier a changé" in page.text
    page = await olga.get(f"/centre/cases/{case_id}")
    assert 'value="false_alarm"' in page.text
    assert "Identifié" in page.text


async def test_installers_have_no_console(client: PortalClient, core: Core) -> None:
    case_id, _, admin_id = await world.opened_case(core)
    company_id = await world.company_of(core, admin_id)
    async with core.tx() as db:
        from companion_server.models import Company

        company = await db.get(Company, company_id)
    installer = await make_user(core, company, "ivan@acme.example", role=Role.INSTALLER)  # type: ignore[arg-type]
    await client.login(installer.email)
    assert (await client.get("/centre")).status == 403
    assert (await client.get(f"/centre/cases/{case_id}")).status == 403
    page = await client.get("/installations")
    assert 'href="/centre"' not in page.text


async def test_the_first_contact_calls_back_during_the_wait(
    client: PortalClient, core: Core
) -> None:
    """ "Who called back" names contacts by their place in the calling order, from 0."""
    case_id, _, admin_id = await world.opened_case(core)
    async with core.tx() as db:
        from companion_server.models import User

        admin = await db.get(User, admin_id)
        assert admin is not None
    await client.login(admin.email)
    assert (await client.post(f"/centre/cases/{case_id}/claim")).status == 303
    for step in ("no_answer", "message_left", "no_answer", "message_left"):
        version = version_of((await client.get(f"/centre/cases/{case_id}")).text)
        page = await client.post(
            f"/centre/cases/{case_id}/steps", {"step": step, "version": version}
        )
        assert page.status == 303, step
    page = await client.get(f"/centre/cases/{case_id}")
    assert '<option value="0">' in page.text  # the waiting case asks who called back
    for bad in ("2", "-1", "x"):
        answer = await client.post(
            f"/centre/cases/{case_id}/steps",
            {"step": "identify", "version": version_of(page.text), "contact": bad},
        )
        assert answer.status == 404, bad
    page = await client.post(
        f"/centre/cases/{case_id}/steps",
        {
            "step": "identify",
            "version": version_of(page.text),
            "contact": "0",
            "password": world.PASSWORDS[0],
        },
    )
    assert (page.status, page.location) == (303, f"/centre/cases/{case_id}")
    page = await client.get(f"/centre/cases/{case_id}")
    assert 'data-phase="identified"' in page.text
