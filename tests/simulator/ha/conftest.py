"""Fixtures for running Home Assistant's own overkiz integration against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from box_simulator.server import BoxSimulator

TOKEN = "ha-overkiz-token-0123456789"


@pytest.fixture
async def simulator(tmp_path: Path, socket_enabled: None) -> AsyncIterator[BoxSimulator]:
    """The ``home`` box on 127.0.0.1, inside Home Assistant's event loop."""
    sim = BoxSimulator("home", token=TOKEN, port=0, state_dir=tmp_path, move_seconds=0.05)
    await sim.start()
    yield sim
    await sim.stop()
