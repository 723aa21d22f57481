"""The support plan and services sensors against the real portal: subscribe, cancel, reactivate."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from companion_server.billing import services as billing
from companion_server.billing.cart import CartItem
from companion_server.billing.checkout import Address
from companion_server.billing.subscriptions import CancelMode
from companion_server.registration.services import Registered, seed_registration
from tests.portal_app import Portal

from .common import PIN, entity_id
from .portal_common import wait_until
from .real_portal_common import HOME_ADDRESS, homeowner, link_through_options, real_portal

__all__ = ["real_portal"]

ADDRESS = Address("Hana Homeowner", "1 rue de la Paix", "75002", "Paris", "FR")


@pytest.fixture
async def owned(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal
) -> tuple[Registered, int]:
    """The box of a customer account, linked to the real portal, its channel up."""
    reg = await seed_registration(real_portal.core, pin=PIN, customer_email=HOME_ADDRESS)
    customer = await homeowner(real_portal, reg.installation_id, "hana@example.com")
    await link_through_options(hass, init_integration, real_portal, reg)
    return reg, customer


def _state(hass: HomeAssistant, key: str) -> Any:
    return hass.states.get(entity_id(hass, "sensor", f"{PIN}_{key}"))


async def _subscribe(
    portal: Portal, customer: int, installation: int, *cart: CartItem
) -> list[int]:
    priced = await billing.summary(portal.core, customer, installation, cart)
    receipt = await billing.pay(
        portal.core,
        customer,
        installation,
        cart,
        ADDRESS,
        terms_accepted=True,
        expected_gross_cents=priced.gross_cents,
    )
    return [sub.id for sub in receipt.subscriptions]


async def test_the_sensors_follow_the_customer_area(
    hass: HomeAssistant, real_portal: Portal, owned: tuple[Registered, int]
) -> None:
    reg, customer = owned
    installation = reg.installation_id
    # The connection brings the state: Basic and nothing else.
    await wait_until(hass, lambda: _state(hass, "support_plan").state == "basic", "Basic")
    assert _state(hass, "active_services").state == "0"

    backup, monitoring = await _subscribe(
        real_portal, customer, installation, CartItem("backup"), CartItem("monitoring")
    )
    await wait_until(hass, lambda: _state(hass, "active_services").state == "2", "two services")
    listed = _state(hass, "active_services").attributes["services"]
    assert [(s["service"], s["state"], s["monthly_price"]) for s in listed] == [
        ("backup", "active", 2.99),
        ("monitoring", "active", 24.99),
    ]

    # The last paid one cancelled at the period's end: still there, ending on that day.
    await billing.cancel(real_portal.core, customer, backup, CancelMode.NOW)
    await wait_until(hass, lambda: _state(hass, "active_services").state == "1", "one left")
    await billing.cancel(real_portal.core, customer, monitoring, CancelMode.PERIOD_END)

    def ending() -> bool:
        return _state(hass, "active_services").attributes["services"][0]["state"] == "ending"

    await wait_until(hass, ending, "monitoring ending")
    (left,) = _state(hass, "active_services").attributes["services"]
    assert left["ends_on"] == left["period_end"]
    await billing.reactivate(real_portal.core, customer, monitoring)
    await wait_until(hass, lambda: not ending(), "monitoring active again")
    assert _state(hass, "active_services").attributes["services"][0]["ends_on"] is None
