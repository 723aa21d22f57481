"""Device triggers: an automation built on "the smoke detector reports fire"."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN

from .common import AWNING, PIN, SHUTTER, SMOKE, device_of, tick


def trigger(device_id: str, kind: str) -> dict[str, str]:
    return {"platform": "device", "domain": DOMAIN, "device_id": device_id, "type": kind}


async def test_get_triggers(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    smoke = device_of(hass, SMOKE)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, smoke.id)
    kinds = {t["type"] for t in triggers if t["domain"] == DOMAIN}
    assert kinds == {
        "fire",
        "fire_cleared",
        "tamper",
        "tamper_cleared",
        "battery_low",
        "battery_low_cleared",
        "sensor_defect",
        "sensor_defect_cleared",
        "device_offline",
        "device_offline_cleared",
    }
    box = device_of(hass, PIN)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, box.id)
    assert {t["type"] for t in triggers if t["domain"] == DOMAIN} == {
        "box_offline",
        "box_offline_cleared",
    }
    shutter = device_of(hass, SHUTTER)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, shutter.id)
    assert {t["type"] for t in triggers if t["domain"] == DOMAIN} == {
        "device_offline",
        "device_offline_cleared",
    }
    awning = device_of(hass, AWNING)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, awning.id)
    assert [t for t in triggers if t["domain"] == DOMAIN] == []


async def test_trigger_fires_automation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    calls = async_mock_service(hass, "test", "automation")
    smoke = device_of(hass, SMOKE)
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "trigger": trigger(smoke.id, "fire"),
                    "action": {
                        "service": "test.automation",
                        "data_template": {"message": "{{ trigger.event.data.device_name }}"},
                    },
                },
                {
                    "trigger": trigger(smoke.id, "fire_cleared"),
                    "action": {"service": "test.automation", "data": {"message": "cleared"}},
                },
            ]
        },
    )
    simulator.box.set_alert(SMOKE, "tamper", True)  # another alert: no call
    await tick(hass, freezer)
    assert calls == []
    simulator.box.set_alert(SMOKE, "smoke", True)
    await tick(hass, freezer)
    assert [c.data["message"] for c in calls] == ["Kitchen smoke detector"]
    simulator.box.set_alert(SMOKE, "smoke", False)
    await tick(hass, freezer)
    assert [c.data["message"] for c in calls] == ["Kitchen smoke detector", "cleared"]


async def test_invalid_trigger_type(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    import voluptuous as vol

    from custom_components.somfy_pro.device_trigger import TRIGGER_SCHEMA

    with pytest.raises(vol.Invalid):
        TRIGGER_SCHEMA(trigger(device_of(hass, SMOKE).id, "earthquake"))


async def test_triggers_of_unknown_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    from custom_components.somfy_pro.device_trigger import async_get_triggers

    assert await async_get_triggers(hass, "not-a-device") == []
