"""Helpers of the installer-portal tests (fake peer and real portal alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import threading
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_channel import PortalChannel
from custom_components.somfy_pro.portal_client import CONF_PORTAL, PortalLink
from custom_components.somfy_pro.portal_monitoring import PortalMonitoring, monitoring_issue_id

from .common import PIN
from .conftest import entry_data


async def wait_until(
    hass: HomeAssistant, predicate: Callable[[], Any], what: str = "condition", seconds: float = 20
) -> None:
    """Let the event loop (and real sockets) run until ``predicate()`` is true.

    Tests that freeze time freeze the event loop's clock too: this yields without sleeping
    (pausing in a thread, where frozen clocks do not matter), and gives up after about
    ``seconds`` of real time.
    """
    for _ in range(int(seconds / 0.002)):
        await hass.async_block_till_done()
        if predicate():
            return
        for _ in range(20):
            await asyncio.sleep(0)
        await asyncio.get_running_loop().run_in_executor(None, _pause)
    raise AssertionError(f"timed out waiting for {what}")


def _pause() -> None:
    """A short real pause (in a thread: frozen clocks do not matter there)."""
    threading.Event().wait(0.002)


def linked_entry(
    sim: BoxSimulator, url: str, token: str, company: str = "Acme Installers"
) -> MockConfigEntry:
    """A config entry for the simulated box, already linked to the portal at ``url``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TaHoma Switch {PIN}",
        unique_id=PIN,
        data={
            **entry_data(sim),
            CONF_PORTAL: PortalLink(
                url=url,
                token=token,
                installation_id="42",
                company_id="7",
                company_name=company,
                instance_id="instance-1",
            ).as_data(),
        },
    )


def manager_of(entry: MockConfigEntry) -> PortalChannel:
    """The portal channel of a loaded entry."""
    manager: PortalChannel = entry.runtime_data.portal
    return manager


def monitoring_of(entry: MockConfigEntry) -> PortalMonitoring:
    """The monitoring consent of a loaded entry."""
    monitoring: PortalMonitoring = entry.runtime_data.monitoring
    return monitoring


async def answer_monitoring_request(
    hass: HomeAssistant, entry: MockConfigEntry, answer: str
) -> dict[str, Any]:
    """Open the repair issue's fix flow and pick ``approve`` or ``decline``."""
    issue_id = monitoring_issue_id(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["approve", "decline"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": answer})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    return dict(result)
