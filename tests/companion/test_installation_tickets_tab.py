"""An installation's Tickets tab: its open and closed tickets, for the staff who see it."""

from __future__ import annotations

from sqlalchemy import update

from companion_server.core import Core
from companion_server.models import Ticket
from tests.companion.helpers import BrowserFactory
from tests.companion.tickets_common import make_customer, open_ticket, shop


async def test_tab_lists_open_and_closed_for_who_may(core: Core, browsers: BrowserFactory) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    rudo = await make_customer(core, "rudo@example.com", s.other_box.installation, name="Rudo")
    waiting = await open_ticket(core, hana, s.box.installation, "The blind is stuck.")
    closed = await open_ticket(core, hana, s.box.installation, "The remote was lost.")
    theirs = await open_ticket(core, rudo, s.other_box.installation, "Rival ticket.")
    async with core.tx() as db:
        await db.execute(update(Ticket).where(Ticket.id == closed).values(status="closed"))
    numbers = {i: f"T-{i:06d}" for i in (waiting, closed, theirs)}
    path = f"/installations/{s.box.installation.id}/tickets"

    async def tab(email: str, url: str = path) -> tuple[int, str]:
        browser = await browsers.new()
        await browser.login(email)
        page = await browser.get(url)
        return page.status, page.text

    for staff in (s.admin.email, s.installer.email):
        status, text = await tab(staff)
        assert status == 200, staff
        open_part, _, closed_part = text.partition('id="closed-tickets"')
        assert numbers[waiting] in open_part and numbers[closed] not in open_part
        assert numbers[closed] in closed_part and numbers[waiting] not in closed_part
        assert numbers[theirs] not in text
        assert 'aria-current="page">Tickets' in text
    # An installer the box is not assigned to, another company: 404 (no hint it exists).
    assert (await tab(s.other_installer.email))[0] == 404
    assert (await tab(s.other_admin.email))[0] == 404
    status, text = await tab(
        s.other_admin.email, f"/installations/{s.other_box.installation.id}/tickets"
    )
    assert status == 200 and numbers[theirs] in text and numbers[waiting] not in text
    # The customer has their own pages, never the staff's installation tabs.
    browser = await browsers.new()
    await browser.login(hana.email)
    page = await browser.get(path)
    assert (page.status, page.location) == (303, "/customer")
