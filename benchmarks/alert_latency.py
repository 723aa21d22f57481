"""Alert latency: from an alert raised at the simulated box to the ``somfy_pro_alert`` event.

Run: ``python benchmarks/alert_latency.py [--alerts N]`` (Home Assistant's test harness
provides the running HA; the box is the simulator over HTTPS on 127.0.0.1). Prints figures,
asserts nothing.

Two figures:
- end to end: the alert is raised at a random moment of the coordinator's 1-second event
  fetch cycle and HA fires the event at its next fetch (what a user sees);
- processing: a fetch is started right after the alert (HTTPS round trip, applying the
  event, alert bookkeeping, event bus), i.e. the part the integration itself adds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import random
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from benchmarks.ha_bench import (  # noqa: E402  (fixtures: module scope overrides the harness)
    PIN,
    SOURCES,
    TOKEN,
    _custom,  # noqa: F401
    main,
    report,
    verify_cleanup,  # noqa: F401
)


async def _measure(hass: Any, tmp_path: Path, alerts: int) -> None:
    from homeassistant.core import callback
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from box_simulator.server import BoxSimulator
    from custom_components.somfy_pro.const import DOMAIN, EVENT_ALERT

    sim = BoxSimulator("home", token=TOKEN, port=0, state_dir=tmp_path)
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
        coordinator = entry.runtime_data.coordinator
        arrived: asyncio.Queue[float] = asyncio.Queue()

        @callback
        def on_alert(_event: Any) -> None:
            arrived.put_nowait(time.perf_counter())

        hass.bus.async_listen(EVENT_ALERT, on_alert)
        active = {source: False for source in SOURCES}

        async def one(immediate: bool) -> float:
            source = random.choice(SOURCES)
            active[source] = not active[source]
            started = time.perf_counter()
            sim.box.set_alert(source[0], source[1], active[source])
            if immediate:
                await coordinator.async_refresh()
            done = await asyncio.wait_for(arrived.get(), timeout=10)
            return done - started

        end_to_end: list[float] = []
        for _ in range(alerts):
            await asyncio.sleep(random.uniform(0, 1))  # a random moment of the fetch cycle
            end_to_end.append(await one(immediate=False))
        processing = [await one(immediate=True) for _ in range(alerts)]
        print()
        print(f"Alert latency, simulator -> HA event ({alerts} alerts each)")
        report("end to end", end_to_end)
        report("processing", processing)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await sim.stop()


async def test_alert_latency(hass: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Measure and print (``test_`` so that pytest runs it)."""
    await _measure(hass, tmp_path, int(request.config.getoption("alerts")))


if __name__ == "__main__":
    sys.exit(main(__file__))
