"""The real portal for Home Assistant tests: started on a temporary database, linked, owned.

A test module takes the fixtures by importing them (``from .real_portal_common import
linked, real_portal``); :func:`link_through_options` and :func:`homeowner` build the
variants (a customer account before the link, another address).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from companion_server.customers.accounts import portal_company_id
from companion_server.models import CustomerInstallation, Role, User
from companion_server.registration.services import Registered, seed_registration
from tests.portal_app import Portal

from .common import PIN
from .portal_common import manager_of, wait_until

# The homeowner's address, as the installer enters it when registering the box.
HOME_ADDRESS = "home@example.com"


@pytest.fixture
async def real_portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """The real portal on a temporary SQLite database."""
    portal = Portal(tmp_path / "portal.db")
    await portal.start()
    yield portal
    await portal.stop()


async def link_through_options(
    hass: HomeAssistant, entry: MockConfigEntry, portal: Portal, reg: Registered
) -> None:
    """Link the box with the registration's code through the options; wait for the channel."""
    options = hass.config_entries.options
    flow = await options.async_init(entry.entry_id)
    done = await options.async_configure(flow["flow_id"], {"url": portal.url, "code": reg.code})
    assert done["type"] == "create_entry"
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")


@pytest.fixture
async def linked(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal
) -> Registered:
    """The box linked to the real portal through the options, its channel up."""
    reg = await seed_registration(real_portal.core, pin=PIN, customer_email=HOME_ADDRESS)
    await link_through_options(hass, init_integration, real_portal, reg)
    return reg


async def homeowner(portal: Portal, installation_id: int, email: str = HOME_ADDRESS) -> int:
    """The homeowner's customer account (as the invitation would have made it)."""
    async with portal.core.tx() as db:
        user = User(
            company_id=await portal_company_id(db, portal.core.now()),
            email=email,
            name="Hana Homeowner",
            password_hash="!",
            role=Role.CUSTOMER.value,
            language="en",
            failed_logins=0,
            created_at=portal.core.now(),
            email_confirmed_at=portal.core.now(),
        )
        db.add(user)
        await db.flush()
        db.add(
            CustomerInstallation(
                customer_id=user.id, installation_id=installation_id, created_at=portal.core.now()
            )
        )
        return user.id
