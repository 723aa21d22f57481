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
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from benchmarks.ha_bench import (  # noqa: E402  (fixtures: module scope overrides the harness)
    _custom,  # noqa: F401
    alert_figures,
    box_in_hass,
    main,
    verify_cleanup,  # noqa: F401
)


async def _measure(hass: Any, tmp_path: Path, alerts: int) -> None:
    from homeassistant.core import callback

    from custom_components.somfy_pro.const import EVENT_ALERT

    async with box_in_hass(hass, tmp_path) as (sim, entry):
        events: asyncio.Queue[float] = asyncio.Queue()

        @callback
        def on_alert(_event: Any) -> None:
            events.put_nowait(time.perf_counter())

        hass.bus.async_listen(EVENT_ALERT, on_alert)

        async def arrived() -> float:
            return await asyncio.wait_for(events.get(), timeout=10)

        await alert_figures(
            sim,
            entry.runtime_data.coordinator,
            alerts,
            "Alert latency, simulator -> HA event",
            arrived,
        )


async def test_alert_latency(hass: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Measure and print (``test_`` so that pytest runs it)."""
    await _measure(hass, tmp_path, int(request.config.getoption("alerts")))


if __name__ == "__main__":
    sys.exit(main(__file__))
