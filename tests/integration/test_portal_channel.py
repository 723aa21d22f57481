"""The portal channel against a scripted peer: link flow errors, frames, backoff, outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro import portal_client, portal_monitoring
from custom_components.somfy_pro.box_api import Device
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics
from custom_components.somfy_pro.portal_client import CONF_PORTAL
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id

from .common import AWNING, FRONT_DOOR, PIN, SHUTTER, state_of, tick
from .portal_common import (
    answer_monitoring_request,
    linked_entry,
    manager_of,
    monitoring_of,
    wait_until,
)
from .portal_peer import FakePortal, frame

BEDROOM_SHUTTER = f"io://{PIN}/13420512"  # closed in the simulator's home scenario


@pytest.fixture
async def peer() -> AsyncIterator[FakePortal]:
    """The scripted portal."""
    fake = FakePortal()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def linked(
    hass: HomeAssistant, simulator: BoxSimulator, peer: FakePortal
) -> AsyncIterator[MockConfigEntry]:
    """The box, linked to the scripted portal and connected."""
    entry = linked_entry(simulator, peer.url, FakePortal.TOKEN)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def _request_monitoring(
    hass: HomeAssistant, peer: FakePortal, request_id: str = "req-1"
) -> dict[str, Any]:
    request = frame(
        "request_monitoring",
        {
            "request_id": request_id,
            "company": "Acme Installers",
            "installer": {"name": "Ivan Installer"},
            "at": "2026-11-23T10:00:00+00:00",
        },
    )
    await peer.send(request)
    await wait_until(
        hass,
        lambda: any(f["payload"].get("id") == request["id"] for f in peer.of_type("ack")),
        "the ack of the request",
    )
    return request


async def _cut(
    hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    """Cut the connection; move time on so that Home Assistant reconnects."""
    await peer.drop()
    await wait_until(hass, lambda: not manager_of(entry).connected, "the disconnection")
    await tick(hass, freezer, 2)


async def _grant(hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal) -> None:
    await _request_monitoring(hass, peer)
    await answer_monitoring_request(hass, entry, "approve")
    await wait_until(hass, lambda: peer.of_type("snapshot"), "a snapshot")


# -- linking ------------------------------------------------------------------------------


async def test_link_flow(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    peer: FakePortal,
) -> None:
    entry = init_integration
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "off"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] == "form"
    assert result["step_id"] == "link"

    # Not a URL: said under the address.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": "portal.example", "code": "ABCD-EFGH"}
    )
    assert result["errors"] == {"url": "invalid_url"}
    # Wrong code: under the code; rate-limited: under the code too.
    peer.link_status = 400
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "WRONG"}
    )
    assert result["errors"] == {"code": "invalid_code"}
    peer.link_status = 429
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "WRONG"}
    )
    assert result["errors"] == {"code": "rate_limited"}
    # Server error, or nobody listening: the address.
    peer.link_status = 500
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "ABCD"}
    )
    assert result["errors"] == {"url": "cannot_connect"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": "http://127.0.0.1:9", "code": "ABCD"}
    )
    assert result["errors"] == {"url": "cannot_connect"}

    # Recovery: the right code.
    peer.link_status = 200
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url + "/", "code": " ABCD-EFGH "}
    )
    assert result["type"] == "create_entry"
    sent = peer.link_requests[-1]
    assert sent["code"] == "ABCD-EFGH"
    assert sent["pin"] == PIN
    assert sent["instance_id"]
    assert sent["name"] == hass.config.location_name
    link = entry.data[CONF_PORTAL]
    assert link["url"] == peer.url
    assert link["token"] == FakePortal.TOKEN
    assert link["company_name"] == "Acme Installers"

    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    assert state_of(hass, "sensor", f"{PIN}_installer") == "Acme Installers"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "on"
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "off"
    hello = peer.of_type("hello")[0]["payload"]
    assert hello["pin"] == PIN
    assert hello["monitoring"] is False
    assert hello["window"] is None
    # Nothing about the box before monitoring is granted.
    assert not peer.of_type("snapshot")

    # The token never reaches diagnostics.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert FakePortal.TOKEN not in json.dumps(diagnostics)
    assert diagnostics["installer_portal"]["connected"] is True

    # Linked: the options offer to unlink only.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] == "menu"
    assert result["menu_options"] == ["unlink"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "unlink"}
    )
    assert result["step_id"] == "unlink"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    assert peer.unlink_requests == 1
    assert CONF_PORTAL not in entry.data
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "off"
    await wait_until(hass, lambda: peer.ws is None, "the channel to close")


async def test_unlink_while_portal_down(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await peer.stop()
    await wait_until(hass, lambda: not manager_of(linked).connected, "the disconnection")
    result = await hass.config_entries.options.async_init(linked.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "unlink"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    assert CONF_PORTAL not in linked.data
    assert manager_of(linked).link is None


async def test_unlinked_by_the_portal(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    # As the portal does: "unlinked", then it closes the socket.
    await peer.send(frame("unlinked", {}))
    await peer.drop()
    await wait_until(hass, lambda: CONF_PORTAL not in linked.data, "the link to be forgotten")
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert peer.unlink_requests == 0


async def test_token_refused_forgets_the_link(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    peer.valid_tokens.clear()
    await peer.drop()
    await wait_until(hass, lambda: not manager_of(linked).connected, "the disconnection")
    await tick(hass, freezer, 2)
    await wait_until(hass, lambda: CONF_PORTAL not in linked.data, "the link to be forgotten")


async def test_options_abort_when_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"


# -- frames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        (json.dumps({"v": 2, "id": "x", "type": "ack", "payload": {}}), "malformed"),
        (json.dumps({"v": 1, "id": "x", "type": "ack"}), "malformed"),
        (json.dumps(frame("teleport", {})), "unknown_type"),
        (json.dumps(frame("ack", {"id": 5})), "invalid_payload"),
        (json.dumps(frame("request_monitoring", {"company": "x"})), "invalid_payload"),
        (json.dumps(frame("welcome", {"pending": "x"})), "invalid_payload"),
        (json.dumps(frame("ack", {"id": "x", "pad": "a" * 70_000})), "too_large"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "wrong-version",
        "no-payload",
        "unknown-type",
        "ack-without-uuid",
        "request-without-id",
        "welcome-pending-not-a-list",
        "oversized",
    ],
)
async def test_bad_frames_answered_with_error(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, text: str, code: str
) -> None:
    await peer.send(text)
    await wait_until(hass, lambda: peer.of_type("error"), "an error frame")
    error = peer.of_type("error")[0]["payload"]
    assert error["code"] == code
    assert error["message"]
    # The connection stays up and keeps working.
    assert manager_of(linked).connected
    assert peer.connections == 1
    await _request_monitoring(hass, peer)


async def test_binary_message_answered_with_error(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    assert peer.ws is not None
    await peer.ws.send_bytes(b"\x00\x01")
    await wait_until(hass, lambda: peer.of_type("error"), "an error frame")
    assert peer.of_type("error")[0]["payload"]["code"] == "malformed"
    assert peer.connections == 1


async def test_replayed_request_acked_and_handled_once(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    request = await _request_monitoring(hass, peer)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, monitoring_issue_id(linked.entry_id))
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["company"] == "Acme Installers"
    assert issue.translation_placeholders["installer"] == "Ivan Installer"
    await answer_monitoring_request(hass, linked, "decline")
    await peer.send(request)  # the same id again
    await wait_until(hass, lambda: len(peer.of_type("ack")) == 2, "the second ack")
    # Handled once: no new issue.
    assert ir.async_get(hass).async_get_issue(DOMAIN, monitoring_issue_id(linked.entry_id)) is None


# -- reconnecting -------------------------------------------------------------------------


def test_backoff_delays() -> None:
    with patch(
        "custom_components.somfy_pro.portal_client.random.uniform", side_effect=lambda a, b: b
    ):
        assert [portal_client.backoff_delay(n) for n in range(11)] == [
            1,
            2,
            4,
            8,
            16,
            32,
            64,
            128,
            256,
            300,
            300,
        ]
    with patch(
        "custom_components.somfy_pro.portal_client.random.uniform", side_effect=lambda a, b: a
    ):
        assert portal_client.backoff_delay(3) == 4  # half of 8: the jitter's low end


async def test_reconnect_with_backoff(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    manager = manager_of(linked)
    connected_since = manager.since
    await peer.stop()
    await wait_until(hass, lambda: not manager.connected, "the disconnection")
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "off"
    assert manager.since != connected_since
    # Each failed attempt doubles the wait (time travel: the waits are HA timers).
    for expected in range(1, 5):
        await tick(hass, freezer, 300)
        await wait_until(hass, lambda n=expected: manager.attempt == n + 1, f"attempt {expected}")
    await peer.start()
    await tick(hass, freezer, 300)
    await wait_until(hass, lambda: manager.connected, "the reconnection")
    assert peer.connections == 2
    assert manager.attempt == 0
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "on"


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
    assert peer.of_type("device_update")[1]["payload"] == {
        "url": SHUTTER,
        "changes": {"position": 40},
    }
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
    await hass.services.async_call(
        DOMAIN, "revoke_monitoring", {"config_entry_id": linked.entry_id}, blocking=True
    )
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
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_monitoring", {"config_entry_id": linked.entry_id}, blocking=True
        )
    assert err.value.translation_key == "monitoring_not_granted"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_monitoring", {"config_entry_id": "nope"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"


async def test_revoke_service_errors_when_not_linked_or_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "revoke_monitoring",
            {"config_entry_id": init_integration.entry_id},
            blocking=True,
        )
    assert err.value.translation_key == "not_linked"
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "revoke_monitoring",
            {"config_entry_id": init_integration.entry_id},
            blocking=True,
        )
    assert err.value.translation_key == "entry_not_loaded"


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
    result = await hass.config_entries.options.async_init(linked.entry_id)
    assert result["menu_options"] == ["revoke_monitoring", "unlink"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "revoke_monitoring"}
    )
    assert result["step_id"] == "revoke_monitoring"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
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
