"""Built-in profiles as real boxes describe products: some states declared, reported later."""

from __future__ import annotations

from typing import Any

from box_simulator.server import BoxSimulator

from .test_replay import values

CONTACT = "io://1234-5678-9012/10338254"
GARDEN_WINDOW = "io://1234-5678-9012/10338255"
SMOKE = "io://1234-5678-9012/10811422"
DECLARED = {"core:SensorDefectState", "core:BatteryState"}


def declared(device: Any) -> set[str]:
    states = device.definition.states
    if hasattr(states, "keys"):  # pyoverkiz 2
        return set(states)
    return {s.qualified_name for s in states}


async def test_declared_not_reported_until_something_happens(
    client: Any, simulator: BoxSimulator
) -> None:
    devices = {d.device_url: d for d in (await client.get_setup()).devices}
    for url in (CONTACT, SMOKE):
        assert declared(devices[url]) >= DECLARED
        assert not DECLARED & set(values(devices[url].states))
    # A scenario may say that something happened: that device reports it.
    assert values(devices[GARDEN_WINDOW].states)["core:BatteryState"] == "normal"

    simulator.box.set_alert(SMOKE, "battery_low", True)
    states = values(await client.get_state(SMOKE))
    assert (states["core:BatteryState"], states["core:SensorDefectState"]) == ("low", "lowBattery")
    simulator.box.set_alert(SMOKE, "battery_low", False)
    states = values(await client.get_state(SMOKE))
    assert (states["core:BatteryState"], states["core:SensorDefectState"]) == ("normal", "noDefect")
    simulator.box.set_alert(CONTACT, "sensor_defect", True)
    assert (
        values(await client.get_state(CONTACT))["core:SensorDefectState"] == "maintenanceRequired"
    )
    assert "core:BatteryState" not in values(await client.get_state(CONTACT))
