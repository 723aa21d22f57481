"""The ``large`` box (200 devices): Somfy Pro beside Home Assistant's own overkiz integration.

Run: ``python benchmarks/large_setup.py [--cycles N] [--changes K] [--rounds R]``. Both
integrations are set up, one after the other (alternating which goes first, R rounds, medians
reported), in the same Home Assistant (the test harness) against the same simulator
over HTTPS on 127.0.0.1. Prints figures and ratios, asserts nothing.

- setup: wall-clock and CPU time of setting up the config entry (reading the box, creating
  devices and entities), after both integrations' modules and HA's entity platforms are
  already imported, so that neither pays for imports the other made;
- update cycle: CPU time of one coordinator refresh (fetch the box's events, apply them,
  write the states that changed) with ``--changes`` radio-level changes per cycle, and with
  none. CPU is the whole process, simulator included (the same work for both).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
import pkgutil
import random
import statistics
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from benchmarks.ha_bench import forwarded, run_in_harness  # noqa: E402

TOKEN = "benchmark-token"
PIN = "2222-3333-4444"
CYCLES = 30
CHANGES = 10
ROUNDS = 4
PLATFORM_DOMAINS = (
    "alarm_control_panel",
    "binary_sensor",
    "button",
    "climate",
    "cover",
    "event",
    "fan",
    "light",
    "lock",
    "number",
    "scene",
    "select",
    "sensor",
    "siren",
    "switch",
    "water_heater",
)


def _preimport(package: str) -> None:
    """Import every module of a package (integration platforms included)."""
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)


async def _run(
    hass: Any,
    sim: Any,
    domain: str,
    data: dict[str, Any],
    cycles: int,
    changes: int,
) -> dict[str, float]:
    """Set one integration up, measure, unload and remove it."""
    from homeassistant.helpers import entity_registry as er
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    entry = MockConfigEntry(domain=domain, unique_id=PIN, data=data)
    entry.add_to_hass(hass)
    wall, cpu = time.perf_counter(), time.process_time()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    setup_wall, setup_cpu = time.perf_counter() - wall, time.process_time() - cpu
    entities = len(er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id))
    coordinator = entry.runtime_data.coordinator
    io_devices = [url for url, d in sim.box.devices.items() if "core:RSSILevelState" in d.states]

    async def cycle(count: int) -> float:
        for url in random.sample(io_devices, count):
            sim.box.set_rssi(url, random.randint(0, 100))
        started = time.process_time()
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        return time.process_time() - started

    await cycle(0)  # warm-up
    busy = [await cycle(changes) for _ in range(cycles)]
    idle = [await cycle(0) for _ in range(cycles)]
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    return {
        "entities": entities,
        "setup_wall": setup_wall,
        "setup_cpu": setup_cpu,
        "cycle_busy": statistics.median(busy),
        "cycle_idle": statistics.median(idle),
    }


async def _measure(hass: Any, tmp_path: Path, cycles: int, changes: int, rounds: int) -> None:
    from homeassistant.setup import async_setup_component

    from box_simulator.server import BoxSimulator

    _preimport("custom_components.somfy_pro")
    _preimport("homeassistant.components.overkiz")
    for platform in PLATFORM_DOMAINS:
        assert await async_setup_component(hass, platform, {})
    sim = BoxSimulator("large", token=TOKEN, port=0, state_dir=tmp_path)
    await sim.start()
    host = f"127.0.0.1:{sim.port}"
    ours_runs: list[dict[str, float]] = []
    theirs_runs: list[dict[str, float]] = []
    ours_data = {"host": host, "token": TOKEN, "verify_ssl": False}
    theirs_data = {**ours_data, "api_type": "local", "hub": "somfy_europe"}
    try:
        for index in range(rounds):
            # Alternate which one goes first, so that neither pays for first-time work.
            order = [("somfy_pro", ours_data, ours_runs), ("overkiz", theirs_data, theirs_runs)]
            if index % 2:
                order.reverse()
            for domain, data, runs in order:
                runs.append(await _run(hass, sim, domain, data, cycles, changes))
    finally:
        await sim.stop()
    ours = {key: statistics.median(run[key] for run in ours_runs) for key in ours_runs[0]}
    theirs = {key: statistics.median(run[key] for run in theirs_runs) for key in theirs_runs[0]}

    def row(label: str, key: str, scale: float, unit: str) -> None:
        a, b = ours[key] * scale, theirs[key] * scale
        ratio = a / b if b else float("nan")
        print(f"{label:<34} {a:>10.1f} {b:>10.1f} {unit:<3} {ratio:>6.2f}")

    devices = len(sim.box.devices)
    print()
    print(
        f"'large' scenario: {devices} devices; medians of {rounds} rounds "
        f"(alternating order) of {cycles} update cycles each"
    )
    print(f"{'':<34} {'somfy_pro':>10} {'overkiz':>10} {'':<3} {'ratio':>6}")
    print(f"{'entities':<34} {ours['entities']:>10.0f} {theirs['entities']:>10.0f}")
    row("setup, wall clock", "setup_wall", 1000, "ms")
    row("setup, CPU", "setup_cpu", 1000, "ms")
    row(f"update cycle CPU, {changes} changes", "cycle_busy", 1000, "ms")
    row("update cycle CPU, no change", "cycle_idle", 1000, "ms")
    print("ratio = somfy_pro / overkiz (below 1: Somfy Pro is cheaper)")


@pytest.fixture(autouse=True)
def _custom(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom_components; allow 127.0.0.1; keep the output to the figures."""
    logging.getLogger().setLevel(logging.ERROR)


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """A benchmark leaves HTTP keep-alive timers and import threads: not checked here."""


async def test_large_setup(hass: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Measure and print (``test_`` so that pytest runs it)."""
    await _measure(
        hass,
        tmp_path,
        int(request.config.getoption("cycles")),
        int(request.config.getoption("changes")),
        int(request.config.getoption("rounds")),
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--cycles N --changes K --rounds R``."""
    parser.addoption("--cycles", default=str(CYCLES))
    parser.addoption("--changes", default=str(CHANGES))
    parser.addoption("--rounds", default=str(ROUNDS))


if __name__ == "__main__":
    options = forwarded("cycles", "changes", "rounds")
    sys.exit(run_in_harness(__file__, options, sys.modules[__name__]))
