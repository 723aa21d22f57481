"""Professional monitoring on the channel: alarms only when complete, cases, the owner's word."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from box_simulator.scenario import DeviceSpec
from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics

from .centre_common import DURESS_PASSWORD, FIRST_PASSWORD, centre_step, subscribe_complete
from .common import FRONT_DOOR, PIN, state_of, tick
from .portal_channel_common import linked, peer
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]


@pytest.fixture(autouse=True)
def in_france(hass: HomeAssistant) -> None:
    """Numbers without a country code are French."""
    hass.config.country = "FR"


def _case(seq: int, **changes: Any) -> dict[str, Any]:
    return {
        "case_id": 5,
        "seq": seq,
        "kind": "intrusion",
        "status": "open",
        "phase": "calling",
        "round": 1,
        "reached": None,
        "guard": "none",
        "outcome": None,
        "last_action": "new_alert",
        "actor": "home_assistant",
        "at": "2026-11-28T10:00:00+00:00",
        "deadline": None,
        **changes,
    }


async def _cancel(hass: HomeAssistant, entry: MockConfigEntry, password: str) -> None:
    await hass.services.async_call(
        DOMAIN,
        "cancel_alarm",
        {"config_entry_id": entry.entry_id, "password": password},
        blocking=True,
    )


async def test_alarms_only_once_complete(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    await centre_step(hass, linked, "centre_subscribe", {})
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", False)
    await tick(hass, freezer)
    assert not peer.of_type("centre_alarm")  # incomplete: nothing reaches the centre (M8)

    await subscribe_complete(hass, linked, hass_admin_user.id)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    await wait_until(hass, lambda: peer.of_type("centre_alarm"), "the alarm")
    raised = peer.of_type("centre_alarm")[0]["payload"]
    assert raised["kind"] == "intrusion" and raised["active"] is True
    assert raised["device_url"] == FRONT_DOOR
    simulator.box.set_alert(FRONT_DOOR, "intrusion", False)
    await tick(hass, freezer)
    await wait_until(hass, lambda: len(peer.of_type("centre_alarm")) == 2, "the restore")
    restored = peer.of_type("centre_alarm")[1]["payload"]
    assert restored["active"] is False and restored["alarm_id"] == raised["alarm_id"]


async def test_cases_entities_and_events(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    events: list[Event] = []
    hass.bus.async_listen("somfy_pro_monitoring", events.append)
    assert state_of(hass, "sensor", f"{PIN}_monitoring_case") == "none"
    await peer.send(frame("centre_case", _case(0)))
    await wait_until(hass, lambda: len(events) == 1, "the event")
    assert events[0].data == {
        "entry_id": linked.entry_id,
        "case_id": 5,
        "kind": "intrusion",
        "phase": "calling",
        "last_action": "new_alert",
        "guard": "none",
        "outcome": None,
        "at": "2026-11-28T10:00:00+00:00",
    }
    step = _case(3, phase="guard_dispatched", reached="first", guard="dispatched", actor="operator")
    await peer.send(frame("centre_case", step))
    await wait_until(hass, lambda: len(events) == 2, "the second event")
    assert state_of(hass, "sensor", f"{PIN}_monitoring_case") == "guard_dispatched"
    assert state_of(hass, "sensor", f"{PIN}_monitoring_reached") == "first"
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring_guard_dispatched") == "on"
    # An older step, or the same again: acknowledged, ignored.
    acks = len(peer.of_type("ack"))
    await peer.send(frame("centre_case", _case(2, phase="waiting")))
    await peer.send(frame("centre_case", step))
    await wait_until(hass, lambda: len(peer.of_type("ack")) == acks + 2, "both acks")
    assert len(events) == 2
    assert state_of(hass, "sensor", f"{PIN}_monitoring_case") == "guard_dispatched"
    # Survives a reload.
    assert await hass.config_entries.async_reload(linked.entry_id)
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel")
    assert state_of(hass, "sensor", f"{PIN}_monitoring_case") == "guard_dispatched"
    # A bad frame is refused and changes nothing.
    await peer.send(frame("centre_case", _case(9, phase="dancing")))
    await wait_until(hass, lambda: peer.of_type("error"), "the error")
    assert len(events) == 2


async def test_cancel_duress_refused_and_rate_limit(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _cancel(hass, linked, FIRST_PASSWORD)
    assert err.value.translation_key == "centre_not_configured"
    await subscribe_complete(hass, linked, hass_admin_user.id)
    await peer.send(frame("centre_case", _case(0)))
    await wait_until(hass, lambda: state_of(hass, "sensor", f"{PIN}_monitoring_case") == "calling")

    await _cancel(hass, linked, FIRST_PASSWORD)
    await _cancel(hass, linked, DURESS_PASSWORD)  # answered exactly like a cancel
    with pytest.raises(ServiceValidationError) as err:
        await _cancel(hass, linked, "wrong")
    assert err.value.translation_key == "cancel_wrong_password"
    await wait_until(hass, lambda: len(peer.of_type("centre_owner")) == 3, "the three words")
    words = [f["payload"] for f in peer.of_type("centre_owner")]
    assert [w["action"] for w in words] == ["owner_cancel", "owner_duress", "owner_cancel_refused"]
    assert {w["case_id"] for w in words} == {5}

    # The closed case the portal sends after a duress reads as a cancel.
    closed = _case(
        1, status="closed", phase="closed", outcome="owner_cancelled", last_action="owner_cancel"
    )
    await peer.send(frame("centre_case", closed))
    await wait_until(hass, lambda: state_of(hass, "sensor", f"{PIN}_monitoring_case") == "closed")

    # Five wrong passwords in ten minutes: then even the right one is not checked.
    for _ in range(4):
        with pytest.raises(ServiceValidationError):
            await _cancel(hass, linked, "wrong")
    with pytest.raises(ServiceValidationError) as err:
        await _cancel(hass, linked, FIRST_PASSWORD)
    assert err.value.translation_key == "cancel_rate_limited"
    await tick(hass, freezer, 601)
    await _cancel(hass, linked, FIRST_PASSWORD)
    await wait_until(hass, lambda: len(peer.of_type("centre_owner")) == 8, "the cancel")
    assert peer.of_type("centre_owner")[-1]["payload"]["case_id"] is None  # none open


async def test_subscription_kept_until_acknowledged_across_a_reload(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, hass_admin_user: MockUser
) -> None:
    peer.auto_ack = False
    await subscribe_complete(hass, linked, hass_admin_user.id)
    outbox = manager_of(linked).outbox
    assert [f["type"] for f in outbox] == ["centre_subscription"]  # only the newest
    kept = outbox[0]
    assert await hass.config_entries.async_reload(linked.entry_id)
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel")
    # After the welcome, the whole state again (the newest only).
    await wait_until(
        hass, lambda: peer.of_type("centre_subscription")[-1]["id"] != kept["id"], "resend"
    )
    assert peer.of_type("centre_subscription")[-1]["payload"] == kept["payload"]
    assert [f["type"] for f in manager_of(linked).outbox] == ["centre_subscription"]


async def test_diagnostics_say_the_state_not_who_or_where(
    hass: HomeAssistant, linked: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    await subscribe_complete(hass, linked, hass_admin_user.id)
    diagnostics = await async_get_config_entry_diagnostics(hass, linked)
    text = str(diagnostics)
    for secret in ("+33612345678", "Paix", "75002", "Paris", "$scrypt$", hass_admin_user.name):
        assert secret not in text
    assert diagnostics["monitoring_centre"]["state"] == "complete"


async def test_panic_button_is_an_aggression_alarm(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    await subscribe_complete(hass, linked, hass_admin_user.id)
    box = simulator.box
    remote = box.pair(DeviceSpec(box.profiles["rtds_alarm_remote"], "40000001", "Alarm remote"))
    await tick(hass, freezer)
    await tick(hass, freezer)
    alerts: list[Event] = []
    hass.bus.async_listen("somfy_pro_alert", alerts.append)
    box.set_alert(remote.url, "aggression", True)
    await tick(hass, freezer)
    await wait_until(hass, lambda: peer.of_type("centre_alarm"), "the alarm")
    alarm = peer.of_type("centre_alarm")[0]["payload"]
    assert (alarm["kind"], alarm["device_url"], alarm["device_label"]) == (
        "aggression",
        remote.url,
        "Alarm remote",
    )
    assert [e.data["alert"] for e in alerts] == ["aggression"]
    assert state_of(hass, "binary_sensor", f"{remote.url}_panic") == "on"
