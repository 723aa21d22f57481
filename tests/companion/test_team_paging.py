"""The team page by pages of 50 collaborators, by name (keyset on name and id)."""

from __future__ import annotations

import re

from companion_server.core import Core
from companion_server.installations import services as installations
from companion_server.models import Role
from tests.companion.helpers import PortalClient, make_company, make_user


def _members(text: str) -> list[str]:
    return re.findall(r'data-member="([^"]+)"', text)


async def test_team_pages(client: PortalClient, core: Core) -> None:
    company = await make_company(core, "Acme Installers")
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN, name="Boss")
    # Two collaborators share every name: the id orders them.
    fitters = [
        await make_user(core, company, f"fitter{n:03d}@example.com", name=f"Fitter {n // 2:03d}")
        for n in range(70)
    ]
    rival = await make_company(core, "Rival")
    await make_user(core, rival, "fitter-rival@example.com", name="Fitter 000")
    last = fitters[-1]
    for number in range(3):
        installation = await installations.create_installation(core, company.id, name=f"S{number}")
        await installations.assign(core, admin.id, installation.id, last.id, "x")
    assert (await client.login(admin.email)).status == 303
    seen: list[str] = []
    url: str | None = "/team"
    pages = []
    while url is not None:
        page = await client.get(url)
        assert page.status == 200
        pages.append(page.text)
        seen += _members(page.text)
        found = re.search(r'href="(/team\?after=[^"]+)" rel="next"', page.text)
        url = None if found is None else found.group(1)
    assert len(pages) == 2 and len(_members(pages[0])) == 50
    assert seen == ["boss@example.com"] + [f"fitter{n:03d}@example.com" for n in range(70)]
    # The count of assigned installations is read for the second page's members too.
    row = pages[1].split(f'data-member="{last.email}"')[1].split("</tr>")[0]
    assert '<td data-label="Installations">3</td>' in row
    # A single administrator: every page offers "Make administrator".
    assert "Make administrator" in pages[1]
    for cursor in ("nonsense", "WzEsMl0", "x" * 3000):
        page = await client.get("/team", params={"after": cursor})
        assert page.status == 200 and _members(page.text) == seen[:50], cursor
