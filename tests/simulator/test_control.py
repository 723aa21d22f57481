"""The control API, its CLI, scenarios, TLS state and the zeroconf announcement."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import ssl
import subprocess
import sys

from aiohttp import ClientSession
import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from box_simulator import ctl
from box_simulator.advertise import SERVICE_TYPE
from box_simulator.scenario import load_scenario
from box_simulator.server import BoxSimulator

from .conftest import TOKEN

SHUTTER = "io://1234-5678-9012/11803671"
CONTACT = "io://1234-5678-9012/10338254"
SMOKE = "io://1234-5678-9012/10811422"
AWNING = "rts://1234-5678-9012/16719623"


async def control(
    session: ClientSession, sim: BoxSimulator, path: str, body: object = None
) -> tuple[int, dict]:
    method = "GET" if body is None else "POST"
    async with session.request(method, sim.control_url + path, json=body) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("device", "alert", "state", "raised", "cleared"),
    [
        (CONTACT, "intrusion", "core:IntrusionDetectedState", True, False),
        (CONTACT, "tamper", "core:AssemblyState", "open", "closed"),
        (SMOKE, "smoke", "core:SmokeState", "detected", "notDetected"),
        (SMOKE, "battery_low", "core:BatteryState", "low", "normal"),
        (CONTACT, "sensor_defect", "core:SensorDefectState", "maintenanceRequired", "noDefect"),
    ],
)
async def test_alerts_raise_and_clear(
    session: ClientSession,
    simulator: BoxSimulator,
    device: str,
    alert: str,
    state: str,
    raised: object,
    cleared: object,
) -> None:
    listener = simulator.box.register_listener()
    status, _ = await control(session, simulator, "/alert", {"device": device, "type": alert})
    assert status == 200
    assert simulator.box.devices[device].state(state) == raised
    status, _ = await control(
        session, simulator, "/alert", {"device": device, "type": alert, "active": False}
    )
    assert simulator.box.devices[device].state(state) == cleared
    events = simulator.box.fetch(listener)
    assert [e["name"] for e in events] == ["DeviceStateChangedEvent"] * 2
    assert all(e["deviceURL"] == device for e in events)


async def test_bad_control_requests_are_refused(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    cases = [
        ("/alert", {"device": AWNING, "type": "smoke"}, "cannot report smoke"),
        ("/alert", {"device": SMOKE, "type": "flood"}, "unknown alert type"),
        ("/alert", {"device": "io://1234-5678-9012/1", "type": "smoke"}, "No such device"),
        ("/device/rssi", {"device": AWNING, "level": 10}, "no radio level"),
        ("/device/rssi", {"device": SHUTTER, "level": 101}, "0-100"),
        ("/pair", {"profile": "toaster", "label": "x"}, "toaster"),
        ("/alert", [1, 2], "JSON object"),
    ]
    for path, body, fragment in cases:
        status, answer = await control(session, simulator, path, body)
        assert status == 400, path
        assert fragment in answer["error"]
    assert simulator.box.devices[SHUTTER].state("core:RSSILevelState") == 82
    status, _ = await control(session, simulator, "/state")
    assert status == 200


async def test_device_offline_rssi_firmware(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    listener = simulator.box.register_listener()
    await control(session, simulator, "/device/online", {"device": SHUTTER, "online": False})
    await control(session, simulator, "/device/rssi", {"device": CONTACT, "level": 12})
    await control(session, simulator, "/box/firmware", {"up_to_date": False})
    names = [e["name"] for e in simulator.box.fetch(listener)]
    assert names == ["DeviceStateChangedEvent", "DeviceUnavailableEvent", "DeviceStateChangedEvent"]
    _status, state = await control(session, simulator, "/state")
    devices = {d["url"]: d for d in state["devices"]}
    assert devices[SHUTTER]["available"] is False
    assert devices[SHUTTER]["states"]["core:StatusState"] == "unavailable"
    assert devices[CONTACT]["states"]["core:DiscreteRSSILevelState"] == "verylow"
    assert state["gateway"]["upToDate"] is False
    assert state["gateway"]["updateStatus"] == "READY_TO_UPDATE"
    assert devices[SHUTTER]["editable"] == ["label", "my_position"]


async def test_pair_and_unpair(session: ClientSession, simulator: BoxSimulator) -> None:
    listener = simulator.box.register_listener()
    status, answer = await control(
        session, simulator, "/pair", {"profile": "io_contact_sensor", "label": "Garage"}
    )
    assert status == 200
    url = answer["device"]
    assert simulator.box.devices[url].label == "Garage"
    await control(session, simulator, "/unpair", {"device": url})
    assert url not in simulator.box.devices
    events = simulator.box.fetch(listener)
    assert [(e["name"], e["deviceURL"]) for e in events] == [
        ("DeviceCreatedEvent", url),
        ("DeviceRemovedEvent", url),
    ]


async def test_box_offline_refuses_connections(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(simulator.api_url + "setup/gateways", headers=headers, ssl=False) as r:
        assert r.status == 200
    await control(session, simulator, "/box/online", {"online": False})
    with pytest.raises(Exception):  # noqa: B017 - refused or dropped, as an unplugged box
        async with session.get(simulator.api_url + "setup/gateways", headers=headers, ssl=False):
            pass
    await control(session, simulator, "/box/online", {"online": True})
    async with session.get(simulator.api_url + "setup/gateways", headers=headers, ssl=False) as r:
        assert r.status == 200


async def test_token_revocation(session: ClientSession, simulator: BoxSimulator) -> None:
    await control(session, simulator, "/tokens", {"add": "second", "remove": TOKEN})
    async with session.get(
        simulator.api_url + "setup", headers={"Authorization": f"Bearer {TOKEN}"}, ssl=False
    ) as r:
        assert r.status == 401
    async with session.get(
        simulator.api_url + "setup", headers={"Authorization": "Bearer second"}, ssl=False
    ) as r:
        assert r.status == 200


async def test_ctl_cli(simulator: BoxSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--control", simulator.control_url]
    assert await asyncio.to_thread(ctl.main, [*base, "raise-alert", "smoke", SMOKE]) == 0
    assert simulator.box.devices[SMOKE].state("core:SmokeState") == "detected"
    assert await asyncio.to_thread(ctl.main, [*base, "rssi", SHUTTER, "20"]) == 0
    assert simulator.box.devices[SHUTTER].state("core:RSSILevelState") == 20
    assert await asyncio.to_thread(ctl.main, [*base, "firmware", "outdated"]) == 0
    assert await asyncio.to_thread(ctl.main, [*base, "rssi", AWNING, "20"]) == 1
    capsys.readouterr()
    assert await asyncio.to_thread(ctl.main, [*base, "state"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["gateway"]["upToDate"] is False
    assert (
        await asyncio.to_thread(ctl.main, ["--control", "http://127.0.0.1:9/simulator", "state"])
        == 2
    )


def test_request_mapping() -> None:
    parser = ctl.build_parser()
    assert ctl.request_for(parser.parse_args(["reboot", "--seconds", "2"])) == (
        "POST",
        "/box/reboot",
        {"seconds": 2.0},
    )
    assert ctl.request_for(parser.parse_args(["device-offline", SHUTTER])) == (
        "POST",
        "/device/online",
        {"device": SHUTTER, "online": False},
    )
    assert ctl.request_for(parser.parse_args(["pair", "io_remote", "Keyfob"])) == (
        "POST",
        "/pair",
        {"profile": "io_remote", "label": "Keyfob"},
    )
    assert ctl.request_for(parser.parse_args(["unpair", SHUTTER])) == (
        "POST",
        "/unpair",
        {"device": SHUTTER},
    )
    assert ctl.request_for(parser.parse_args(["box-offline"]))[2] == {"online": False}
    assert ctl.request_for(parser.parse_args(["press-remote", "A1B2C3"])) == (
        "POST",
        "/remote/press",
        {"address": "A1B2C3"},
    )


def test_scenarios(tmp_path: Path) -> None:
    large = load_scenario("large")
    assert len(large.devices) == 200
    assert len({d.address for d in large.devices}) == 200
    home = load_scenario("home")
    assert home.pin == "1234-5678-9012"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gateway": {"pin": "12", "firmware": "1"}, "devices": []}))
    with pytest.raises(ValueError, match="PIN"):
        load_scenario(str(bad))
    with pytest.raises(ValueError, match="unknown scenario"):
        load_scenario("nowhere")


async def test_certificate_kept_in_state_dir(tmp_path: Path) -> None:
    first = BoxSimulator(token=TOKEN, port=0, state_dir=tmp_path)
    pem = first.cert_path.read_bytes()
    second = BoxSimulator(token=TOKEN, port=0, state_dir=tmp_path)
    assert second.cert_path.read_bytes() == pem
    await second.start()
    try:
        context = ssl.create_default_context(cafile=str(second.cert_path))
        async with (
            ClientSession() as session,
            session.get(second.api_url + "apiVersion", ssl=context) as r,
        ):
            assert r.status == 200  # the box certificate verifies against itself (pinned)
    finally:
        await second.stop()


async def test_zeroconf_announcement(tmp_path: Path) -> None:
    sim = BoxSimulator(token=TOKEN, port=0, state_dir=tmp_path, zeroconf=True)
    # A PIN of its own: simulators of tests running at the same time announce theirs on the
    # same loopback, and mDNS refuses a name already taken.
    pin = f"1234-5678-{os.getpid() % 10000:04d}"
    sim.box.pin = pin
    await sim.start()
    browser = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        info = AsyncServiceInfo(SERVICE_TYPE, f"gateway-{pin}.{SERVICE_TYPE}")
        assert await info.async_request(browser.zeroconf, 3000)
        assert info.port == sim.port
        assert info.properties[b"gateway_pin"] == pin.encode()
        assert info.properties[b"fw_version"] == b"2025.3.2-5"
        assert info.parsed_addresses() == ["127.0.0.1"]
    finally:
        await browser.async_close()
        await sim.stop()


def test_cli_help_lists_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "box_simulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in (
        "--scenario",
        "--port",
        "--token",
        "--control-port",
        "--state-dir",
        "--no-zeroconf",
    ):
        assert option in out


async def test_reboot_command_restarts_the_box(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    simulator.box.register_listener()
    body = {
        "actions": [
            {"deviceURL": "internal://1234-5678-9012/pod/0", "commands": [{"name": "reboot"}]}
        ]
    }
    async with session.post(
        simulator.api_url + "exec/apply", json=body, headers=headers, ssl=False
    ) as r:
        assert r.status == 200
    for _ in range(40):
        if not simulator.online:
            break
        await asyncio.sleep(0.02)
    assert not simulator.online
    assert simulator.box.listeners == {}  # a reboot forgets event listeners
    while not simulator.online:
        await asyncio.sleep(0.05)


async def test_pair_remote_at_customer_and_from_qr_code(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    listener = simulator.box.register_listener()
    # not listening yet: pressing PROG does nothing
    status, answer = await control(session, simulator, "/remote/press", {"address": "A1B2C3"})
    assert status == 400
    assert "pairing mode" in answer["error"]

    async def apply(url: str, name: str, *params: object) -> int:
        cmd = {"name": name, "parameters": list(params)}
        body = {"actions": [{"deviceURL": url, "commands": [cmd]}]}
        async with session.post(
            simulator.api_url + "exec/apply", json=body, headers=headers, ssl=False
        ) as r:
            return r.status

    assert await apply("internal://1234-5678-9012/pod/0", "discover1WayController") == 200
    await asyncio.sleep(0.05)
    status, answer = await control(session, simulator, "/remote/press", {"address": "A1B2C3"})
    assert status == 200
    remote = answer["device"]
    assert remote == "io://1234-5678-9012/A1B2C3"
    # a remote scanned by the installer (QR code) is paired to two shutters directly
    assert await apply(SHUTTER, "pairOneWayController", "00C0FFEE") == 200
    assert await apply("io://1234-5678-9012/12639432", "pairOneWayController", "00C0FFEE") == 200
    assert await apply(SHUTTER, "pairOneWayController", "not-hex") == 400
    await asyncio.sleep(0.1)
    scanned = "io://1234-5678-9012/00C0FFEE"
    assert simulator.box.devices[scanned].profile.name == "io_remote"
    for url in (SHUTTER, "io://1234-5678-9012/12639432"):
        assert simulator.box.devices[url].state("core:PairedOneWayControllersState") == [scanned]
    created = [
        e["deviceURL"] for e in simulator.box.fetch(listener) if e["name"] == "DeviceCreatedEvent"
    ]
    assert created == [remote, scanned]
    assert await apply(SHUTTER, "unpairOneWayController", "00C0FFEE") == 200
    await asyncio.sleep(0.1)
    assert simulator.box.devices[SHUTTER].state("core:PairedOneWayControllersState") == []
