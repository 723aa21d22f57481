"""``ctl set-state``: any state of any device to any value, as a real box reports it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any
import urllib.parse

from aiohttp import ClientSession
import pytest

from box_simulator import ctl
from box_simulator.server import BoxSimulator

from .conftest import TOKEN
from .overkiz import make_client
from .test_control import control
from .test_pyoverkiz import collect
from .test_replay import PIN, TAHOMA, get, start, values

VALVE = f"io://{PIN}/4473617#1"
CONTACT = f"rtds://{PIN}/28711"
ZIGBEE = f"zigbee://{PIN}/32153/1"
SONOS = f"ogp://{PIN}/00000BE8"


@pytest.fixture
async def tahoma(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The 2026 TaHoma dump, replayed."""
    sim = await start(TAHOMA, tmp_path)
    yield sim
    await sim.stop()


@pytest.mark.parametrize(
    ("argv", "states", "types"),
    [
        (["core:StatusState", "false"], {"core:StatusState": False}, None),
        (["core:RSSILevelState", "-55"], {"core:RSSILevelState": -55}, None),
        (["core:RSSILevelState", "45.908"], {"core:RSSILevelState": 45.908}, None),
        (["core:BatteryLevelState", "100%"], {"core:BatteryLevelState": "100%"}, None),
        (["core:BatteryLevelState", '"87"'], {"core:BatteryLevelState": "87"}, None),
        (["core:BatteryState", "normal"], {"core:BatteryState": "normal"}, None),
        (["core:ActiveZonesState", "null"], {"core:ActiveZonesState": None}, None),
        (["core:X", '{"a": [1, 2]}'], {"core:X": {"a": [1, 2]}}, None),
        (["core:X", "[1, 2]"], {"core:X": [1, 2]}, None),
        (["core:X", "12", "--type", "3"], {"core:X": 12}, {"core:X": 3}),
    ],
)
def test_set_state_request(argv: list[str], states: dict[str, Any], types: Any) -> None:
    args = ctl.build_parser().parse_args(["set-state", VALVE, *argv])
    body: dict[str, Any] = {"device": VALVE, "states": states}
    if types is not None:
        body["types"] = types
    assert ctl.request_for(args) == ("POST", "/device/states", body)


async def test_declared_state_first_reported(
    session: ClientSession, tahoma: BoxSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(f"{tahoma.host}:{tahoma.port}", TOKEN, session)
    await client.register_event_listener()
    base = ["--control", tahoma.control_url, "set-state", VALVE]
    assert await asyncio.to_thread(ctl.main, [*base, "core:SensorDefectState", "lowBattery"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True}
    events = await collect(client, lambda e: str(e.name) == "DeviceStateChangedEvent")
    event = next(e for e in events if str(e.name) == "DeviceStateChangedEvent")
    assert event.device_url == VALVE
    assert values(event.device_states) == {"core:SensorDefectState": "lowBattery"}
    # It is now reported: in setup, in the device and in its states.
    path = "setup/devices/" + urllib.parse.quote(VALVE, safe="")
    device = await get(session, tahoma, path)
    assert device["states"][-1] == {
        "name": "core:SensorDefectState",
        "type": 3,
        "value": "lowBattery",
    }
    setup = await get(session, tahoma, "setup")
    assert device in setup["devices"]
    states = {s.name: s.value for s in await client.get_state(VALVE)}
    assert states["core:SensorDefectState"] == "lowBattery"


async def test_every_value_type(session: ClientSession, tahoma: BoxSimulator) -> None:
    listener = tahoma.box.register_listener()
    values: list[tuple[str, str, Any, int]] = [
        (ZIGBEE, "core:StatusState", True, 6),
        (ZIGBEE, "core:BatteryLevelState", "15%", 3),
        (CONTACT, "core:RSSILevelState", -61, 1),
        (CONTACT, "core:BatteryState", "normal", 3),
        (VALVE, "core:TargetTemperatureState", 21, 2),  # a float state stays a float state
        (SONOS, "ogp:Volume", 0.5, 2),  # a device without definition reports states too
        (CONTACT, "core:ZoneState", {"zone": "A", "armed": [1, 2]}, 11),
        (CONTACT, "core:ActiveZonesState", None, 0),
    ]
    for url, name, value, _ in values:
        status, answer = await control(
            session, tahoma, "/device/states", {"device": url, "states": {name: value}}
        )
        assert status == 200, answer
    events = tahoma.box.fetch(listener)
    assert [e["name"] for e in events] == ["DeviceStateChangedEvent"] * len(values)
    for event, (url, name, value, state_type) in zip(events, values, strict=True):
        expected = {"name": name, "type": state_type}
        if value is not None:
            expected["value"] = value
        assert event["deviceURL"] == url
        assert event["deviceStates"] == [expected]
        served = await get(session, tahoma, "setup/devices/" + urllib.parse.quote(url, safe=""))
        assert expected in served["states"]


async def test_forced_type_and_bad_requests(session: ClientSession, tahoma: BoxSimulator) -> None:
    body = {"device": CONTACT, "states": {"core:X": "12"}, "types": {"core:X": 1}}
    assert (await control(session, tahoma, "/device/states", body))[0] == 200
    assert tahoma.box.devices[CONTACT].states["core:X"] == (1, "12")
    for bad, reason in [
        ({"device": "io://nowhere/1", "states": {"core:X": 1}}, "io://nowhere/1"),
        ({"device": CONTACT, "states": {}}, "states"),
        ({"device": CONTACT, "states": [1]}, "states"),
        ({"device": CONTACT, "states": {"core:X": 1}, "types": {"core:X": "1"}}, "types"),
    ]:
        status, answer = await control(session, tahoma, "/device/states", bad)
        assert status == 400
        assert reason in answer["error"]


async def test_device_unavailable_and_back(
    session: ClientSession, tahoma: BoxSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    listener = tahoma.box.register_listener()
    base = ["--control", tahoma.control_url]
    # An RTDS sensor has no StatusState: only the event says it.
    assert await asyncio.to_thread(ctl.main, [*base, "device-offline", CONTACT]) == 0
    # A zigbee sensor reports its status as a boolean: it stays one.
    assert await asyncio.to_thread(ctl.main, [*base, "device-offline", ZIGBEE]) == 0
    assert await asyncio.to_thread(ctl.main, [*base, "device-online", ZIGBEE]) == 0
    capsys.readouterr()
    events = [
        (e["name"], e["deviceURL"], e.get("deviceStates")) for e in tahoma.box.fetch(listener)
    ]
    assert events == [
        ("DeviceUnavailableEvent", CONTACT, None),
        (
            "DeviceStateChangedEvent",
            ZIGBEE,
            [{"name": "core:StatusState", "type": 6, "value": False}],
        ),
        ("DeviceUnavailableEvent", ZIGBEE, None),
        (
            "DeviceStateChangedEvent",
            ZIGBEE,
            [{"name": "core:StatusState", "type": 6, "value": True}],
        ),
        ("DeviceAvailableEvent", ZIGBEE, None),
    ]
    served = await get(session, tahoma, "setup/devices/" + urllib.parse.quote(CONTACT, safe=""))
    assert served["available"] is False
