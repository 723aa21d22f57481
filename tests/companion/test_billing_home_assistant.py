"""The ``services`` frame: the homeowner's plan and services, to their Home Assistant only.

Real database (SQLite and PostgreSQL), the real app on a socket; Home Assistant's side is
played by a client that speaks the channel.
"""

from __future__ import annotations

from datetime import date
import json
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy import delete, select

from companion_server.billing import catalogue, home_assistant, services as billing
from companion_server.billing.cart import CartItem
from companion_server.billing.subscriptions import CancelMode
from companion_server.core import Core
from companion_server.models import (
    Installation,
    InstallationLink,
    PortalFrame,
    ServiceCharge,
    ServiceSubscription,
)
from companion_server.security.tokens import new_token
from tests.companion import centre_world
from tests.companion.billing_common import ADDRESS, World, handover, subscribe, world
from tests.companion.ha import Factory, HomeAssistant, new_ha
from tests.companion.helpers import FakeClock, make_company
from tests.companion.tickets_common import linked_box, make_customer

__all__ = ["new_ha"]  # the fixture of the simulated Home Assistant

PIN = "1234-5678-9012"


async def _pending(core: Core, installation_id: int) -> list[dict[str, Any]]:
    async with core.tx() as db:
        rows = await db.scalars(
            select(PortalFrame).where(
                PortalFrame.installation_id == installation_id,
                PortalFrame.type == home_assistant.SERVICES,
                PortalFrame.acked_at.is_(None),
            )
        )
        return [json.loads(row.payload) for row in rows]


async def _state(core: Core, installation_id: int) -> dict[str, Any]:
    """The one services frame waiting for the box (an older one is withdrawn)."""
    (payload,) = await _pending(core, installation_id)
    return payload


async def _pay(core: Core, w: World, *cart: CartItem) -> list[int]:
    priced = await billing.summary(core, w.customer.id, w.installation.id, cart)
    receipt = await billing.pay(
        core,
        w.customer.id,
        w.installation.id,
        cart,
        ADDRESS,
        terms_accepted=True,
        expected_gross_cents=priced.gross_cents,
    )
    return [sub.id for sub in receipt.subscriptions]


def _codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["code"], s["state"]) for s in payload["services"]]


async def test_the_state_goes_to_home_assistant_on_connect_and_only_its_own(
    core: Core, new_ha: Factory
) -> None:
    company = await make_company(core, "Acme")
    box = await linked_box(core, company, "Villa", pin=PIN)
    other_box = await linked_box(core, company, "Chalet", pin="2222-3333-4444")
    hana = await make_customer(core, "hana@example.com", box.installation, other_box.installation)
    w = World(company, box.installation, hana, hana)
    await handover(core, box.installation, core.now().date())
    await subscribe(core, w, CartItem("plan_smart"), CartItem("recording_7d", 2))
    # Hana's other box, and another customer's: none of it is this box's.
    await subscribe(core, World(company, other_box.installation, hana, hana), CartItem("backup"))
    stranger = await world(core)
    await subscribe(core, stranger, CartItem("monitoring"))
    # A subscription of someone who does not own the box any more stays out too.
    former = await make_customer(core, "former@example.com")
    await subscribe(core, World(company, box.installation, former, former), CartItem("backup"))

    client = await new_ha()
    await client.connect(box.token)
    await client.hello(pin=PIN)
    (sent,) = [f for f in await client.backlog() if f["type"] == "services"]
    # FakeClock: 2 March 2026, 08:00 UTC; the company's days are Paris's.
    assert sent["payload"] == {
        "at": "2026-03-02T08:00:00+00:00",
        "plan": {
            "code": "plan_smart",
            "state": "active",
            "period_end": "2026-04-02",
            "ends_on": None,
            "monthly_price_cents": 1900,
            "discount_basis_points": 1000,
            "priority": 1,
        },
        "services": [
            {
                "code": "recording_7d",
                "state": "active",
                "started_on": "2026-03-02",
                "period_end": "2026-04-02",
                "ends_on": None,
                "quantity": 2,
                "monthly_price_cents": 998,
            }
        ],
    }


async def test_a_box_nobody_owns_and_without_services_gets_nothing(
    core: Core, new_ha: Factory
) -> None:
    company = await make_company(core, "Acme")
    box = await linked_box(core, company, "Villa", pin=PIN)
    client = await new_ha()
    await client.connect(box.token)
    await client.hello(pin=PIN)
    assert [f["type"] for f in await client.backlog() if f["type"] == "services"] == []


async def test_every_change_in_the_customer_area_queues_the_whole_state(core: Core) -> None:
    w = await world(core)
    backup, monitoring = await _pay(core, w, CartItem("backup"), CartItem("monitoring"))
    state = await _state(core, w.installation.id)
    assert state["plan"]["code"] == catalogue.BASIC
    assert state["plan"]["period_end"] is None
    assert _codes(state) == [("backup", "active"), ("monitoring", "active")]

    await billing.cancel(core, w.customer.id, backup, CancelMode.NOW)
    assert _codes(await _state(core, w.installation.id)) == [("monitoring", "active")]

    await billing.cancel(core, w.customer.id, monitoring, CancelMode.PERIOD_END)
    (ending,) = (await _state(core, w.installation.id))["services"]
    assert (ending["state"], ending["ends_on"], ending["period_end"]) == (
        "ending",
        "2026-04-02",
        "2026-04-02",
    )

    await billing.reactivate(core, w.customer.id, monitoring)
    (again,) = (await _state(core, w.installation.id))["services"]
    assert (again["state"], again["ends_on"]) == ("active", None)

    await billing.cancel(core, w.customer.id, monitoring, CancelMode.NOW)
    assert (await _state(core, w.installation.id))["services"] == []


