"""Customer accounts (O8, O17): the invitation Home Assistant asks for, the customer area,
administrators contacting their customers."""

from __future__ import annotations

import json

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import (
    CustomerInstallation,
    CustomerMessage,
    PortalFrame,
    Role,
    User,
)
from tests.companion.helpers import (
    PASSWORD,
    BrowserFactory,
    PortalClient,
    last_link,
    mails,
    make_company,
    make_user,
)
from tests.companion.tickets_common import linked_box, make_customer, shop

ACCEPT = {"name": "Hana", "password": PASSWORD, "password_confirm": PASSWORD, "language": "sk"}


async def _ask(server: TestServer, token: str) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            str(server.make_url("/api/v1/customer-invitation")),
            headers={"Authorization": f"Bearer {token}"} if token else {},
        ) as response,
    ):
        return response.status, await response.json()


async def _count(core: Core, model: type) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_home_assistant_asks_and_the_homeowner_opens_the_account(
    core: Core, server: TestServer, browsers: BrowserFactory
) -> None:
    company = await make_company(core)
    box = await linked_box(core, company, "Villa Hana", email="Hana@Example.com", language="sk")
    assert await _ask(server, "") == (401, {"error": "invalid_token"})
    assert await _ask(server, "x" * 43) == (401, {"error": "invalid_token"})
    assert await _ask(server, box.token) == (202, {"result": "sent"})
    first = await last_link(core, "hana@example.com", "customer_invitation")
    (mail,) = await mails(core, "hana@example.com", "customer_invitation")
    assert mail.language == "sk" and mail.subject == "Váš zákaznícky účet na portáli Somfy Pro"
    # A second request replaces the link: only the newest works.
    assert await _ask(server, box.token) == (202, {"result": "sent"})
    second = await last_link(core, "hana@example.com", "customer_invitation")
    hana = await browsers.new()
    assert (await hana.get(first)).status == 404
    page = await hana.get(second)
    assert page.status == 200 and "Villa Hana" in page.text
    page = await hana.post(second, {**ACCEPT, "password_confirm": "something else entirely"})
    assert page.status == 400 and await _count(core, CustomerInstallation) == 0
    page = await hana.post(second, ACCEPT)
    assert (page.status, page.location) == (303, "/customer")
    page = await hana.get("/customer")
    assert page.status == 200 and "Villa Hana" in page.text
    assert (await hana.get(second)).status == 404  # single use
    async with core.tx() as db:
        user = await db.scalar(select(User).where(User.email == "hana@example.com"))
    assert user is not None and user.role == Role.CUSTOMER and user.language == "sk"
    # Staff pages send a customer home; a customer cannot invite anyone.
    page = await hana.get("/installations")
    assert (page.status, page.location) == (303, "/customer")
    assert (await hana.post("/team/invitations", {"email": "x@example.com"})).status == 403
    assert (await hana.get("/team")).location == "/customer"
    # Her profile and password pages work, without the portal's internal company.
    page = await hana.get("/profile")
    assert page.status == 200 and "Portal accounts" not in page.text


async def test_a_second_box_joins_the_existing_account(core: Core, server: TestServer) -> None:
    company = await make_company(core)
    first = await linked_box(core, company, "House", pin="1111-1111-1111")
    second = await linked_box(core, company, "Cottage", pin="2222-2222-2222")
    hana = await make_customer(core, "home@example.com", first.installation)
    assert await _ask(server, second.token) == (202, {"result": "added"})
    async with core.tx() as db:
        owned = set(
            await db.scalars(
                select(CustomerInstallation.installation_id).where(
                    CustomerInstallation.customer_id == hana.id
                )
            )
        )
    assert owned == {first.installation.id, second.installation.id}
    assert await mails(core, "home@example.com", "customer_box_added")
    assert not await mails(core, "home@example.com", "customer_invitation")


async def test_refusals_change_nothing(core: Core, server: TestServer) -> None:
    company = await make_company(core)
    staff = await linked_box(core, company, "Staff", email="ivan@acme.example", pin="1111-0-0")
    await make_user(core, company, "ivan@acme.example")
    none = await linked_box(core, company, "No address", email=None, pin="2222-0000-0000")
    assert await _ask(server, staff.token) == (409, {"error": "staff_address"})
    assert await _ask(server, none.token) == (409, {"error": "no_address"})
    assert await mails(core, kind="customer_invitation") == []
    # A loop in Home Assistant cannot flood the homeowner's mailbox.
    box = await linked_box(core, company, "Loop", email="loop@example.com", pin="3333-0000-0000")
    answers = [await _ask(server, box.token) for _ in range(4)]
    assert [status for status, _ in answers] == [202, 202, 202, 429]
    assert len(await mails(core, "loop@example.com")) == 3


async def test_administrators_see_and_contact_their_customers(
    core: Core, browsers: BrowserFactory, client: PortalClient
) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation, language="fr")
    rival = await make_customer(core, "rival@example.com", s.other_box.installation, name="Rudo")
    await client.login(s.admin.email)
    page = await client.get("/customers")
    assert page.status == 200 and "Hana Homeowner" in page.text and "Villa Hana" in page.text
    assert "Rudo" not in page.text
    page = await client.post(f"/customers/{hana.id}/messages", {"body": "  "})
    assert page.status == 400 and await _count(core, CustomerMessage) == 0
    page = await client.post(f"/customers/{rival.id}/messages", {"body": "Hello"})
    assert page.status == 404 and await _count(core, CustomerMessage) == 0
    page = await client.post(f"/customers/{hana.id}/messages", {"body": "Service visit Monday."})
    assert (page.status, page.location) == (303, "/customers")
    (mail,) = await mails(core, "hana@example.com", "customer_message")
    assert mail.language == "fr" and "Service visit Monday." in mail.body
    async with core.tx() as db:
        (message,) = await db.scalars(select(CustomerMessage))
    # The box is linked: the message is handed to its Home Assistant's outbox at once.
    assert message.customer_id == hana.id and message.delivered_at == core.now()
    async with core.tx() as db:
        (frame,) = await db.scalars(
            select(PortalFrame).where(PortalFrame.type == "customer_message")
        )
    assert frame.installation_id == s.box.installation.id
    assert json.loads(frame.payload)["body"] == "Service visit Monday."
    installer = await browsers.new()
    await installer.login(s.installer.email)
    assert (await installer.get("/customers")).status == 403
