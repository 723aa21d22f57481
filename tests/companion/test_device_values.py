"""A device's bad value costs that value only: the snapshot and later updates are stored.

Real boxes report radio levels the protocol does not take (``-55``: dBm, not a percentage);
an older or broken sender may pass them on. The portal leaves such a field out, logs it,
and stores everything else: the other devices of the snapshot, the device's other values,
and each later update of that device. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import logging
from typing import Any

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import Device, RadioSample
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant, registered

Factory = Callable[[], Awaitable[HomeAssistant]]
SHUTTER = "io://1234-5678-9012/1"
SENSOR = "rtds://1234-5678-9012/40001"


@pytest.fixture
async def ha(core: Core, server: TestServer) -> AsyncIterator[HomeAssistant]:
    """A linked Home Assistant that granted monitoring, connected."""
    reg, _ = await registered(core, sim.PIN, "Acme Installers", "boss@acme.example")
    client = HomeAssistant(str(server.make_url("/")))
    status, _ = await client.link(reg.code, sim.PIN)
    assert status == 200
    await client.connect()
    await client.hello(monitoring=True)
    try:
        yield client
    finally:
        await client.close()


async def _handled(ha: HomeAssistant) -> None:
    """Wait until the frames sent before are handled (an alert's ack comes after them)."""
    await ha.send(sim.alert())
    await ha.expect("ack")


async def _devices(core: Core) -> dict[str, Device]:
    async with core.tx() as db:
        return {d.url: d for d in await db.scalars(select(Device))}


async def _samples(core: Core, url: str) -> list[int]:
    async with core.tx() as db:
        rows = await db.scalars(
            select(RadioSample.rssi)
            .join(Device, Device.id == RadioSample.device_id)
            .where(Device.url == url)
            .order_by(RadioSample.id)
        )
        return list(rows)


def _sensor(**values: Any) -> dict[str, Any]:
    return {
        "url": SENSOR,
        "label": "Hall motion detector",
        "protocol": "rtds",
        "ui_class": "OccupancySensor",
        "online": True,
        "rssi": -55,
        "rssi_level": "good",
        **values,
    }


def _shutter(**values: Any) -> dict[str, Any]:
    return {"url": SHUTTER, "label": "Living room shutter", "protocol": "io", "rssi": 72, **values}


async def test_bad_radio_level_in_a_snapshot(
    core: Core, ha: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The sensor is stored without its radio level; the other device whole."""
    with caplog.at_level(logging.WARNING):
        await ha.send(sim.snapshot([_sensor(), _shutter()]))
        await _handled(ha)
    devices = await _devices(core)
    assert set(devices) == {SENSOR, SHUTTER}
    sensor = devices[SENSOR]
    assert (sensor.label, sensor.rssi, sensor.rssi_level, sensor.online) == (
        "Hall motion detector",
        None,
        "good",
        True,
    )
    assert devices[SHUTTER].rssi == 72
    assert await _samples(core, SENSOR) == []
    assert await _samples(core, SHUTTER) == [72]
    assert f"device {SENSOR}: values left out (rssi)" in caplog.text


async def test_later_updates_of_that_device_are_stored(
    core: Core, ha: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Each update is applied without its bad value; a good radio level later is taken."""
    await ha.send(sim.snapshot([_sensor(rssi=80), _shutter()]))
    await _handled(ha)
    with caplog.at_level(logging.WARNING):
        changes = {"rssi": -61, "online": False, "battery": "low"}
        await ha.send(sim.frame("device_update", {"url": SENSOR, "changes": changes}))
        await _handled(ha)
    sensor = (await _devices(core))[SENSOR]
    # The bad level keeps the last good one; the rest of the update is stored.
    assert (sensor.rssi, sensor.online, sensor.battery) == (80, False, "low")
    # Written by the telemetry writer, in order with the other updates of its batch.
    [record] = [r for r in caplog.records if "values left out" in r.getMessage()]
    assert record.name == "companion_server.hub.telemetry"
    assert f"device {SENSOR}: values left out (rssi)" in record.getMessage()
    changes = {"rssi": 45.908, "online": True}
    await ha.send(sim.frame("device_update", {"url": SENSOR, "changes": changes}))
    await _handled(ha)
    sensor = (await _devices(core))[SENSOR]
    assert (sensor.rssi, sensor.online) == (46, True)
    assert await _samples(core, SENSOR) == [80, 46]


async def test_update_of_a_new_device_with_a_bad_value(core: Core, ha: HomeAssistant) -> None:
    """A device first known by an update is created with its good values."""
    changes = {"label": "Front door contact", "rssi": 150, "rssi_level": "good"}
    await ha.send(sim.frame("device_update", {"url": SENSOR, "changes": changes}))
    await _handled(ha)
    sensor = (await _devices(core))[SENSOR]
    assert (sensor.label, sensor.rssi, sensor.rssi_level) == ("Front door contact", None, "good")


async def test_devices_without_a_valid_url_are_left_out(
    core: Core, ha: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A device of a snapshot with no usable url is skipped; the others are stored."""
    with caplog.at_level(logging.WARNING):
        await ha.send(
            sim.snapshot([{"label": "no url"}, _sensor(url="u" * 301), 5, _shutter(rssi=-1)])
        )
        await _handled(ha)
    devices = await _devices(core)
    assert list(devices) == [SHUTTER]
    assert devices[SHUTTER].rssi is None
    assert "3 devices of a snapshot left out" in caplog.text
    # The snapshot listed the shutter only: nothing else to keep.
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(Device)) == 1
