"""Real boxes' data (``GET setup`` answers, diagnostics downloads) replayed verbatim."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
import subprocess
import sys
from typing import Any
import urllib.parse

from aiohttp import ClientSession
import pytest

from box_simulator.scenario import load_scenario
from box_simulator.server import BoxSimulator

from .conftest import TOKEN
from .overkiz import V2, exception, execute, make_client
from .test_pyoverkiz import collect

DUMPS = Path(__file__).parents[1] / "dumps"
TAHOMA = DUMPS / "replay_tahoma_2026.json"
DIAGNOSTICS = DUMPS / "replay_diagnostics_connexoon.json"
# The masks of replay_tahoma_2026.json, in the order the file first shows them.
TAHOMA_MASKS = {"****-****-3293": "0000-0001-3293", "****-****-7710": "0000-0002-7710"}
PIN = "0000-0001-3293"
SHUTTER = f"io://{PIN}/11803671"
SONOS = f"ogp://{PIN}/00000BE8"
AWNING = f"io://{PIN}/16719623"
DIAG_PIN = "0000-0000-0001"


def values(states: Any) -> dict[str, Any]:
    """State name -> value, from pyoverkiz 2's mapping or 1.x's list of states."""
    if hasattr(states, "items"):
        return {name: state.value for name, state in states.items()}
    return {state.name: state.value for state in states}


def unmasked(path: Path, masks: dict[str, str]) -> Any:
    """The dump with its masks replaced by hand: what the box must serve."""
    text = path.read_text(encoding="utf-8")
    for mask, value in masks.items():
        text = text.replace(mask, value)
    return json.loads(text.replace("****", "0003"))


async def start(path: Path, tmp_path: Path) -> BoxSimulator:
    sim = BoxSimulator(
        str(path), token=TOKEN, port=0, state_dir=tmp_path / "tls", move_seconds=0.05
    )
    await sim.start()
    return sim


@pytest.fixture
async def tahoma(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The 2026 TaHoma dump, replayed."""
    sim = await start(TAHOMA, tmp_path)
    yield sim
    await sim.stop()


