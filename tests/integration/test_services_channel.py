"""The support plan and services sensors, with a scripted portal: order, restarts, unlink, bad
frames."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics

from .common import PIN, entity_id
from .portal_channel_common import linked, peer, send_acked
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]

SMART = {
    "code": "plan_smart",
    "state": "active",
    "period_end": "2026-12-28",
    "ends_on": None,
    "monthly_price_cents": 1900,
    "discount_basis_points": 1000,
    "priority": 1,
}
BASIC = {
    **SMART,
    "code": "plan_basic",
    "period_end": None,
    "monthly_price_cents": 0,
    "discount_basis_points": 0,
    "priority": 0,
}
MONITORING = {
    "code": "monitoring",
    "state": "active",
    "started_on": "2026-11-28",
    "period_end": "2026-12-28",
    "ends_on": None,
    "quantity": 1,
    "monthly_price_cents": 2499,
}
RECORDING = {
    **MONITORING,
    "code": "recording_7d",
    "state": "ending",
    "ends_on": "2026-12-28",
    "quantity": 2,
    "monthly_price_cents": 998,
}


def services(at: str, plan: dict[str, Any], *items: dict[str, Any]) -> dict[str, Any]:
    return frame("services", {"at": at, "plan": plan, "services": list(items)})


def _plan(hass: HomeAssistant) -> Any:
    return hass.states.get(entity_id(hass, "sensor", f"{PIN}_support_plan"))


def _services(hass: HomeAssistant) -> Any:
    return hass.states.get(entity_id(hass, "sensor", f"{PIN}_active_services"))


async def test_newest_state_wins_and_survives_a_restart(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    assert _plan(hass).state == "unknown"
    assert _services(hass).state == "unknown"
    await send_acked(
        hass, peer, services("2026-11-28T08:00:00+00:00", SMART, MONITORING, RECORDING)
    )
    plan = _plan(hass)
    assert plan.state == "smart"
    assert plan.attributes["options"] == ["basic", "smart", "premium"]
    assert plan.attributes["discount"] == 10.0
    assert plan.attributes["priority"] == 1
    assert plan.attributes["period_end"] == "2026-12-28"
    assert plan.attributes["monthly_price"] == 19.0
    listed = _services(hass)
    assert listed.state == "2"
    assert listed.attributes["monthly_price"] == 34.97
    assert listed.attributes["services"] == [
        {
            "service": "monitoring",
            "name": "Professional monitoring",
            "state": "active",
            "ends_on": None,
            "period_end": "2026-12-28",
            "quantity": 1,
            "monthly_price": 24.99,
        },
        {
            "service": "recording_7d",
            "name": "Continuous recording, 7 days",
            "state": "ending",
            "ends_on": "2026-12-28",
            "period_end": "2026-12-28",
            "quantity": 2,
            "monthly_price": 9.98,
        },
    ]
    # An older state resent late changes nothing.
    await send_acked(hass, peer, services("2026-11-28T07:00:00+00:00", BASIC))
    assert _plan(hass).state == "smart"
    # Kept across a restart of the entry.
    assert await hass.config_entries.async_reload(linked.entry_id)
    await hass.async_block_till_done()
    assert _plan(hass).state == "smart"
    assert _services(hass).state == "2"
    # A newer state replaces it: the plan ended, monitoring stopped.
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel again")
    await send_acked(hass, peer, services("2026-11-28T09:00:00+00:00", BASIC, RECORDING))
    assert _plan(hass).state == "basic"
    assert _plan(hass).attributes["discount"] == 0.0
    assert [s["service"] for s in _services(hass).attributes["services"]] == ["recording_7d"]


async def test_a_service_home_assistant_does_not_know_keeps_its_code(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    unknown_plan = {**SMART, "code": "plan_gold"}
    await send_acked(
        hass,
        peer,
        services("2026-11-28T08:00:00+00:00", unknown_plan, {**MONITORING, "code": "drone"}),
    )
    assert _plan(hass).state == "unknown"  # not one of its states: no made-up name
    assert _plan(hass).attributes["discount"] == 10.0
    (listed,) = _services(hass).attributes["services"]
    assert listed["name"] == "drone"


async def test_unlinking_forgets_the_services(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await send_acked(hass, peer, services("2026-11-28T08:00:00+00:00", SMART, MONITORING))
    assert _services(hass).state == "1"
    await manager_of(linked).async_unlink()
    await hass.async_block_till_done()
    assert _plan(hass).state == "unknown"
    assert _services(hass).state == "unknown"


@pytest.mark.parametrize(
    "payload",
    [
        {
            "at": "2026-11-28T09:00:00+00:00",
            "plan": SMART,
            "services": [{**MONITORING, "state": "ended"}],
        },
        {"at": "2026-11-28T09:00:00+00:00", "plan": {**SMART, "priority": 10}, "services": []},
        {"at": "2026-11-28T09:00:00+00:00", "services": []},
        {
            "at": "2026-11-28T09:00:00+00:00",
            "plan": SMART,
            "services": [{**MONITORING, "monthly_price_cents": "24.99"}],
        },
    ],
    ids=["state", "priority", "no-plan", "price-text"],
)
async def test_bad_services_frames_are_refused_logged_and_change_nothing(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    payload: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await send_acked(hass, peer, services("2026-11-28T08:00:00+00:00", SMART, MONITORING))
    await peer.send(frame("services", payload))
    await wait_until(hass, lambda: len(peer.of_type("error")) == 1, "the error frame")
    (error,) = peer.of_type("error")
    assert error["payload"]["code"] == "invalid_payload"
    assert "invalid services payload" in caplog.text
    assert _plan(hass).state == "smart"
    assert [s["service"] for s in _services(hass).attributes["services"]] == ["monitoring"]


async def test_diagnostics_name_the_services_not_their_prices(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await send_acked(
        hass, peer, services("2026-11-28T08:00:00+00:00", SMART, MONITORING, RECORDING)
    )
    diagnostics = await async_get_config_entry_diagnostics(hass, linked)
    assert diagnostics["services"] == {
        "at": "2026-11-28T08:00:00+00:00",
        "plan": "plan_smart",
        "services": [
            {"code": "monitoring", "state": "active"},
            {"code": "recording_7d", "state": "ending"},
        ],
    }
