"""The portal channel against a scripted peer: bad and replayed frames, reconnection backoff."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro import portal_client
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_delivery import ACK_RETRIES
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id

from .common import PIN, state_of, tick
from .portal_channel_common import _request_monitoring, linked, peer
from .portal_common import answer_monitoring_request, manager_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]


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


async def test_an_ack_the_portal_failed_to_record_goes_again_a_few_times(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    request = await _request_monitoring(hass, peer)

    def acks() -> list[dict[str, Any]]:
        return [f for f in peer.of_type("ack") if f["payload"]["id"] == request["id"]]

    # Another error than a failure to handle it (the ack is wrong): not sent again.
    await peer.send(
        frame("error", {"code": "invalid_payload", "message": "x", "ref": acks()[0]["id"]})
    )
    await peer.send(frame("error", {"code": "internal_error", "message": "x", "ref": "unknown"}))
    await peer.send(request)  # sent again: acknowledged again
    await wait_until(hass, lambda: len(acks()) == 2, "the ack of the replayed request")
    # The portal's database busy: the same frame acknowledged anew, each time, up to the limit.
    for count in range(3, ACK_RETRIES + 3):
        busy = {"code": "internal_error", "message": "busy", "ref": acks()[-1]["id"]}
        await peer.send(frame("error", busy))
        await wait_until(hass, lambda n=count: len(acks()) == n, f"ack number {count}")
    assert len({f["id"] for f in acks()}) == len(acks())  # each a frame of its own
    await peer.send(
        frame("error", {"code": "internal_error", "message": "busy", "ref": acks()[-1]["id"]})
    )
    await peer.send(frame("ping_check", {}))  # answered, so the error before it was read
    await wait_until(hass, lambda: peer.of_type("error"), "the answer to the unknown frame")
    assert len(acks()) == ACK_RETRIES + 2


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
