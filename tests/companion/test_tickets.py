"""Tickets (D8, O10, O15): who creates them, who sees them, status mails, internal comments."""

from __future__ import annotations

from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import Ticket, TicketComment
from tests.companion.helpers import BrowserFactory, FakeClock, PortalClient, mails
from tests.companion.tickets_common import make_customer, make_support, open_ticket, shop


async def _count(core: Core, model: type) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_customer_creates_installer_answers(
    core: Core, browsers: BrowserFactory, client: PortalClient
) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation, language="sk")
    await client.login(hana.email)
    page = await client.get("/customer/tickets/new")
    assert page.status == 200 and "Kitchen shutter" in page.text
    form = {"installation_id": str(s.box.installation.id), "kind": "replacement"}
    # A replacement without the device, a foreign installation, an unknown device: refused.
    bad = [
        {**form, "description": "Broken."},
        {**form, "description": "Broken.", "installation_id": str(s.other_box.installation.id)},
        {**form, "description": "Broken.", "device_url": "io://somebody-else/1"},
        {**form, "kind": "other", "description": "Broken.", "device_serial": "SN1"},
        {**form, "description": " ", "device_serial": "SN1"},
    ]
    for data in bad:
        assert (await client.post("/customer/tickets", data)).status == 400, data
    assert await _count(core, Ticket) == 0
    page = await client.post(
        "/customer/tickets",
        {
            **form,
            "description": "The remote\nis broken.",
            "device_url": "io://1234-5678-9012/kitchen",
            "device_serial": "SN-42",
        },
    )
    assert page.status == 303 and page.location
    async with core.tx() as db:
        (ticket,) = await db.scalars(select(Ticket))
    assert ticket.number == f"T-{ticket.id:06d}" and ticket.created_by_role == "customer"
    assert ticket.company_id == s.company.id and ticket.status == "new"
    assert page.location == f"/customer/tickets/{ticket.id}"

    installer = await browsers.new()
    await installer.login(s.installer.email)
    page = await installer.get("/tickets")
    assert page.status == 200 and ticket.number in page.text and "Hana Homeowner" in page.text
    url = f"/tickets/{ticket.id}"
    internal = {"body": "Order part 7731 first.", "visibility": "internal", "minutes": "20"}
    assert (await installer.post(f"{url}/comments", internal)).status == 303
    public = {"body": "A new remote is on its way.", "visibility": "public", "minutes": "5"}
    assert (await installer.post(f"{url}/comments", public)).status == 303
    for minutes in ("soon", "²", "1441", "-5", "9" * 50):
        assert (await installer.post(f"{url}/comments", {"minutes": minutes})).status == 400
    assert (await installer.post(f"{url}/status", {"status": "reopened"})).status == 400
    assert not await mails(core, hana.email, "ticket_status")
    assert (await installer.post(f"{url}/status", {"status": "waiting"})).status == 303
    (mail,) = await mails(core, hana.email, "ticket_status")
    assert mail.language == "sk" and mail.subject == f"Tiket {ticket.number}: Čaká sa na zákazníka"
    assert f"/customer/tickets/{ticket.id}" in mail.body
    page = await installer.get(url)
    assert "Order part 7731 first." in page.text and 'data-minutes="25"' in page.text

    # The customer sees the public answer and the status, never the internal comment.
    page = await client.get(f"/customer/tickets/{ticket.id}")
    assert "A new remote is on its way." in page.text and "Order part 7731" not in page.text
    assert 'data-status="waiting"' in page.text and 'data-comment="internal"' not in page.text
    assert "Strávený čas" not in page.text  # time spent is the company's business
    reply = await client.post(f"/customer/tickets/{ticket.id}/comments", {"body": "Thanks!"})
    assert reply.status == 303
    async with core.tx() as db:
        last = (await db.scalars(select(TicketComment).order_by(TicketComment.id.desc()))).first()
    assert last is not None and last.public and last.author_name == "Hana Homeowner"


