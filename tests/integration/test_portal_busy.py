"""A portal over its accept budget answers 503 with Retry-After: Home Assistant waits that long."""

from __future__ import annotations

from collections.abc import AsyncIterator
import itertools
from pathlib import Path
import random
from unittest.mock import patch

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from companion_server.app_keys import HUB
from custom_components.somfy_pro import portal_socket
from tests.portal_app import Portal

from .portal_common import manager_of, wait_until
from .test_portal_real import BACKOFF_DELAY, _linked_and_granted


@pytest.fixture
async def real_portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """The real portal, taking on one Home Assistant handshake at a time, no line."""
    portal = Portal(
        tmp_path / "portal.db", settings={"channel_handshakes": 1, "channel_queue_seconds": 0}
    )
    await portal.start()
    yield portal
    await portal.stop()


async def test_a_busy_portal_is_retried_after_its_hint_not_the_backoff(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    entry = init_integration
    await _linked_and_granted(hass, entry, real_portal)
    manager = manager_of(entry)
    assert manager.link is not None
    assert real_portal.runner is not None
    admission = real_portal.runner.app[HUB].admission
    # The first reconnection at once; any later one by the backoff would take hours.
    delays = itertools.chain([0.05], itertools.repeat(10_000.0))
    with patch(BACKOFF_DELAY, side_effect=lambda _attempt: next(delays)):
        async with aiohttp.ClientSession() as session:
            # Another connection with the same token, upgraded and never saying hello: it
            # replaces Home Assistant's and holds the portal's one handshake.
            holder = await session.ws_connect(
                f"{real_portal.url}/api/v1/ws",
                headers={"Authorization": f"Bearer {manager.link.token}"},
            )
            await wait_until(hass, lambda: not manager.connected, "the replacement")
            await wait_until(hass, lambda: admission.refused >= 1, "a refusal", seconds=30)
            assert not manager.connected
            await holder.close()
        await wait_until(hass, lambda: manager.connected, "the retry after the hint", seconds=30)


def test_the_hint_gets_up_to_a_second_of_jitter() -> None:
    busy = portal_socket.PortalBusyError(100)
    delays = [busy.delay() for _ in range(200)]
    assert all(100 <= delay <= 101 for delay in delays)
    assert len(set(delays)) > 1
    with patch.object(random, "uniform", return_value=0.0):
        assert portal_socket.PortalBusyError(0).delay() == 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "7"}, 7.0), ({"Retry-After": "99999"}, 600.0), ({}, None),
     ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, None), ({"Retry-After": "-3"}, None)],
)  # fmt: skip
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    assert portal_socket._retry_after(headers) == expected
