"""Diagnostics of a box carrying personal data in every state real boxes are known to use."""

from __future__ import annotations

import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics
from custom_components.somfy_pro.redaction import REDACTED, Redactor

from .conftest import PIN, TOKEN, load_setup

# Everything of setup_personal_data.json that identifies the home, in every spelling it has.
SECRETS = [
    PIN,
    TOKEN,
    "Livebox-7F3A",
    "Martin family 5GHz",
    "FreeWifi_secure",
    "a4:3e:51:0c:9d:21",
    "192.168.1.57",
    "192.168.1.64",
    "F8:81:1A:2B:3C:4D",
    "48.8566",
    "2.3522",
    "Orange F",
    "356938035643809",
    "8933150319100213456",
    "00:0D:6F:00:0B:7A:21:C5",
    "00:0d:6f:00:0b:7a:21:c5",
    "00158d0004f1a2b3",
    "001788fffe4b5c6d",
    "482-91-375",
    "X-HM://0023ISYWY1A2B",
]


@pytest.fixture
def setup_fixture() -> str:
    """A box with Wi-Fi, GSM, zigbee, Hue and HomeKit data, as real boxes report them."""
    return "setup_personal_data.json"


async def _diagnostics(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    return await async_get_config_entry_diagnostics(hass, entry)


async def test_no_personal_value_left(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """None of the home's identifiers appears anywhere, in any case."""
    text = json.dumps(await _diagnostics(hass, init_integration)).lower()
    leaked = [secret for secret in SECRETS if secret.lower() in text]
    assert leaked == []


async def test_products_kept(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A product's label, name, values, attributes and the box's firmware stay as they are."""
    diagnostics = await _diagnostics(hass, init_integration)
    (smoke,) = [d for d in diagnostics["devices"] if d["url"] == "io://**REDACTED**/11803671"]
    assert smoke["label"] == "Hall smoke detector"
    assert smoke["states"] == {
        "core:StatusState": "available",
        "core:RSSILevelState": 76.0,
        "core:SmokeState": "notDetected",
        "core:SensorDefectState": "nodefect",
        "core:NameState": "Hall smoke detector",
    }
    assert smoke["attributes"] == {
        "core:FirmwareRevision": "5125658X03",
        "core:Manufacturer": "Somfy",
    }
    assert diagnostics["box"]["firmware"] == "2026.1.4-11"
    assert diagnostics["box"]["name"] == "Box"


def _redacted_box() -> dict[str, dict[str, Any]]:
    """Every device of the fixture, URL and states through one redactor, as diagnostics do.

    The whole box, not only what the coordinator keeps as products: the redaction must hold on
    the box's infrastructure devices (Wi-Fi, GSM, zigbee stack, bridges) too.
    """
    redactor = Redactor(PIN)
    return {
        redactor.text(url): redactor.states(device.states)
        for url, device in load_setup("setup_personal_data.json").devices.items()
    }


def test_every_personal_state_redacted() -> None:
    """No identifier of the fixture is left in any device URL or state of the box."""
    text = json.dumps(_redacted_box()).lower()
    leaked = [secret for secret in SECRETS if secret.lower() in text]
    assert leaked == []


def test_structure_types_and_technical_values_kept() -> None:
    """Only personal leaves change: keys, numbers, modes and radio levels stay."""
    box = _redacted_box()
    wifi = box["internal://**REDACTED**/wifi/0"]
    assert wifi["internal:SignalStrengthState"] == 71
    assert wifi["internal:WifiModeState"] == "infrastructure"
    assert re.fullmatch(r"\*\*VALUE-\d+\*\*", wifi["internal:CurrentInfraConfigState"])

    wifi1 = box["internal://**REDACTED**/wifi/1"]
    infra = wifi1["internal:CurrentInfraConfigState"]
    assert set(infra) == {"ssid", "security", "channel", "bssid"}
    assert infra["channel"] == 44
    assert infra["bssid"].startswith("**MAC-")
    ssids = wifi1["internal:AvailableInfraConfigsState"]
    assert isinstance(ssids, list)
    assert len(set(ssids)) == 3
    # The same SSID gets the same placeholder in every state that carries it.
    assert ssids[0] == wifi["internal:CurrentInfraConfigState"] == wifi1["core:SSIDState"]
    assert ssids[1] == infra["ssid"]

    pod = box["internal://**REDACTED**/pod/0"]
    assert pod["core:NameState"] == "Box"
    assert pod["core:CountryCodeState"] == "FR"
    assert pod["internal:LightingLedPodModeState"] == 0.6
    assert pod["core:LocalIPv4AddressState"].startswith("**VALUE-")
    assert pod["core:NetworkMacState"].startswith("**MAC-")
    assert pod["core:LocationLatitudeState"] == REDACTED
    assert pod["core:LocationLongitudeState"] == REDACTED

    gsm = box["internal://**REDACTED**/gsm/0"]
    assert gsm["internal:GSMProviderState"] == gsm["core:OperatorNameState"]
    assert gsm["internal:GSMSignalLevelState"] == 3
    status = gsm["internal:GSMStatusState"]
    assert status["registered"] is True
    assert status["roaming"] is False

    homekit = box["homekit://**REDACTED**/stack"]
    assert homekit["homekit:SetupCode"] != homekit["homekit:SetupPayload"]


def test_addresses_replaced_consistently() -> None:
    """A zigbee or Hue address is the same placeholder in device URLs and in states."""
    box = _redacted_box()
    stack = box["zigbee://**REDACTED**/65535"]["zigbee:ZigbeeNetworkState"]
    assert stack["mac"] == stack["extendedPanId"]
    assert stack["panId"] == 6735
    assert stack["channel"] == 15
    assert stack["nodes"][0]["lqi"] == 180
    plug = stack["nodes"][0]["ieeeAddress"]
    assert plug.startswith("**MAC-")
    assert plug != stack["mac"]
    assert box[f"zigbee://**REDACTED**/{plug}/1"] == {
        "core:OnOffState": "on",
        "core:StatusState": "available",
    }
    (hue_url,) = [url for url in box if url.startswith("hue://")]
    hue = box[hue_url]
    assert hue_url == f"hue://**REDACTED**/{hue['hue:BridgeIdState']}"
    assert hue["core:IPAddressState"].startswith("**VALUE-")


def test_redactor_nested_values() -> None:
    """Personal keys are found at any depth; other values keep their type."""
    redactor = Redactor(PIN)
    value = {
        "io:Foo": [{"config": {"wifi": [{"SSID": "Home", "rssi": -60}], "mode": "ap"}}],
        "core:MacAddressState": "aa-bb-cc-dd-ee-ff",
        "vendor:NoteState": f"box {PIN} at aa:bb:cc:dd:ee:ff, mail jo@example.org",
    }
    redacted = redactor.states(value)
    assert redacted["io:Foo"] == [
        {"config": {"wifi": [{"SSID": "**VALUE-1**", "rssi": -60}], "mode": "ap"}}
    ]
    assert redacted["core:MacAddressState"] == "**MAC-1**"
    assert redacted["vendor:NoteState"] == f"box {REDACTED} at **MAC-1**, mail {REDACTED}"
