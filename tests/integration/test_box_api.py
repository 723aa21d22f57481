"""The pyoverkiz adapter, on whichever pyoverkiz major version is installed."""

from __future__ import annotations

import asyncio
from unittest.mock import patch

from aiohttp import ClientSession, ServerDisconnectedError
import pytest

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.box_api import (
    BoxAuthenticationError,
    BoxClient,
    BoxConnectionError,
    BoxError,
    BoxListenerLostError,
    host_is_ip_address,
    normalize_host,
)

from .common import SHUTTER, SMOKE
from .conftest import TOKEN


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.168.1.20:8443", True),
        ("[fe80::1]:8443", True),
        ("gateway-1234-5678-9012.local:8443", False),
        ("box.example", False),
    ],
)
def test_host_is_ip_address(host: str, expected: bool) -> None:
    assert host_is_ip_address(host) is expected


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("192.168.1.20", None, "192.168.1.20:8443"),
        (" https://gateway-1234-5678-9012.local/ ", None, "gateway-1234-5678-9012.local:8443"),
        ("192.168.1.20:9443", None, "192.168.1.20:9443"),
        ("10.0.0.2", 8444, "10.0.0.2:8444"),
        ("[fe80::1]", None, "[fe80::1]:8443"),
        ("[fe80::1]:9000", None, "[fe80::1]:9000"),
        ("fe80::1", None, "[fe80::1]:8443"),
    ],
)
def test_normalize_host(host: str, port: int | None, expected: str) -> None:
    assert normalize_host(host, port) == expected


@pytest.fixture
async def session() -> ClientSession:
    async with ClientSession() as http:
        yield http


def client_for(sim: BoxSimulator, session: ClientSession, token: str = TOKEN) -> BoxClient:
    return BoxClient(session, f"{sim.host}:{sim.port}", token, False)


async def test_execute_and_events(simulator: BoxSimulator, session: ClientSession) -> None:
    client = client_for(simulator, session)
    await client.register_listener()
    exec_id = await client.execute(SHUTTER, "setClosure", 40)
    assert exec_id
    events = []
    # Until the cover has stopped, however long a loaded machine takes (only a hang fails).
    async with asyncio.timeout(120):
        while not any(e.states.get("core:MovingState") is False for e in events):
            events += await client.fetch_events()
            await asyncio.sleep(0.02)
    closures = [e.states["core:ClosureState"] for e in events if "core:ClosureState" in e.states]
    assert closures == [40]
    # The boolean state is read right on both pyoverkiz versions.
    moving = [e.states["core:MovingState"] for e in events if "core:MovingState" in e.states]
    assert moving == [True, False]
    await client.unregister_listener()
    assert client.listener_id is None
    await client.unregister_listener()  # nothing registered: nothing to do


async def test_listener_lost(simulator: BoxSimulator, session: ClientSession) -> None:
    client = client_for(simulator, session)
    with pytest.raises(BoxListenerLostError):
        await client.fetch_events()


async def test_errors(simulator: BoxSimulator, session: ClientSession) -> None:
    with pytest.raises(BoxAuthenticationError):
        await client_for(simulator, session, "wrong").get_setup()
    with pytest.raises(BoxError):
        await client_for(simulator, session).execute(SHUTTER, "fly")
    await simulator.set_online(False)
    with pytest.raises(BoxConnectionError):
        await client_for(simulator, session).get_gateway()


async def test_unregister_when_box_unreachable(
    simulator: BoxSimulator, session: ClientSession
) -> None:
    client = client_for(simulator, session)
    await client.register_listener()
    await simulator.set_online(False)
    await client.unregister_listener()
    assert client.listener_id is None


async def test_boolean_fix_skips_removed_device(
    simulator: BoxSimulator, session: ClientSession
) -> None:
    """A device removed between its event and the re-read keeps the event's values."""
    client = client_for(simulator, session)
    await client.register_listener()
    simulator.box.set_alert(SMOKE, "tamper", True)
    simulator.box.set_states(SMOKE, {"core:MaintenanceFlagState": True})
    simulator.box.unpair(SMOKE)
    events = await client.fetch_events()
    assert [e.name for e in events][-1] == "DeviceRemovedEvent"


async def test_no_gateway(simulator: BoxSimulator, session: ClientSession) -> None:
    client = client_for(simulator, session)
    with patch.object(client._client, "get_gateways", return_value=[]), pytest.raises(BoxError):
        await client.get_gateway()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NoRegisteredEventListenerException", BoxListenerLostError),
        ("ServiceUnavailableException", BoxConnectionError),
        ("TooManyRequestsException", BoxConnectionError),
        ("NotAuthenticatedException", BoxAuthenticationError),
        ("UnknownObjectException", BoxError),
    ],
)
async def test_error_translation(
    simulator: BoxSimulator, session: ClientSession, name: str, expected: type[Exception]
) -> None:
    from custom_components.somfy_pro.box_api import _exception_classes

    (cls,) = _exception_classes(name)
    client = client_for(simulator, session)
    await client.register_listener()
    with (
        patch.object(client._client, "fetch_events", side_effect=cls("boom")),
        pytest.raises(expected),
    ):
        await client.fetch_events()


async def test_setup_without_gateway(simulator: BoxSimulator, session: ClientSession) -> None:
    client = client_for(simulator, session)
    raw = await client._get_json("setup")
    raw["gateways"] = []
    with (
        patch.object(client, "_get_json", return_value=raw),
        pytest.raises(BoxError),
    ):
        await client.get_setup()


async def test_setup_read_survives_a_dropped_connection(
    simulator: BoxSimulator, session: ClientSession
) -> None:
    """A kept-alive connection the box closed is tried again, as pyoverkiz does."""
    client = client_for(simulator, session)
    real_get = session.get
    calls: list[str] = []

    def get(url: str, **kwargs: object) -> object:
        calls.append(url)
        if len(calls) == 1:
            raise ServerDisconnectedError
        return real_get(url, **kwargs)

    with patch.object(session, "get", side_effect=get):
        setup = await client.get_setup()
    assert len(calls) == 2
    assert SHUTTER in setup.devices
    await simulator.set_online(False)
    with pytest.raises(BoxConnectionError):
        await client.get_setup()
