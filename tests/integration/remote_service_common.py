"""Shared helpers of the remote-service window tests: grant, act, jump in time, window entities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.remote_service import RemoteService

from .common import PIN, state_of
from .remote_fixtures import installer_actions_of

NOW = "2026-11-23T10:00:00+00:00"


OTHER_PIN = "2222-3333-4444"


OTHER_BOX = f"io://{OTHER_PIN}/11803671"


UNKNOWN = f"io://{PIN}/99999999"


def remote_of(entry: MockConfigEntry) -> RemoteService:
    """The remote-service manager of a loaded entry."""
    remote: RemoteService = entry.runtime_data.remote_service
    return remote


async def grant(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> dict[str, Any] | None:
    """Call somfy_pro.grant_remote_service for the entry, returning its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return response


async def act(hass: HomeAssistant, entry: MockConfigEntry, **payload: Any) -> dict[str, Any]:
    """Hand an ``action`` frame's payload to the integration."""
    payload.setdefault("action_id", "a-1")
    result = await installer_actions_of(entry).async_handle_action(payload)
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


async def jump(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time on by ``delta`` with no request to the box in flight (it would time out)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def window_states(hass: HomeAssistant) -> tuple[str | None, str | None, str | None]:
    """Window open, until and installer entities of the box."""
    return (
        state_of(hass, "binary_sensor", f"{PIN}_remote_service"),
        state_of(hass, "sensor", f"{PIN}_remote_service_until"),
        state_of(hass, "sensor", f"{PIN}_remote_service_installer"),
    )