async def test_who_sees_which_ticket(core: Core, browsers: BrowserFactory) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    rudo = await make_customer(core, "rudo@example.com", s.other_box.installation, name="Rudo")
    mine = await open_ticket(core, hana, s.box.installation)
    theirs = await open_ticket(core, rudo, s.other_box.installation)

    async def status(email: str, path: str) -> int:
        browser = await browsers.new()
        await browser.login(email)
        return (await browser.get(path)).status

    # Another company's administrator, an installer not on the box: 404 (no hint).
    assert await status(s.admin.email, f"/tickets/{mine}") == 200
    assert await status(s.admin.email, f"/tickets/{theirs}") == 404
    assert await status(s.other_admin.email, f"/tickets/{mine}") == 404
    assert await status(s.installer.email, f"/tickets/{mine}") == 200
    assert await status(s.other_installer.email, f"/tickets/{mine}") == 404
    # ... until it is assigned to them: the tickets they handle.
    admin = await browsers.new()
    await admin.login(s.admin.email)
    page = await admin.post(f"/tickets/{mine}/assignee", {"assignee_id": str(s.other_admin.id)})
    assert page.status == 400
    page = await admin.post(f"/tickets/{mine}/assignee", {"assignee_id": str(s.other_installer.id)})
    assert page.status == 303
    assert await status(s.other_installer.email, f"/tickets/{mine}") == 200
    # Customers: their own only, and never the staff page of a ticket.
    assert await status(rudo.email, f"/customer/tickets/{mine}") == 404
    assert await status(hana.email, f"/customer/tickets/{theirs}") == 404
    assert await status(hana.email, f"/customer/tickets/{mine}") == 200
    hana_browser = await browsers.new()
    await hana_browser.login(hana.email)
    page = await hana_browser.get(f"/tickets/{mine}")
    assert (page.status, page.location) == (303, "/customer")
    forged = {"body": "I close it myself", "visibility": "internal"}
    assert (await hana_browser.post(f"/tickets/{mine}/status", {"status": "closed"})).status == 403
    assert (await hana_browser.post(f"/tickets/{theirs}/comments", forged)).status == 403
    assert (await hana_browser.post(f"/customer/tickets/{theirs}/comments", forged)).status == 404
    assert await _count(core, TicketComment) == 0
    # Installers cannot create tickets.
    installer = await browsers.new()
    await installer.login(s.installer.email)
    assert (await installer.post("/customer/tickets", {"description": "x"})).status == 403
    assert (await installer.post("/tickets", {"description": "x"})).status == 403
    assert await _count(core, Ticket) == 2


async def test_support_creates_for_a_box_and_sees_everything(
    core: Core, browsers: BrowserFactory
) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    await open_ticket(core, hana, s.box.installation)
    support = await make_support(core)
    browser = await browsers.new()
    await browser.login(support.email)
    page = await browser.post(
        "/tickets", {"box_pin": "0000-0000-0000", "kind": "contact", "description": "Call me."}
    )
    assert page.status == 400 and await _count(core, Ticket) == 1
    page = await browser.post(
        "/tickets", {"box_pin": "9999-8888-7777", "kind": "contact", "description": "Call me."}
    )
    assert page.status == 303
    async with core.tx() as db:
        created = (await db.scalars(select(Ticket).order_by(Ticket.id.desc()))).first()
    assert created is not None
    assert created.created_by_role == "support" and created.company_id == s.other_company.id
    page = await browser.get("/tickets")
    assert page.text.count("data-ticket=") == 2
    rival = await browsers.new()
    await rival.login(s.other_admin.email)
    page = await rival.get("/tickets")
    assert page.text.count("data-ticket=") == 1
    assert "Created by the manufacturer's support" in page.text


async def test_tracking_search_period_and_pages(
    core: Core, client: PortalClient, clock: FakeClock
) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation, name="Hana Kováčová")
    old = await open_ticket(core, hana, s.box.installation, "Old one.", serial="SN-OLD")
    clock.advance(days=100)
    serial = await open_ticket(core, hana, s.box.installation, "New one.", serial="SN-777")
    for number in range(52):
        await open_ticket(core, hana, s.box.installation, f"Filler {number}.")
    await client.login(s.admin.email)

    def numbers(text: str) -> set[str]:
        return {part.split('"')[0] for part in text.split('data-ticket="')[1:]}

    page = await client.get("/tickets")
    first = numbers(page.text)
    assert len(first) == 50 and f"T-{old:06d}" not in first
    after = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = numbers((await client.get(after)).text)
    assert len(second) == 3 and not first & second and f"T-{serial:06d}" in second
    assert numbers((await client.get("/tickets?q=SN-777")).text) == {f"T-{serial:06d}"}
    assert numbers((await client.get("/tickets?q=sn-old")).text) == set()
    assert numbers((await client.get("/tickets?q=sn-old&period=all")).text) == {f"T-{old:06d}"}
    assert len(numbers((await client.get("/tickets?q=1234-5678")).text)) == 50
    assert len(numbers((await client.get("/tickets?q=kováčová&status=new")).text)) == 50
    assert numbers((await client.get("/tickets?q=%25")).text) == set()  # LIKE escaped
    assert numbers((await client.get("/tickets?status=closed")).text) == set()
    assert (await client.get("/tickets?status=bogus&after=x&period=9")).status == 200
