"""The monitoring centre end to end, every piece real: the box simulator, Home Assistant with
the integration, the portal and its console in Chromium.

An intrusion raised at the box becomes a case in the operator's queue (no reload); the
operator walks it through no answer and a message, the 10-minute wait (the portal's clock
moved, the portal's own timer starts the second round), nobody again, a guard dispatched and
the guard's report; HA's case entities and ``somfy_pro_monitoring`` events follow every step.
A fire the same, where a wrong identification in the second round never asks to repeat and
confirm. The homeowner's ``cancel_alarm`` with the right password closes a case; the duress
password looks exactly like a cancel in HA and is a confirmed alarm in the console.
"""

from __future__ import annotations

from playwright.async_api import expect

from box_simulator.server import BoxSimulator
from tests.integration.centre_common import DURESS_PASSWORD, FIRST_PASSWORD
from tests.integration.common import FRONT_DOOR, MOTION, PIN, SMOKE, state_of
from tests.integration.portal_common import wait_until

from .centre_world import LIVE, Centre, centre, centre_portal, in_france, shifted_clock
from .conftest import browser

__all__ = ["browser", "centre", "centre_portal", "in_france", "shifted_clock"]

ROUND_2 = "round 2"


async def _nobody_answers_then_the_wait_ends(centre: Centre) -> None:
    """Round 1 (one contact): no answer, a message; the wait; the clock moves past it."""
    await centre.step("No answer")
    await centre.ha_phase("leaving_message")
    await centre.step("Message left")
    await centre.portal_phase("Waiting for a call back")
    await expect(centre.page.locator(".countdown")).to_be_visible()
    await centre.ha_phase("waiting")
    assert centre.case_attributes()["deadline"] is not None
    await centre.page.evaluate("window.__noReload = true")
    centre.clock.advance(minutes=10, seconds=1)
    await centre.portal_phase(ROUND_2)  # the portal's own timer, the page follows live
    await expect(centre.page.get_by_text("Second round of calls")).to_be_visible()
    assert await centre.page.evaluate("window.__noReload") is True
    await wait_until(
        centre.hass, lambda: centre.case_attributes()["round"] == 2, "HA's second round"
    )


async def _guard_checks(centre: Centre, report: str) -> None:
    await centre.portal_phase("Send a guard")
    await centre.ha_phase("guard_required")
    assert state_of(centre.hass, "binary_sensor", f"{PIN}_monitoring_guard_dispatched") == "off"
    await centre.step("Guard dispatched")
    await centre.portal_phase("Guard on the way")
    await centre.ha_phase("guard_dispatched")
    assert state_of(centre.hass, "binary_sensor", f"{PIN}_monitoring_guard_dispatched") == "on"
    await centre.page.get_by_label("Note (optional").fill(report)
    await centre.step("The guard has finished: close the case")
    await expect(centre.page.locator("#case-outcome")).to_have_text("Checked by a guard")
    await centre.ha_phase("closed")
    assert centre.case_attributes()["outcome"] == "guard_checked"


async def test_intrusion_nobody_answers_a_guard_checks(
    centre: Centre, simulator: BoxSimulator
) -> None:
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await centre.open_case_from_queue("Intrusion")
    await centre.ha_phase("calling")
    await expect(centre.page.get_by_text("Front door")).to_be_visible()  # the alert history

    await _nobody_answers_then_the_wait_ends(centre)
    await centre.step("No answer")
    await centre.step("Message left")
    await _guard_checks(centre, "Back door forced; the police are on site.")
    await expect(centre.page.get_by_text("the police are on site")).to_be_visible()

    assert centre.steps() == [
        ("new_alert", "calling", "none"),  # the case opened
        ("no_answer", "leaving_message", "none"),
        ("message_left", "waiting", "none"),
        ("second_round", "calling", "none"),
        ("no_answer", "leaving_message", "none"),
        ("message_left", "guard_required", "required"),
        ("dispatch_guard", "guard_dispatched", "dispatched"),
        ("guard_finished", "closed", "finished"),
    ]
    assert [e.data["case_id"] for e in centre.events] == [centre.events[0].data["case_id"]] * 8
    await centre.to_queue()
    await expect(centre.page.get_by_text("No open case.")).to_be_visible()


