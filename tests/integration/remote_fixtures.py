"""Fixtures and helpers of the remote-service and audit-log tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import real_monotonic
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import InstallerActions
from custom_components.somfy_pro.portal_channel import PortalChannel
from custom_components.somfy_pro.remote_service import signal_outgoing

from .common import PIN
from .conftest import entry_data

COMPANY = "Acme Installers"
LINK = {
    "url": "http://127.0.0.1:9",
    "token": "installation-token-" + "0" * 43,
    "installation_id": "42",
    "company_id": "7",
    "company_name": COMPANY,
    "instance_id": "instance-1",
}


def linked_config_entry(sim: BoxSimulator, pin: str = PIN) -> MockConfigEntry:
    """A config entry of the simulated box, linked to an installer company."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TaHoma Switch {pin}",
        unique_id=pin,
        data={**entry_data(sim), "portal": dict(LINK)},
    )


def installer_actions_of(entry: MockConfigEntry) -> InstallerActions:
    """The installer actions of a loaded entry."""
    actions: InstallerActions = entry.runtime_data.installer_actions
    return actions


@pytest.fixture
def no_portal_channel() -> Iterator[None]:
    """The portal channel is not opened: these tests talk to the handlers directly."""
    with patch.object(PortalChannel, "_async_start_channel", lambda self: None):
        yield


@pytest.fixture
async def linked_entry(
    hass: HomeAssistant, simulator: BoxSimulator, no_portal_channel: None
) -> AsyncIterator[MockConfigEntry]:
    """The integration set up against the simulator, linked to an installer."""
    entry = linked_config_entry(simulator)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    # Let a refresh in flight finish: a connection cut half-way logs an error on the box.
    await hass.async_block_till_done(wait_background_tasks=True)
    if (
        hass.config_entries.async_get_entry(entry.entry_id) is not None
        and entry.state is ConfigEntryState.LOADED
    ):
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


class Outgoing:
    """Frames the integration hands to the portal channel."""

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        """Payloads of one frame type, oldest first."""
        return [payload for kind, payload in self.frames if kind == frame_type]


@pytest.fixture
def outgoing(hass: HomeAssistant, linked_entry: MockConfigEntry) -> Iterator[Outgoing]:
    """Record the frames sent for the linked entry."""
    record = Outgoing()

    @callback
    def _frame(frame_type: str, payload: dict[str, Any]) -> None:
        record.frames.append((frame_type, payload))

    unsub = async_dispatcher_connect(hass, signal_outgoing(linked_entry.entry_id), _frame)
    yield record
    unsub()


async def wait_for(predicate: Callable[[], Any], what: str = "condition") -> None:
    """Let the simulator's tasks run until ``predicate()`` is true (10 s of real time at most).

    Frozen time freezes the event loop's clock too: this yields, then pauses in a thread.
    """
    deadline = real_monotonic() + 10
    loop = asyncio.get_running_loop()
    while real_monotonic() < deadline:
        if predicate():
            return
        for _ in range(20):
            await asyncio.sleep(0)
        await loop.run_in_executor(None, threading.Event().wait, 0.002)
    raise AssertionError(f"timed out waiting for {what}")
