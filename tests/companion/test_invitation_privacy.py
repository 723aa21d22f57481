"""Invitations tell an administrator nothing about other companies' people, and are limited."""

from __future__ import annotations

import re

from companion_server.core import Core
from companion_server.models import Role
from tests.companion.helpers import (
    FakeClock,
    PortalClient,
    last_link,
    mails,
    make_company,
    make_user,
)


async def _invite(client: PortalClient, email: str) -> tuple[int, str | None]:
    page = await client.post("/team/invitations", {"email": email, "language": "en"})
    return page.status, page.location


def _pending(page_text: str, email: str) -> str:
    """The team page's line of an invitation, with the address blanked out."""
    [line] = [line for line in page_text.splitlines() if email in line]
    return re.sub(r"/team/invitations/\d+/", "/team/invitations/N/", line.replace(email, "X"))


async def test_an_address_with_an_account_elsewhere_looks_like_a_new_one(
    client: PortalClient, core: Core
) -> None:
    company = await make_company(core)
    await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    other = await make_company(core, "Other Co")
    await make_user(core, other, "taken@example.com")
    assert (await client.login("boss@example.com")).status == 303
    assert await _invite(client, "taken@example.com") == await _invite(client, "fresh@example.com")
    page = await client.get("/team")
    assert _pending(page.text, "taken@example.com") == _pending(page.text, "fresh@example.com")
    # The person with an account is told by mail, without a usable link.
    [notice] = await mails(core, "taken@example.com")
    assert notice.kind == "invitation_existing" and "/invitation/" not in notice.body
    assert "/invitation/" in await last_link(core, "fresh@example.com")


async def test_invitations_are_limited_per_address_and_company_per_day(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, "boss@example.com", role=Role.ADMIN, language="fr")
    other = await make_company(core, "Other Co")
    await make_user(core, other, "taken@example.com")
    assert (await client.login("boss@example.com")).status == 303
    for email in ("taken@example.com", "fresh@example.com"):
        answers = [(await _invite(client, email))[0] for _ in range(4)]
        assert answers == [303, 303, 303, 400], email
    page = await client.post("/team/invitations", {"email": "fresh@example.com", "language": "en"})
    assert page.status == 400
    assert "Cette adresse a été invitée trop souvent aujourd'hui." in page.text
    assert len(await mails(core, "fresh@example.com")) == 3
    # 20 a day per company: 6 so far, 14 more new addresses, then refused.
    answers = [(await _invite(client, f"new{n}@example.com"))[0] for n in range(15)]
    assert answers == [303] * 14 + [400]
    page = await client.post("/team/invitations", {"email": "late@example.com", "language": "en"})
    assert "Votre entreprise a envoyé trop d'invitations aujourd'hui." in page.text
    assert await mails(core, "late@example.com") == []
    clock.advance(days=1)
    assert (await client.login("boss@example.com")).status == 303
    assert await _invite(client, "late@example.com") == (303, "/team")