async def test_fire_never_asks_to_repeat_and_confirm(
    centre: Centre, simulator: BoxSimulator
) -> None:
    simulator.box.set_alert(SMOKE, "smoke", True)
    await centre.open_case_from_queue("Fire")
    await centre.ha_phase("calling")
    assert centre.case_attributes()["kind"] == "fire"

    await _nobody_answers_then_the_wait_ends(centre)
    # Round 2: the contact answers but gives no password. An intrusion would now ask whether
    # the situation seems normal; a fire goes on to the next contact, here to the guard.
    await centre.page.get_by_role("button", name="No password given").click()
    normal = centre.page.get_by_role("button", name="The situation seems normal")
    await expect(normal).to_have_count(0)
    await _guard_checks(centre, "Smoke from a pan; the fire brigade aired the kitchen.")

    phases = [phase for _action, phase, _guard in centre.steps()]
    assert "assessing" not in phases and "confirming" not in phases
    assert centre.steps()[-4:-2] == [
        ("second_round", "calling", "none"),
        ("wrong_identification", "guard_required", "required"),
    ]


async def test_the_homeowner_cancels_from_home_assistant(
    centre: Centre, simulator: BoxSimulator
) -> None:
    simulator.box.set_alert(MOTION, "intrusion", True)
    await centre.open_case_from_queue("Intrusion")
    await centre.ha_phase("calling")

    await centre.cancel_alarm(FIRST_PASSWORD)
    await expect(centre.page.locator("#case-outcome")).to_have_text(
        "Cancelled by the owner", timeout=LIVE
    )
    step = centre.page.get_by_text("Cancelled by the owner in Home Assistant")
    await expect(step).to_be_visible()
    await centre.ha_phase("closed")
    assert centre.case_attributes()["outcome"] == "owner_cancelled"
    assert centre.steps()[-1] == ("owner_cancel", "closed", "none")
    await centre.to_queue()
    await expect(centre.page.get_by_text("No open case.")).to_be_visible()


async def test_duress_looks_like_a_cancel_and_confirms_the_alarm(
    centre: Centre, simulator: BoxSimulator
) -> None:
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await centre.open_case_from_queue("Intrusion")
    await centre.ha_phase("calling")

    await centre.cancel_alarm(DURESS_PASSWORD)  # answered like a cancel: no error
    await centre.ha_phase("closed")
    assert centre.case_attributes()["outcome"] == "owner_cancelled"
    assert centre.steps()[-1] == ("owner_cancel", "closed", "none")
    assert state_of(centre.hass, "binary_sensor", f"{PIN}_monitoring_guard_dispatched") == "off"

    # At the centre: a confirmed alarm under duress, a guard to send.
    await centre.portal_phase("Send a guard")
    await expect(centre.page.get_by_text("The owner entered the duress password")).to_be_visible()
    step = centre.page.get_by_text("DURESS password entered in Home Assistant")
    await expect(step).to_be_visible()
    await centre.step("Guard dispatched")
    await centre.portal_phase("Guard on the way")
    await centre.page.get_by_label("Note (optional").fill("The police took over.")
    await centre.step("The guard has finished: close the case")
    await expect(centre.page.locator("#case-outcome")).to_have_text("Checked by a guard")
    # Every frame of the portal reached HA, and HA heard nothing more of that case: it
    # still reads as the owner's cancel.
    await centre.frames_acknowledged()
    assert centre.steps()[-1] == ("owner_cancel", "closed", "none")
    assert centre.case_sensor() == "closed"
