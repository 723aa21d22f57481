"""Alert latency: from an alert raised at the simulated box to the portal recording it.

Run: ``python benchmarks/alert_to_portal.py [--alerts N]``. Every piece is real and
in-process: the box simulator over HTTPS, Home Assistant's test harness with the integration,
the installer portal app on 127.0.0.1 with a temporary SQLite database; the box is linked and
monitoring granted. Prints figures, asserts nothing.

The clock stops when Home Assistant receives the portal's ``ack`` of the ``alert`` frame: the
portal acknowledges after the alert is committed to its database.

Two figures:
- end to end: the alert is raised at a random moment of the coordinator's 1-second event
  fetch cycle (what an installer sees);
- processing: a fetch is started right after the alert (box round trip, alert bookkeeping,
  outbox, WebSocket, the portal's transaction, the ack), i.e. what the product adds.
"""

# ruff: noqa: ASYNC110  (polling the outbox is what is measured, at 0.5 ms)

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
    PIN,
    _custom,  # noqa: F401
    alert_figures,
    box_in_hass,
    main,
    verify_cleanup,  # noqa: F401
)


async def _measure(hass: Any, tmp_path: Path, alerts: int) -> None:
    from homeassistant.helpers.aiohttp_client import async_get_clientsession

    from benchmarks.serve import portal_in_process, quick_settings
    from companion_server.app_keys import CORE
    from companion_server.monitoring.services import request_monitoring
    from companion_server.registration.services import seed_registration
    from custom_components.somfy_pro.portal_client import async_link
    from custom_components.somfy_pro.portal_monitoring import MONITORING_GRANTED

    settings = quick_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}", public_url="http://127.0.0.1:8080"
    )
    server = await portal_in_process(settings)
    core = server.app[CORE]
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with box_in_hass(hass, tmp_path) as (sim, entry):
            manager = entry.runtime_data.portal
            monitoring = entry.runtime_data.monitoring
            reg = await seed_registration(core, pin=PIN)
            result = await async_link(
                async_get_clientsession(hass), url, reg.code, PIN, "benchmark", "Benchmark"
            )
            await manager.async_set_link(result, url, "benchmark")
            while not manager.connected:
                await asyncio.sleep(0.01)
            await request_monitoring(core, reg.actor_id, reg.installation_id)
            while monitoring.request is None:
                await asyncio.sleep(0.01)
            await monitoring.async_set_monitoring(MONITORING_GRANTED)
            while manager.outbox:
                await asyncio.sleep(0.01)

            async def arrived() -> float:
                while not manager.outbox:  # the alert frame is posted...
                    await asyncio.sleep(0.0005)
                while manager.outbox:  # ...and acknowledged once recorded
                    await asyncio.sleep(0.0005)
                return time.perf_counter()

            await alert_figures(
                sim,
                entry.runtime_data.coordinator,
                alerts,
                "Alert latency, simulator -> HA -> portal database",
                arrived,
            )
    finally:
        await server.close()


async def test_alert_to_portal(hass: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Measure and print (``test_`` so that pytest runs it)."""
    await _measure(hass, tmp_path, int(request.config.getoption("alerts")))


if __name__ == "__main__":
    sys.exit(main(__file__))
