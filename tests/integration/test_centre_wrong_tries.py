"""Wrong passwords at ``cancel_alarm`` are counted in storage: a restart grants no new guesses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.somfy_pro.centre_tries import MAX_WRONG_TRIES, WrongTries
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_store import storage_key

from .centre_common import FIRST_PASSWORD, subscribe_complete
from .common import tick
from .portal_channel_common import linked, peer
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal

__all__ = ["linked", "peer"]


@pytest.fixture(autouse=True)
def in_france(hass: HomeAssistant) -> None:
    """Numbers without a country code are French."""
    hass.config.country = "FR"


async def _cancel(hass: HomeAssistant, entry: MockConfigEntry, password: str) -> None:
    await hass.services.async_call(
        DOMAIN,
        "cancel_alarm",
        {"config_entry_id": entry.entry_id, "password": password},
        blocking=True,
    )


async def _refused_as(hass: HomeAssistant, entry: MockConfigEntry, password: str) -> str:
    with pytest.raises(ServiceValidationError) as err:
        await _cancel(hass, entry, password)
    return str(err.value.translation_key)


async def test_wrong_tries_survive_a_restart(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await subscribe_complete(hass, linked, hass_admin_user.id)
    for _ in range(MAX_WRONG_TRIES - 1):
        assert await _refused_as(hass, linked, "wrong") == "cancel_wrong_password"
    stored = hass_storage[storage_key(linked.entry_id)]["data"]["centre"]["wrong_tries"]
    assert len(stored) == MAX_WRONG_TRIES - 1  # written before the action answered

    # Restarted with four wrong tries counted: one more fills the window.
    assert await hass.config_entries.async_reload(linked.entry_id)
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel")
    assert await _refused_as(hass, linked, "wrong") == "cancel_wrong_password"
    assert await hass.config_entries.async_reload(linked.entry_id)
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel")
    assert await _refused_as(hass, linked, FIRST_PASSWORD) == "cancel_rate_limited"

    # Ten minutes after the first wrong try, the window has room again.
    await tick(hass, freezer, 601)
    await _cancel(hass, linked, FIRST_PASSWORD)
    await wait_until(
        hass,
        lambda: (
            [f["payload"]["action"] for f in peer.of_type("centre_owner")][-1:] == ["owner_cancel"]
        ),
        "the cancel",
    )


def test_unreadable_stored_tries_are_left_out() -> None:
    tries = WrongTries()
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    tries.restore(["not a time", 12, None, "2026-11-28T09:59:00", now.isoformat()])
    assert tries.as_stored() == [now.isoformat()]  # a naive time is no time either
    tries.restore({"a": 1})
    assert tries.as_stored() == []
    tries.restore([now.isoformat()] * (MAX_WRONG_TRIES + 3))
    assert tries.blocked(now)
    assert len(tries.as_stored()) == MAX_WRONG_TRIES
