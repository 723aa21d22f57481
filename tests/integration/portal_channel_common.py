"""Shared steps of the portal-channel tests: scripted peer, linked box, grants, cuts, revoking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN

from .common import PIN, tick
from .portal_common import answer_monitoring_request, linked_entry, manager_of, wait_until
from .portal_peer import FakePortal, frame

BEDROOM_SHUTTER = f"io://{PIN}/13420512"  # closed in the simulator's home scenario


@pytest.fixture
async def peer() -> AsyncIterator[FakePortal]:
    """The scripted portal."""
    fake = FakePortal()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def linked(
    hass: HomeAssistant, simulator: BoxSimulator, peer: FakePortal
) -> AsyncIterator[MockConfigEntry]:
    """The box, linked to the scripted portal and connected."""
    entry = linked_entry(simulator, peer.url, FakePortal.TOKEN)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def send_acked(hass: HomeAssistant, peer: FakePortal, sent: dict[str, Any]) -> None:
    """Send a frame and wait for Home Assistant's ack (it was handled by then)."""
    await peer.send(sent)
    await wait_until(
        hass,
        lambda: any(f["payload"].get("id") == sent["id"] for f in peer.of_type("ack")),
        f"the ack of the {sent.get('type', 'frame')}",
    )


async def _request_monitoring(
    hass: HomeAssistant, peer: FakePortal, request_id: str = "req-1"
) -> dict[str, Any]:
    request = frame(
        "request_monitoring",
        {
            "request_id": request_id,
            "company": "Acme Installers",
            "installer": {"name": "Ivan Installer"},
            "at": "2026-11-23T10:00:00+00:00",
        },
    )
    await send_acked(hass, peer, request)
    return request


async def _cut(
    hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    """Cut the connection; move time on so that Home Assistant reconnects."""
    await peer.drop()
    await wait_until(hass, lambda: not manager_of(entry).connected, "the disconnection")
    await tick(hass, freezer, 2)


async def _grant(hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal) -> None:
    await _request_monitoring(hass, peer)
    await answer_monitoring_request(hass, entry, "approve")
    await wait_until(hass, lambda: peer.of_type("snapshot"), "a snapshot")


async def revoke_with_service(hass: HomeAssistant, entry_id: str) -> None:
    """Revoke monitoring with the ``revoke_monitoring`` service, as an automation would."""
    await hass.services.async_call(
        DOMAIN, "revoke_monitoring", {"config_entry_id": entry_id}, blocking=True
    )


async def revoke_refused(hass: HomeAssistant, entry_id: str) -> str | None:
    """The translation key of the error ``revoke_monitoring`` raises for ``entry_id``."""
    with pytest.raises(ServiceValidationError) as err:
        await revoke_with_service(hass, entry_id)
    return err.value.translation_key


class OptionsSteps(NamedTuple):
    """The three results of an options menu's step: the menu, the step's form, the end."""

    menu: dict[str, Any]
    form: dict[str, Any]
    done: dict[str, Any]


async def choose_in_options(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> OptionsSteps:
    """Open the entry's options, pick ``step`` (``unlink``, ``revoke_monitoring``), confirm."""
    options = hass.config_entries.options
    menu = await options.async_init(entry.entry_id)
    form = await options.async_configure(menu["flow_id"], {"next_step_id": step})
    done = await options.async_configure(form["flow_id"], {})
    return OptionsSteps(dict(menu), dict(form), dict(done))
