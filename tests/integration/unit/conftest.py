"""Fixtures of the unit tests: an autospecced box client fed from JSON fixtures, no simulator.

The client class is patched where the integration and the config flow build it; every call
returns data loaded from ``tests/integration/fixtures/``, in the shape ``box_api`` returns.
Snapshots live in one folder per Home Assistant version (``snapshots/ha2025.4``,
``snapshots/ha2026.10``), because the two versions the tests run on serialise registry entries
and state attributes differently and name some entity ids differently. After a change of
entities, update both: ``.venv/bin/python -m pytest tests/integration/unit --snapshot-update``
and ``bash scripts/py314.sh run python -m pytest tests/integration/unit --snapshot-update``.
The simulator stays the test bed of the integration tests one folder up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_TOKEN,
    CONF_VERIFY_SSL,
    Platform,
    __short_version__ as HA_SHORT_VERSION,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.somfy_pro import PLATFORMS
from custom_components.somfy_pro.box_api import Device, Gateway, Setup
from custom_components.somfy_pro.const import DOMAIN

FIXTURES = Path(__file__).parents[1] / "fixtures"
PIN = "1234-5678-9012"
HOST = f"gateway-{PIN}.local:8443"
TOKEN = "unit-token-0123456789"
LISTENER = "listener-0001"


def load_json(name: str) -> Any:
    """A fixture file of ``tests/integration/fixtures``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def load_gateway(name: str = "gateway.json") -> Gateway:
    """The box as ``BoxClient.get_gateway`` returns it."""
    return Gateway(**load_json(name))


def load_setup(name: str = "setup.json") -> Setup:
    """The box and its devices as ``BoxClient.get_setup`` returns them (fresh objects)."""
    raw = load_json(name)
    devices = [Device(**device) for device in raw["devices"]]
    return Setup(gateway=Gateway(**raw["gateway"]), devices={d.url: d for d in devices})


class VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, one folder per Home Assistant version."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        """``snapshots/ha<major.minor>`` next to the test file.

        Not syrupy's ``__snapshots__``: nothing else walks this folder, so a run on one
        version never reports the other version's snapshots as unused.
        """
        test_dir = Path(test_location.filepath).parent
        return str(test_dir / "snapshots" / f"ha{HA_SHORT_VERSION}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots of the running Home Assistant version."""
    return snapshot.use_extension(VersionedSnapshotExtension)


@pytest.fixture
def setup_fixture() -> str:
    """The fixture file the box's setup is read from (override to use another box)."""
    return "setup.json"


@pytest.fixture
def box_client_class() -> Iterator[MagicMock]:
    """``BoxClient``, autospecced, where ``__init__`` and the config flow build it."""
    with (
        patch("custom_components.somfy_pro.BoxClient", autospec=True) as client_class,
        patch("custom_components.somfy_pro.config_flow.BoxClient", new=client_class),
    ):
        yield client_class


@pytest.fixture
def mock_box_client(box_client_class: MagicMock, setup_fixture: str) -> MagicMock:
    """The client the integration builds, answering with the fixtures' box."""
    client: MagicMock = box_client_class.return_value
    client.get_gateway.return_value = load_gateway()
    client.get_setup.side_effect = lambda: load_setup(setup_fixture)
    client.register_listener.return_value = LISTENER
    client.listener_id = LISTENER
    client.fetch_events.return_value = []
    return client


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The entry of the box of the fixtures."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TaHoma Switch {PIN}",
        unique_id=PIN,
        data={CONF_HOST: HOST, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )


@pytest.fixture
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Entries created by the config flow are not set up."""
    with patch("custom_components.somfy_pro.async_setup_entry", return_value=True) as setup_entry:
        yield setup_entry


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    request: pytest.FixtureRequest,
    mock_box_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> AsyncIterator[MockConfigEntry]:
    """The entry set up on the mock client: the platforms of the indirect parameter, or all."""
    param: Platform | None = getattr(request, "param", None)
    platforms = PLATFORMS if param is None else [param]
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.somfy_pro.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        yield mock_config_entry
        if mock_config_entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(mock_config_entry.entry_id)
            await hass.async_block_till_done()
