"""Professional monitoring as a service: no running service, no case; the homeowner's stop
from Home Assistant ends the service. Through the real channel, on both databases."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from companion_server.billing import catalogue
from companion_server.billing.cart import CartItem
from companion_server.core import Core
from companion_server.models import Company, Installation, Role, ServiceSubscription, User
from tests.companion import centre_world as world
from tests.companion.billing_common import World, subscribe
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import FakeClock
from tests.companion.tickets_common import make_customer


async def _acked(client: HomeAssistant, data: dict) -> None:  # type: ignore[type-arg]
    await client.send(data)
    while True:
        reply = await client.receive()
        if reply["type"] == "ack" and reply["payload"]["id"] == data["id"]:
            return


async def _linked(core: Core, server: TestServer) -> tuple[HomeAssistant, World]:
    reg, admin_id = await registered(core)
    client = HomeAssistant(str(server.make_url("/")))
    status, _ = await client.link(reg.code)
    assert status == 200
    await client.connect()
    await client.hello()
    async with core.tx() as db:
        installation = await db.get(Installation, reg.installation_id)
        admin = await db.get(User, admin_id)
        assert installation is not None and admin is not None
        company = await db.get(Company, installation.company_id)
        assert company is not None
        await catalogue.entries(db, company.id, create=True)  # it sells monitoring
    customer = await make_customer(core, "hana@example.com", installation)
    assert admin.role == Role.ADMIN
    return client, World(company, installation, customer, admin)


async def test_without_a_running_monitoring_service_no_case_opens(
    core: Core, server: TestServer, clock: FakeClock
) -> None:
    client, w = await _linked(core, server)
    try:
        await _acked(client, world.subscription())
        await _acked(client, world.alarm())
        assert await world.cases(core) == []
        (monitoring,) = await subscribe(core, w, CartItem("monitoring"))
        await _acked(client, world.alarm())
        [(row, _state)] = await world.cases(core)
        assert row.installation_id == w.installation.id
        # The homeowner stops monitoring in Home Assistant: the service ends here too.
        clock.advance(days=3)
        stopped = world.subscription_payload("stopped")
        stopped["updated_at"] = "2026-03-05T07:30:00+00:00"
        await _acked(client, {**world.subscription(), "payload": stopped})
        async with core.tx() as db:
            sub = await db.get(ServiceSubscription, monitoring.id)
            assert sub is not None and sub.ended_at == clock.now
    finally:
        await client.close()
