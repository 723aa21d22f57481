"""The portal channel against a scripted peer: monitoring granted, declined, revoked; outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro import portal_frames as frames, portal_monitoring
from custom_components.somfy_pro.box_api import Device
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id
from custom_components.somfy_pro.snapshot_digest import snapshot_digest

from .common import AWNING, FRONT_DOOR, PIN, SHUTTER, state_of, tick
from .portal_channel_common import (
    BEDROOM_SHUTTER,
    _cut,
    _grant,
    _request_monitoring,
    choose_in_options,
    linked,
    peer,
    revoke_refused,
    revoke_with_service,
)
from .portal_common import answer_monitoring_request, manager_of, monitoring_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]


# -- monitoring ---------------------------------------------------------------------------


async def test_monitoring_approved_streams(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await tick(hass, freezer)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    # Nothing before the grant: no snapshot, no alert.
    assert not peer.of_type("snapshot")
    assert not peer.of_type("alert")

    await _grant(hass, linked, peer)
    consent = peer.of_type("consent")[0]["payload"]
    assert consent == {"request_id": "req-1", "monitoring": "granted"}
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "on"
    snapshot = peer.of_type("snapshot")[0]["payload"]
    assert snapshot["box"]["online"] is True
    devices = {d["url"]: d for d in snapshot["devices"]}
    shutter = devices[SHUTTER]
    assert shutter["protocol"] == "io"
    assert isinstance(shutter["rssi"], int)
    assert set(shutter) == {
        "url",
        "label",
        "protocol",
        "ui_class",
        "online",
        "rssi",
        "rssi_level",
        "battery",
        "defect",
        "position",
        "editable",
    }
    assert (shutter["position"], devices[BEDROOM_SHUTTER]["position"]) == (0, 100)
    assert devices[AWNING]["position"] is None  # RTS: no feedback
    assert ir.async_get(hass).async_get_issue(DOMAIN, monitoring_issue_id(linked.entry_id)) is None

    # Changes stream as device updates; alerts as alert frames, once.
    simulator.box.set_rssi(SHUTTER, 5)
    await tick(hass, freezer)
    await wait_until(hass, lambda: peer.of_type("device_update"), "a device update")
    update = peer.of_type("device_update")[0]["payload"]
    assert update["url"] == SHUTTER
    assert update["changes"]["rssi"] == 5
    assert set(update["changes"]) <= {"rssi", "rssi_level"}
    simulator.box.set_states(SHUTTER, {"core:ClosureState": 40})
    await tick(hass, freezer)
    await wait_until(hass, lambda: len(peer.of_type("device_update")) == 2, "the new position")
    second = peer.of_type("device_update")[1]["payload"]
    assert {key: second[key] for key in ("url", "changes")} == {
        "url": SHUTTER,
        "changes": {"position": 40},
    }
    # Each update names the snapshot it leads from and to, chained from the one sent.
    sent = peer.of_type("snapshot")[0]["payload"]
    assert update["digest"]["from"] == snapshot_digest(sent)
    assert second["digest"]["from"] == update["digest"]["to"]
    shutter_now = {**update["changes"], "position": 40}
    devices_now = [
        device | shutter_now if device["url"] == SHUTTER else device for device in sent["devices"]
    ]
    (now,) = frames.snapshot_frames(sent["box"], devices_now)
    assert second["digest"]["to"] == snapshot_digest(now["payload"])
    simulator.box.set_alert(FRONT_DOOR, "intrusion", False)
    await tick(hass, freezer)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    await wait_until(hass, lambda: len(peer.of_type("alert")) == 2, "two alerts")
    cleared, raised = (f["payload"] for f in peer.of_type("alert"))
    assert (cleared["type"], cleared["active"]) == ("intrusion", False)
    assert (raised["type"], raised["active"], raised["device_url"]) == (
        "intrusion",
        True,
        FRONT_DOOR,
    )
    assert raised["device_label"]
    await tick(hass, freezer)
    assert len(peer.of_type("alert")) == 2
    await wait_until(hass, lambda: not manager_of(linked).outbox, "the acks")

    # A reconnection sends a fresh snapshot, and no alert again.
    await _cut(hass, linked, peer, freezer)
    await wait_until(hass, lambda: len(peer.of_type("snapshot")) == 2, "a second snapshot")
    assert peer.of_type("hello")[-1]["payload"]["monitoring"] is True
    assert len(peer.of_type("alert")) == 2

    # The same installer asking again while granted: answered at once.
    await _request_monitoring(hass, peer, "req-2")
    await wait_until(hass, lambda: len(peer.of_type("consent")) == 2, "a second consent")
    assert peer.of_type("consent")[1]["payload"] == {"request_id": "req-2", "monitoring": "granted"}


@pytest.mark.parametrize(
    ("closure", "position"),
    [(0, 0), (100, 100), (35.0, 35), ("35", 35), (101, None), (-1, None), (True, None)],
)
def test_position_is_a_percentage_or_none(closure: Any, position: int | None) -> None:
    shutter = Device(
        url=SHUTTER,
        label="Shutter",
        controllable_name="io:RollerShutterGenericIOComponent",
        ui_class="RollerShutter",
        widget="PositionableRollerShutter",
        available=True,
        states={"core:ClosureState": closure},
    )
    assert portal_monitoring.device_payload(shutter)["position"] == position


async def test_monitoring_declined_sends_nothing(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _request_monitoring(hass, peer)
    await answer_monitoring_request(hass, linked, "decline")
    await wait_until(hass, lambda: peer.of_type("consent"), "the consent")
    assert peer.of_type("consent")[0]["payload"] == {
        "request_id": "req-1",
        "monitoring": "declined",
    }
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    simulator.box.set_rssi(SHUTTER, 5)
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert not [f for f in peer.received if f["type"] in ("snapshot", "device_update", "alert")]
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "off"


async def test_revoke_with_the_service(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _grant(hass, linked, peer)
    await revoke_with_service(hass, linked.entry_id)
    await wait_until(hass, lambda: len(peer.of_type("consent")) == 2, "the revocation")
    assert peer.of_type("consent")[1]["payload"] == {"request_id": None, "monitoring": "revoked"}
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "off"
    count = len(peer.received)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    simulator.box.set_rssi(SHUTTER, 5)
    await tick(hass, freezer)
    await _cut(hass, linked, peer, freezer)
    await wait_until(hass, lambda: len(peer.of_type("hello")) == 2, "the reconnection")
    assert peer.of_type("hello")[1]["payload"]["monitoring"] is False
    # Nothing but the new hello after the revocation.
    assert [f["type"] for f in peer.received[count:]] == ["hello"]

    # Errors, translated.
    assert await revoke_refused(hass, linked.entry_id) == "monitoring_not_granted"
    assert await revoke_refused(hass, "nope") == "entry_not_found"


async def test_revoke_service_errors_when_not_linked_or_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert await revoke_refused(hass, init_integration.entry_id) == "not_linked"
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert await revoke_refused(hass, init_integration.entry_id) == "entry_not_loaded"


async def test_revoke_in_options_while_portal_down(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _grant(hass, linked, peer)
    await peer.stop()
    await wait_until(hass, lambda: not manager_of(linked).connected, "the disconnection")
    menu, form, done = await choose_in_options(hass, linked, "revoke_monitoring")
    assert menu["menu_options"] == ["revoke_monitoring", "customer_account", "centre", "unlink"]
    assert form["step_id"] == "revoke_monitoring"
    assert done["type"] == "create_entry"
    assert not monitoring_of(linked).granted
    # An alert while revoked and disconnected: never sent.
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    count = len(peer.received)
    await peer.start()
    await tick(hass, freezer, 2)
    await wait_until(hass, lambda: len(peer.of_type("consent")) == 2, "the revocation")
    assert peer.of_type("consent")[1]["payload"]["monitoring"] == "revoked"
    assert [f["type"] for f in peer.received[count:]] == ["hello", "consent"]


# -- at least once --------------------------------------------------------------------------


async def test_outbox_survives_a_reload(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _grant(hass, linked, peer)
    peer.auto_ack = False
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    await wait_until(hass, lambda: peer.of_type("alert"), "the alert")
    alert = peer.of_type("alert")[0]
    assert [f["id"] for f in manager_of(linked).outbox] == [alert["id"]]

    # Home Assistant restarts (the entry is reloaded) before the portal acknowledged.
    assert await hass.config_entries.async_reload(linked.entry_id)
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel")
    await wait_until(hass, lambda: len(peer.of_type("alert")) == 2, "the alert sent again")
    again = peer.of_type("alert")[1]
    assert again == alert  # same id: the portal records it once
    # Not raised a second time by the reload itself.
    await tick(hass, freezer)
    assert len(peer.of_type("alert")) == 2

    await peer.send(frame("ack", {"id": alert["id"]}))
    await wait_until(hass, lambda: not manager_of(linked).outbox, "the outbox to empty")
    # Acknowledged: not sent after the next reconnection.
    await _cut(hass, linked, peer, freezer)
    await wait_until(hass, lambda: len(peer.of_type("hello")) == 3, "the reconnection")
    await wait_until(hass, lambda: len(peer.of_type("snapshot")) == 3, "the snapshot")
    assert len(peer.of_type("alert")) == 2


async def test_window_expired_while_stopped_is_sent_until_acknowledged(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"config_entry_id": linked.entry_id, "hours": 1, "kinds": ["reboot"]},
        blocking=True,
    )
    await wait_until(hass, lambda: peer.of_type("window"), "the window")
    await wait_until(hass, lambda: not manager_of(linked).outbox, "its acknowledgement")
    granted = peer.of_type("window")[0]

    # Home Assistant is stopped past the window's end; it closes the window when it starts.
    assert await hass.config_entries.async_unload(linked.entry_id)
    freezer.tick(timedelta(hours=2))
    peer.auto_ack = False
    assert await hass.config_entries.async_setup(linked.entry_id)
    await wait_until(hass, lambda: len(peer.of_type("window")) == 2, "the expiry")
    hello, expired = peer.of_type("hello")[-1], peer.of_type("window")[1]
    assert hello["payload"]["window"] is None
    assert peer.received.index(hello) < peer.received.index(expired)
    assert expired["payload"] == {**granted["payload"], "state": "expired"}

    # Not acknowledged: sent again, the same frame, after the next connection.
    await _cut(hass, linked, peer, freezer)
    await wait_until(hass, lambda: len(peer.of_type("window")) == 3, "the expiry again")
    assert peer.of_type("window")[2] == expired
    await peer.send(frame("ack", {"id": expired["id"]}))
    await wait_until(hass, lambda: not manager_of(linked).outbox, "the outbox to empty")
