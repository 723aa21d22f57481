"""What the benchmarks run inside Home Assistant's test harness share: box, figures, runner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
import logging
from pathlib import Path
import random
import sys
import time
from types import ModuleType
from typing import Any

import pytest

from benchmarks.figures import report

__all__ = ["report"]  # the figures of the benchmarks run in the harness

TOKEN = "benchmark-token"
PIN = "1234-5678-9012"
# Devices and the simulator alert they can raise.
SOURCES = [
    (f"io://{PIN}/10811422", "smoke"),
    (f"io://{PIN}/10811423", "tamper"),
    (f"io://{PIN}/10338254", "intrusion"),
    (f"io://{PIN}/10552810", "intrusion"),
    (f"io://{PIN}/10338255", "sensor_defect"),
]
ALERTS = 120


@pytest.fixture(autouse=True)
def _custom(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom_components; allow 127.0.0.1; keep the output to the figures."""
    logging.getLogger().setLevel(logging.WARNING)
    # The harness logs every SQL statement; the portal's would drown the figures.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """A benchmark leaves HTTP keep-alive timers and import threads: not checked here."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--alerts N``."""
    parser.addoption("--alerts", default=str(ALERTS))


def forwarded(*names: str) -> list[str]:
    """The command line's ``--name value`` options, as the ``--name=value`` pytest takes."""
    args = sys.argv[1:]
    return [
        f"--{name}={args[args.index('--' + name) + 1]}" for name in names if f"--{name}" in args
    ]


def run_in_harness(path: str, options: Sequence[str], plugin: ModuleType) -> int:
    """Run the benchmark file ``path`` under the harness with ``plugin``'s options, fixtures."""
    # Import the integration before HA's pytest plugin shadows custom_components.
    import custom_components.somfy_pro  # noqa: F401

    return int(
        pytest.main(
            [
                path,
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "-W",
                "ignore::DeprecationWarning",
                "-o",
                "log_level=WARNING",
                *options,
            ],
            plugins=[plugin],
        )
    )


def main(path: str) -> int:
    """Run the alert benchmark file ``path`` under the harness, passing ``--alerts N`` on."""
    return run_in_harness(path, forwarded("alerts"), sys.modules[__name__])


@asynccontextmanager
async def box_in_hass(
    hass: Any, tmp_path: Path, *, move_seconds: float | None = None
) -> AsyncIterator[tuple[Any, Any]]:
    """The simulator's ``home`` box over HTTPS and its config entry, set up; unloaded after."""
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from box_simulator.server import BoxSimulator
    from custom_components.somfy_pro.const import DOMAIN

    extra = {} if move_seconds is None else {"move_seconds": move_seconds}
    sim = BoxSimulator("home", token=TOKEN, port=0, state_dir=tmp_path, **extra)
    await sim.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PIN,
        data={"host": f"127.0.0.1:{sim.port}", "token": TOKEN, "verify_ssl": False},
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield sim, entry
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await sim.stop()


async def alert_figures(
    sim: Any,
    coordinator: Any,
    alerts: int,
    title: str,
    arrived: Callable[[], Awaitable[float]],
) -> None:
    """Raise and clear ``alerts`` alerts at random moments, then right before a fetch; print.

    ``arrived`` waits for what the benchmark measures and returns when it happened
    (``time.perf_counter()``).
    """
    active = {source: False for source in SOURCES}

    async def one(immediate: bool) -> float:
        source = random.choice(SOURCES)
        active[source] = not active[source]
        started = time.perf_counter()
        sim.box.set_alert(source[0], source[1], active[source])
        if immediate:
            await coordinator.async_refresh()
        return await arrived() - started

    end_to_end: list[float] = []
    for _ in range(alerts):
        await asyncio.sleep(random.uniform(0, 1))  # a random moment of the fetch cycle
        end_to_end.append(await one(immediate=False))
    processing = [await one(immediate=True) for _ in range(alerts)]
    print()
    print(f"{title} ({alerts} alerts each)")
    report("end to end", end_to_end)
    report("processing", processing)
