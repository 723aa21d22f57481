"""The real pyoverkiz client (1.16 or 2.x, whichever is installed) against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientConnectorError, ClientSession
import pytest

from box_simulator.scenario import DeviceSpec
from box_simulator.server import BoxSimulator

from .overkiz import exception, execute, make_client

SHUTTER = "io://1234-5678-9012/11803671"
CONTACT = "io://1234-5678-9012/10338254"
SMOKE = "io://1234-5678-9012/10811422"
AWNING = "rts://1234-5678-9012/16719623"


async def collect(client: Any, until: Any, tries: int = 40) -> list[Any]:
    """Fetch events until one satisfies ``until``."""
    seen: list[Any] = []
    for _ in range(tries):
        seen += await client.fetch_events()
        if any(until(e) for e in seen):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected event not received; got {[e.name for e in seen]}")


async def test_api_version_needs_no_token(client: Any) -> None:
    assert await client.get_api_version() == "2025.3.2-5"


async def test_setup_devices_and_gateways(client: Any, simulator: BoxSimulator) -> None:
    setup = await client.get_setup()
    assert len(setup.devices) == len(simulator.box.devices) == 12
    by_url = {d.device_url: d for d in setup.devices}
    shutter = by_url[SHUTTER]
    assert shutter.label == "Living room shutter"
    assert shutter.controllable_name == "io:RollerShutterGenericIOComponent"
    assert str(shutter.ui_class) == "RollerShutter"
    assert str(shutter.widget) == "PositionableRollerShutter"
    assert shutter.states["core:RSSILevelState"].value == 82
    assert shutter.states["core:DiscreteRSSILevelState"].value == "good"
    assert "setClosure" in shutter.definition.commands
    assert by_url[AWNING].states.get("core:RSSILevelState") is None
    gateways = await client.get_gateways()
    assert gateways[0].id == "1234-5678-9012"
    assert gateways[0].up_to_date is True
    assert gateways[0].connectivity.protocol_version == "2025.3.2-5"
    devices = await client.get_devices(refresh=True)
    assert {d.device_url for d in devices} == set(by_url)


async def test_device_states_endpoint(client: Any) -> None:
    states = await client.get_state(SHUTTER)
    assert {s.name for s in states} >= {"core:ClosureState", "core:StatusState"}


async def test_command_changes_state_and_emits_events(client: Any) -> None:
    await client.register_event_listener()
    exec_id = await execute(client, SHUTTER, "setClosure", 40)
    events = await collect(
        client,
        lambda e: str(e.name) == "ExecutionStateChangedEvent" and str(e.new_state) == "COMPLETED",
    )
    names = [str(e.name) for e in events]
    assert names[0] == "ExecutionRegisteredEvent"
    assert events[0].exec_id == exec_id
    changed = [e for e in events if str(e.name) == "DeviceStateChangedEvent"]
    closures = [s.value for e in changed for s in e.device_states if s.name == "core:ClosureState"]
    assert closures == [40]
    states = {s.name: s.value for s in await client.get_state(SHUTTER)}
    assert states["core:ClosureState"] == 40
    assert await client.get_current_executions() == []


async def test_editable_parameter_command(client: Any, simulator: BoxSimulator) -> None:
    await client.register_event_listener()
    await execute(client, SHUTTER, "setMemorized1Position", 25)
    await execute(client, SHUTTER, "setName", "Salon")
    await collect(client, lambda e: str(e.name) == "DeviceUpdatedEvent")
    device = simulator.box.devices[SHUTTER]
    assert device.state("core:Memorized1PositionState") == 25
    assert device.label == "Salon"


async def test_injected_alert_reaches_listener(client: Any, simulator: BoxSimulator) -> None:
    await client.register_event_listener()
    simulator.box.set_alert(SMOKE, "smoke", True)
    events = await collect(client, lambda e: str(e.name) == "DeviceStateChangedEvent")
    state = events[0].device_states[0]
    assert (events[0].device_url, state.name, state.value) == (SMOKE, "core:SmokeState", "detected")


async def test_device_unavailable_event(client: Any, simulator: BoxSimulator) -> None:
    await client.register_event_listener()
    simulator.box.set_device_online(CONTACT, False)
    await collect(client, lambda e: str(e.name) == "DeviceUnavailableEvent")
    devices = await client.get_devices(refresh=True)
    assert next(d for d in devices if d.device_url == CONTACT).available is False


async def test_wrong_token_raises_not_authenticated(
    simulator: BoxSimulator, session: ClientSession
) -> None:
    bad = make_client(f"{simulator.host}:{simulator.port}", "wrong", session)
    with pytest.raises(exception("NotAuthenticatedException")):
        await bad.get_gateways()


async def test_unknown_command_raises_invalid_command(client: Any) -> None:
    with pytest.raises(exception("InvalidCommandException")):
        await execute(client, SHUTTER, "fly")


async def test_listener_reregistered_after_reboot(
    client: Any, simulator: BoxSimulator, session: ClientSession
) -> None:
    first = await client.register_event_listener()
    simulator.reboot(0.5)
    await asyncio.sleep(0.1)
    with pytest.raises(ClientConnectorError):  # the box refuses connections while rebooting
        await session.get(simulator.api_url + "apiVersion", ssl=False)
    while not simulator.online:
        await asyncio.sleep(0.05)
    # pyoverkiz re-registers a listener when the box says it has none.
    await client.fetch_events()
    assert client.event_listener_id not in (None, first)
    simulator.box.set_rssi(SHUTTER, 30)
    events = await collect(client, lambda e: str(e.name) == "DeviceStateChangedEvent")
    assert {s.name for s in events[0].device_states} == {
        "core:RSSILevelState",
        "core:DiscreteRSSILevelState",
    }


async def test_panic_button_reaches_listener(client: Any, simulator: BoxSimulator) -> None:
    """An alarm remote's panic button: its declared state, reported once pressed."""
    box = simulator.box
    remote = box.pair(DeviceSpec(box.profiles["rtds_alarm_remote"], "40000001", "Alarm remote"))
    devices = await client.get_devices(refresh=True)
    listed = next(d for d in devices if d.device_url == remote.url)
    assert remote.url.startswith("rtds://")
    assert str(listed.widget) == "AlarmRemoteController"
    # pyoverkiz 1 lists state definitions, pyoverkiz 2 maps them by name.
    declared = {getattr(s, "qualified_name", s) for s in listed.definition.states}
    assert "core:PanicEventState" in declared
    await client.register_event_listener()
    box.set_alert(remote.url, "aggression", True)
    events = await collect(client, lambda e: str(e.name) == "DeviceStateChangedEvent")
    state = events[0].device_states[0]
    assert (state.name, state.value) == ("core:PanicEventState", "detected")