async def get(session: ClientSession, sim: BoxSimulator, path: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(sim.api_url + path, headers=headers, ssl=False) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_setup_dump_served_verbatim(session: ClientSession, tahoma: BoxSimulator) -> None:
    expected = unmasked(TAHOMA, TAHOMA_MASKS)
    assert await get(session, tahoma, "setup") == expected
    assert await get(session, tahoma, "setup/gateways") == expected["gateways"]
    assert await get(session, tahoma, "setup/devices") == expected["devices"]
    for device in expected["devices"]:
        path = "setup/devices/" + urllib.parse.quote(device["deviceURL"], safe="")
        assert await get(session, tahoma, path) == device
        assert await get(session, tahoma, path + "/states") == device.get("states", [])


async def test_masks_become_valid_identifiers_consistently() -> None:
    setup = load_scenario(str(TAHOMA)).setup
    assert setup is not None
    assert [g["gatewayId"] for g in setup["gateways"]] == ["0000-0001-3293", "0000-0002-7710"]
    assert {d["deviceURL"].split("/")[2] for d in setup["devices"]} == {PIN}
    assert setup["id"] == f"SETUP-{PIN}"
    pod, homekit = setup["devices"][0], setup["devices"][-1]
    # "****" is one mask: the same digits in a label and in the HomeKit attributes.
    assert pod["label"] == "0003 (Box)"
    assert [a["value"] for a in homekit["attributes"]] == ["0003", "X-HM://0003"]


async def test_pyoverkiz_reads_what_it_can(session: ClientSession, tahoma: BoxSimulator) -> None:
    client = make_client(f"{tahoma.host}:{tahoma.port}", TOKEN, session)
    if V2:
        # pyoverkiz 2 skips (and logs) the device it cannot model, and reads the rest.
        setup = await client.get_setup()
        urls = {d.device_url for d in setup.devices}
        assert SONOS not in urls
        assert len(urls) == 11
    else:
        # As on a real 2026 box: pyoverkiz 1.x cannot parse a device without definition.
        with pytest.raises(TypeError):
            await client.get_setup()
    gateways = await client.get_gateways()
    assert [g.id for g in gateways] == ["0000-0001-3293", "0000-0002-7710"]
    assert gateways[0].connectivity.protocol_version == "2026.1.4-11"
    states = {s.name: s for s in await client.get_state(f"rtds://{PIN}/28700")}
    assert states["core:ActiveZonesState"].value is None
    assert int(states["core:ActiveZonesState"].type) == 0
    valve = {s.name: s.value for s in await client.get_state(f"io://{PIN}/4473617#1")}
    assert "core:SensorDefectState" not in valve  # declared, not reported
    zigbee = {s.name: s.value for s in await client.get_state(f"zigbee://{PIN}/32153/1")}
    assert zigbee == {
        "core:TemperatureState": 21.4,
        "core:BatteryLevelState": "100%",
        "core:StatusState": False,
    }
    sensor = {s.name: s.value for s in await client.get_state(f"rtds://{PIN}/28711")}
    assert sensor["core:RSSILevelState"] == -55


async def test_commands_on_replayed_devices(session: ClientSession, tahoma: BoxSimulator) -> None:
    client = make_client(f"{tahoma.host}:{tahoma.port}", TOKEN, session)
    await client.register_event_listener()
    await execute(client, SHUTTER, "setClosure", 80)
    events = await collect(
        client,
        lambda e: str(e.name) == "ExecutionStateChangedEvent" and str(e.new_state) == "COMPLETED",
    )
    changed = [values(e.device_states) for e in events if str(e.name) == "DeviceStateChangedEvent"]
    assert any(c.get("core:ClosureState") == 80 for c in changed)
    assert tahoma.box.devices[SHUTTER].state("core:ClosureState") == 80
    # A device without definition has no commands; an unavailable one fails its executions.
    with pytest.raises(exception("InvalidCommandException")):
        await execute(client, SONOS, "identify")
    await execute(client, AWNING, "deploy")
    failed = await collect(
        client,
        lambda e: str(e.name) == "ExecutionStateChangedEvent" and str(e.new_state) == "FAILED",
    )
    assert failed


@pytest.mark.parametrize("wrapped", [True, False], ids=["as-downloaded", "inner-dict"])
async def test_diagnostics_download_replayed(
    session: ClientSession, tmp_path: Path, wrapped: bool
) -> None:
    path = DIAGNOSTICS
    if not wrapped:
        path = tmp_path / "inner.json"
        inner = json.loads(DIAGNOSTICS.read_text(encoding="utf-8"))["data"]
        path.write_text(json.dumps(inner), encoding="utf-8")
    sim = await start(path, tmp_path)
    try:
        client = make_client(f"{sim.host}:{sim.port}", TOKEN, session)
        setup = await client.get_setup()
        assert [g.id for g in setup.gateways] == [DIAG_PIN]
        assert setup.gateways[0].up_to_date is False
        assert setup.gateways[0].connectivity.protocol_version == "2021.5.4-3"
        devices = {d.device_url: d for d in setup.devices}
        mac = "0200000000000001"
        assert set(devices) == {
            f"internal://{DIAG_PIN}/pod/0",
            f"rts://{DIAG_PIN}/16719623",
            f"io://{DIAG_PIN}/11803671",
            f"io://{DIAG_PIN}/10338254",
            f"zigbee://{DIAG_PIN}/{mac}/1",
        }
        door = devices[f"io://{DIAG_PIN}/10338254"]
        assert door.available is False
        assert values(door.states) == {
            "core:NameState": "Front door",
            "core:StatusState": "unavailable",
            "core:ContactState": "closed",
            "core:BatteryLevelState": "100%",
            "core:RSSILevelState": -61,
            "core:DiscreteRSSILevelState": "good",
            "core:ActiveZonesState": None,
        }
        declared = (
            set(door.definition.states)
            if V2
            else {s.qualified_name for s in door.definition.states}
        )
        assert {"core:SensorDefectState", "core:BatteryState"} <= declared
        zigbee = devices[f"zigbee://{DIAG_PIN}/{mac}/1"]
        assert zigbee.attributes["zigbee:IEEEAddress"].value == mac
        assert zigbee.states["core:StatusState"].value is True
        # (pyoverkiz 1.x turns the keys of JSON values to snake_case: read what the box sent.)
        network = await get(
            session,
            sim,
            "setup/devices/"
            + urllib.parse.quote(zigbee.device_url, safe="")
            + "/states/zigbee:ZigbeeNetworkState",
        )
        assert network["value"] == {
            "channel": 15,
            "extendedPanId": "0200000000000002",
            "state": "ready",
        }
        pod = devices[f"internal://{DIAG_PIN}/pod/0"]
        assert pod.states["internal:CurrentInfraConfigState"].value == "**VALUE-1**"
        shutter = devices[f"io://{DIAG_PIN}/11803671"]
        assert "setClosure" in shutter.definition.commands
        await client.register_event_listener()
        await execute(client, shutter.device_url, "setClosure", 10)
        await collect(
            client,
            lambda e: (
                str(e.name) == "ExecutionStateChangedEvent" and str(e.new_state) == "COMPLETED"
            ),
        )
        assert sim.box.devices[shutter.device_url].state("core:ClosureState") == 10
    finally:
        await sim.stop()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        (json.dumps({"devices": {}}), "list of devices"),
        (json.dumps({"devices": [], "gateways": []}), "at least one gateway"),
        (json.dumps({"devices": [], "gateways": [{"id": 1}]}), "gatewayId"),
        (json.dumps({"devices": [{"label": "x"}], "gateways": [{"gatewayId": "1"}]}), "deviceURL"),
        (
            json.dumps(
                {"devices": [{"deviceURL": "io://1/2"}] * 2, "gateways": [{"gatewayId": "1"}]}
            ),
            "listed twice",
        ),
        (json.dumps({"data": {"box": {}, "devices": [{"label": "x"}]}}), "needs a url"),
    ],
)
def test_bad_dumps_are_refused_clearly(tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "dump.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_scenario(str(path))


def test_named_scenarios_unchanged() -> None:
    assert load_scenario("home").setup is None
    assert len(load_scenario("large").devices) == 200


def test_cli_serves_a_dump(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "box_simulator",
            "--scenario",
            str(TAHOMA),
            "--port",
            "0",
            "--no-zeroconf",
            "--state-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"Simulated box {PIN} (12 devices)")
    finally:
        process.terminate()
        process.wait(timeout=10)
