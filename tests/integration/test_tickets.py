"""The homeowner's tickets against the real portal: customer account, create, follow, messages."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from sqlalchemy import select

from box_simulator.server import BoxSimulator
from companion_server.customers.services import contact_customer
from companion_server.models import (
    Installation,
    Ticket,
    TicketComment,
)
from companion_server.registration.services import Registered
from companion_server.tickets import services as portal_tickets
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.tickets import EVENT_TICKET
from tests.portal_app import Portal

from .common import PIN, SHUTTER, device_of, tick, ticket_items
from .portal_common import manager_of, wait_until
from .real_portal_common import homeowner, linked, real_portal

__all__ = ["linked", "real_portal"]


async def _ask_account(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    options = hass.config_entries.options
    menu = await options.async_init(entry.entry_id)
    assert "customer_account" in menu["menu_options"]
    form = await options.async_configure(menu["flow_id"], {"next_step_id": "customer_account"})
    assert form["step_id"] == "customer_account"
    return dict(await options.async_configure(form["flow_id"], {}))


async def _create(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "create_ticket", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def _refused(hass: HomeAssistant, **data: Any) -> str | None:
    with pytest.raises(ServiceValidationError) as err:
        await _create(hass, **data)
    return err.value.translation_key


def _notifications(hass: HomeAssistant) -> dict[str, Any]:
    # The notifications as Home Assistant keeps them (not states, on current versions).
    return dict(persistent_notification._async_get_or_create_notifications(hass))


async def test_customer_account_from_the_options(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal, linked: Registered
) -> None:
    done = await _ask_account(hass, init_integration)
    assert (done["type"], done["reason"]) == ("abort", "invitation_sent")
    # Once the homeowner has an account, the box joins it.
    await homeowner(real_portal, linked.installation_id)
    done = await _ask_account(hass, init_integration)
    assert (done["type"], done["reason"]) == ("abort", "invitation_added")
    # Three a day: the fourth is refused with a clear word.
    await _ask_account(hass, init_integration)
    done = await _ask_account(hass, init_integration)
    assert done["errors"] == {"base": "invitation_rate_limited"}
    # The portal down: said so, the form stays.
    await real_portal.stop()
    done = await _ask_account(hass, init_integration)
    assert done["errors"] == {"base": "cannot_connect"}


async def test_account_option_refusals(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal, linked: Registered
) -> None:
    async with real_portal.core.tx() as db:
        installation = await db.get(Installation, linked.installation_id)
        assert installation is not None
        installation.customer_email = None
    done = await _ask_account(hass, init_integration)
    assert done["errors"] == {"base": "invitation_no_address"}
    # Not linked: the menu offers the link, and the step itself says why.
    await manager_of(init_integration).async_unlink()
    flow = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert flow["step_id"] == "link"
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"url": "http://127.0.0.1:1", "code": "x"}
    )
    assert flow["errors"] == {"url": "cannot_connect"}


async def test_a_ticket_from_home_assistant_followed_to_its_closure(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal, linked: Registered
) -> None:
    entry = init_integration
    assert await _refused(hass, description="Stuck") == "ticket_no_customer"
    customer = await homeowner(real_portal, linked.installation_id)
    shutter = device_of(hass, SHUTTER)
    whole_box = {"config_entry_id": entry.entry_id, "kind": "replacement"}
    assert await _refused(hass, description="Broken", **whole_box) == "ticket_device_required"
    answer = await _create(
        hass,
        device_id=shutter.id,
        description="The shutter stops half-way.",
        kind="replacement",
        include_diagnostics=True,
    )
    async with real_portal.core.tx() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == answer["number"]))
        assert ticket is not None
        (attached,) = await db.scalars(select(TicketComment))
    assert ticket.customer_id == customer and ticket.created_by_role == "customer"
    assert ticket.device_serial == SHUTTER.rpartition("/")[2]
    assert f"Box PIN: {PIN}" in attached.body and "failed_executions" in attached.body
    assert answer["url"].endswith(f"/customer/tickets/{ticket.id}")
    tracker = entry.runtime_data.tickets
    await wait_until(hass, lambda: tracker.tickets, "the list of tickets")
    (item,) = await ticket_items(hass)
    assert item["uid"] == answer["number"] and item["status"] == "needs_action"
    assert item["summary"] == f"{answer['number']}: The shutter stops half-way."
    assert "Status: New" in item["description"]

    events = async_capture_events(hass, EVENT_TICKET)
    core, admin = real_portal.core, linked.actor_id
    await portal_tickets.add_comment(core, admin, ticket.id, body="I come Monday.", public=True)
    await wait_until(hass, lambda: events, "the answer's event")
    assert (events[0].data["change"], events[0].data["comment"]) == ("answer", "I come Monday.")
    (item,) = await ticket_items(hass)
    assert "Last answer from Administrator: I come Monday." in item["description"]
    notification = _notifications(hass)[f"{DOMAIN}_ticket_{entry.entry_id}_{answer['number']}"]
    assert "I come Monday." in notification["message"]

    await portal_tickets.change_status(core, admin, ticket.id, "resolved")
    await wait_until(hass, lambda: len(events) == 2, "the status event")
    (item,) = await ticket_items(hass)
    assert item["status"] == "completed"
    await portal_tickets.change_status(core, admin, ticket.id, "closed")
    await wait_until(hass, lambda: len(events) == 3, "the closure")
    assert events[2].data["status"] == "closed" and events[2].data["change"] == "status"
    assert await ticket_items(hass) == []
    assert not manager_of(entry).outbox


async def test_ticket_refusals(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal, linked: Registered
) -> None:
    entry = init_integration
    await homeowner(real_portal, linked.installation_id)
    # What the portal's form refuses (a control character) is said, with its reason.
    assert await _refused(hass, description="A bell \x07 rings") == "ticket_refused"
    for _ in range(9):
        await _create(hass, description="Again")
    assert await _refused(hass, description="Again") == "ticket_rate_limited"
    await real_portal.stop()
    assert await _refused(hass, description="Down") == "ticket_portal_unreachable"
    await real_portal.start()
    await manager_of(entry).async_unlink()
    assert await _refused(hass, description="Unlinked") == "ticket_not_linked"
    assert await _refused(hass, description="x", config_entry_id="nope") == "ticket_unknown_target"
    with pytest.raises(Exception, match="description"):
        await _create(hass, description="")


async def test_an_administrators_message_is_shown(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal, linked: Registered
) -> None:
    customer = await homeowner(real_portal, linked.installation_id)
    await contact_customer(real_portal.core, linked.actor_id, customer, "Your warranty ends soon.")
    key = f"{DOMAIN}_message_{init_integration.entry_id}_1"
    await wait_until(hass, lambda: key in _notifications(hass), "the notification")
    notification = _notifications(hass)[key]
    assert notification["title"] == "A message from Test Installers"
    assert "Your warranty ends soon." in notification["message"]


async def test_diagnostics_carry_the_failed_executions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    linked: Registered,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    runtime = init_integration.runtime_data
    simulator.box.set_device_online(SHUTTER, False)
    await runtime.client.execute(SHUTTER, "close")
    for _ in range(50):
        if runtime.coordinator.failed_executions:
            break
        await tick(hass, freezer)
    (failed,) = runtime.coordinator.failed_executions
    assert failed["failure"] == "NONEXEC_OTHER" and failed["devices"] == (SHUTTER,)
    await homeowner(real_portal, linked.installation_id)
    await _create(hass, description="Does not close", include_diagnostics=True)
    async with real_portal.core.tx() as db:
        (attached,) = await db.scalars(select(TicketComment))
    assert "NONEXEC_OTHER" in attached.body and SHUTTER in attached.body
