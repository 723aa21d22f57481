"""Fixtures: a running simulator on 127.0.0.1 and a real pyoverkiz client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import ClientSession
import pytest

from box_simulator.server import BoxSimulator

from .overkiz import make_client

TOKEN = "test-token-0123456789"


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The ``home`` box, fast-moving, on free ports."""
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


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    """An HTTP client session."""
    async with ClientSession() as http:
        yield http


@pytest.fixture
def client(simulator: BoxSimulator, session: ClientSession):  # type: ignore[no-untyped-def]
    """A pyoverkiz client pointed at the simulator."""
    return make_client(f"{simulator.host}:{simulator.port}", TOKEN, session)