async def test_a_period_end_reached_is_told_once(core: Core, clock: FakeClock) -> None:
    w = await world(core)
    (monitoring,) = await _pay(core, w, CartItem("monitoring"))
    await billing.cancel(core, w.customer.id, monitoring, CancelMode.PERIOD_END)
    assert await home_assistant.queue_period_ends(core) == []  # not ended yet
    # 2 April 2026, 00:30 in Paris (22:30 UTC the day before): the service ended.
    clock.now = clock.now.replace(month=4, day=1, hour=22, minute=30)
    assert await home_assistant.queue_period_ends(core) == [w.installation.id]
    assert (await _state(core, w.installation.id))["services"] == []
    assert await home_assistant.queue_period_ends(core) == []
    # Days later the sweep no longer looks back: each hello tells the state anyway.
    clock.advance(days=4)
    async with core.tx() as db:
        await db.execute(
            delete(PortalFrame).where(PortalFrame.installation_id == w.installation.id)
        )
    assert await home_assistant.queue_period_ends(core) == []


async def test_an_unlinked_box_is_told_nothing(core: Core) -> None:
    w = await world(core)
    async with core.tx() as db:
        link = await db.scalar(
            select(InstallationLink).where(InstallationLink.installation_id == w.installation.id)
        )
        assert link is not None
        link.revoked_at = core.now()
    await _pay(core, w, CartItem("backup"))
    assert await _pending(core, w.installation.id) == []


async def _credits(core: Core, subscription_id: int) -> list[tuple[int, int]]:
    async with core.tx() as db:
        rows = await db.scalars(
            select(ServiceCharge).where(
                ServiceCharge.subscription_id == subscription_id,
                ServiceCharge.unit_price_cents < 0,
            )
        )
        return [(c.quantity_milli, c.unit_price_cents) for c in rows]


async def test_monitoring_stopped_from_home_assistant_ends_as_the_customer_area_would(
    core: Core, clock: FakeClock, server: TestServer, new_ha: Factory
) -> None:
    # Two homeowners alike: monitoring cancelled at the period's end while it was their only
    # paid service, a backup connection taken since.
    ha_side, portal_side = await world(core, tag="a1"), await world(core, tag="b2")
    ended: list[int] = []
    for w in (ha_side, portal_side):
        (monitoring,) = await _pay(core, w, CartItem("monitoring"))
        await billing.cancel(core, w.customer.id, monitoring, CancelMode.PERIOD_END)
        await _pay(core, w, CartItem("backup"))
        ended.append(monitoring)
    clock.advance(days=10)
    # One stops it in Home Assistant...
    async with core.tx() as db:
        installation = await db.get(Installation, ha_side.installation.id)
        assert installation is not None
        pin = installation.box_pin
    client = await new_ha()
    token = await _token(core, ha_side)
    await client.connect(token)
    await client.hello(pin=pin)
    await client.backlog()
    await _acked(client, centre_world.subscription())
    stopped = centre_world.subscription_payload("stopped", updated_at="2026-03-12T08:00:00+00:00")
    await client.send({**centre_world.subscription(), "payload": stopped})
    told = await client.expect("services")
    assert [s["code"] for s in told["payload"]["services"]] == ["backup"]
    # ...the other reactivates and cancels now in the customer area: the same end, same credit.
    await billing.reactivate(core, portal_side.customer.id, ended[1])
    await billing.cancel(core, portal_side.customer.id, ended[1], CancelMode.NOW)
    async with core.tx() as db:
        by_ha = await db.get(ServiceSubscription, ended[0])
        by_portal = await db.get(ServiceSubscription, ended[1])
        assert by_ha is not None and by_portal is not None
        assert (by_ha.ends_on, by_ha.ended_at) == (date(2026, 3, 12), clock.now)
        assert (by_ha.ends_on, by_ha.ended_at) == (by_portal.ends_on, by_portal.ended_at)
    assert await _credits(core, ended[0]) == await _credits(core, ended[1]) != []


async def _token(core: Core, w: World) -> str:
    """A fresh bearer token for the world's box (``world`` keeps none)."""
    token, token_hash = new_token()
    async with core.tx() as db:
        link = await db.scalar(
            select(InstallationLink).where(InstallationLink.installation_id == w.installation.id)
        )
        assert link is not None
        link.token_hash = token_hash
    return token


async def _acked(client: HomeAssistant, data: dict[str, Any]) -> None:
    await client.send(data)
    while True:
        reply = await client.receive()
        if reply["type"] == "ack" and reply["payload"]["id"] == data["id"]:
            return
