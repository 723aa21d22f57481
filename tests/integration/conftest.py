"""Fixtures: the ``home`` box simulator over HTTPS and a config entry pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import logging
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN

TOKEN = "test-token-0123456789"
PIN = "1234-5678-9012"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components."""


@pytest.fixture(autouse=True)
def quiet_portal_sql() -> None:
    """The harness logs at INFO, which makes SQLAlchemy log every statement of the portal."""
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def allow_localhost(socket_enabled: None) -> None:
    """The simulator listens on 127.0.0.1."""


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    """pyoverkiz retries with exponential backoff: do not wait between tries in tests."""
    with patch("backoff._async._next_wait", return_value=0):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The ``home`` box on a free port, fast-moving."""
    sim = BoxSimulator(
        "home",
        token=TOKEN,
        port=0,
        state_dir=tmp_path,
        move_seconds=0.05,
        reboot_seconds=0.3,
    )
    await sim.start()
    yield sim
    await sim.stop()


def entry_data(sim: BoxSimulator, token: str = TOKEN) -> dict[str, object]:
    """Config entry data for the simulator."""
    return {CONF_HOST: f"{sim.host}:{sim.port}", CONF_TOKEN: token, CONF_VERIFY_SSL: False}


@pytest.fixture
def mock_config_entry(simulator: BoxSimulator) -> MockConfigEntry:
    """A config entry for the simulated box."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TaHoma Switch {PIN}",
        unique_id=PIN,
        data=entry_data(simulator),
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The integration set up against the simulator; unloaded afterwards."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    yield mock_config_entry
    if (
        hass.config_entries.async_get_entry(mock_config_entry.entry_id) is not None
        and mock_config_entry.state is ConfigEntryState.LOADED
    ):
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


# Fixtures of the remote-service and audit-log tests (last: they use entry_data above).
from .remote_fixtures import linked_entry, no_portal_channel, outgoing  # noqa: E402, F401
