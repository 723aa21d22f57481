"""Remote service end to end, every piece real: the installer in Chromium, the homeowner in HA.

The installer requests remote service in the portal -> the homeowner approves it in HA's
repair flow (duration and kinds) -> the banner counts down -> the pencil changes the "my"
position of an io shutter and the box has it -> the box reboots (offline, then back, in the
portal and in HA) -> a remote scanned by the installer's reader (typed into the field) is
paired to two shutters on the box -> the customer's web app shows live states and closes a
shutter on the box -> the installer ends with a comment: the customer is e-mailed the actions,
HA shows a notification, fires ``somfy_pro_intervention_ended`` and keeps them in its audit log.

Refusals, in the same real setup: a window granted with the HA action for only some kinds;
action frames the portal itself would never send (a kind not granted, an RTS parameter, an
out-of-range value, another box) are refused by HA and the portal shows each refusal; the
homeowner revokes mid-session: the controls go away live and a later action is refused; the
audit chain, edited or cut in HA's storage, no longer verifies.

Expiry is not here: a window lasts at least a quarter of an hour and the simulator and the
sockets run on real time (no frozen clock); ``tests/integration/test_remote_service_expiry.py``
moves HA's clock past the end of a window (``test_expiry_on_home_assistants_clock``).

Over 400 lines in one file: one story across the real pieces, which share expensive fixtures.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
import uuid

from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from playwright.async_api import Page, expect
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from sqlalchemy import select

from box_simulator.paired import CONTROLLERS_STATE
from box_simulator.server import BoxSimulator
from companion_server.hub import protocol
from companion_server.models import Installation, PortalFrame, RemoteAction, RemoteWindow
from custom_components.somfy_pro.audit import storage_key as audit_storage_key
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import request_issue_id
from custom_components.somfy_pro.intervention_summary import EVENT_INTERVENTION_ENDED
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id
from tests.e2e.conftest_portal import Mailbox
from tests.integration.common import (
    AWNING,
    KITCHEN_SHUTTER,
    PIN,
    SHUTTER,
    entity_id,
    state_of,
)
from tests.integration.portal_common import answer_monitoring_request, manager_of, wait_until
from tests.portal_app import Portal

from .conftest import COMPANY, CUSTOMER
from .test_monitoring_e2e import register_and_link, tab

LIVE_TIMEOUT = 20_000  # ms: the box is polled every second, the page updates on push
MY_POSITION = "core:Memorized1PositionState"
ALL_KINDS = ["parameters", "reboot", "pair_remote", "web_app"]
SENT = "The action is sent to the customer's Home Assistant."
OTHER_PIN = "2222-3333-4444"


async def send_my_position(
    hass: HomeAssistant, page: Page, simulator: BoxSimulator, value: int
) -> None:
    """The pencil of the living-room shutter's "my" position: the box gets ``value``."""
    pencil = page.locator(f'tr[data-device="{SHUTTER}"] details[data-parameter="my_position"]')
    await pencil.locator("summary").click()
    await pencil.locator('input[name="value"]').fill(str(value))
    await pencil.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_have_text(SENT)
    await wait_until(
        hass,
        lambda: simulator.box.device(SHUTTER).state(MY_POSITION) == value,
        "the position on the box",
    )


async def serv_e_go(
    hass: HomeAssistant, entry: MockConfigEntry, page: Page, portal: Portal, mailbox: Mailbox
) -> None:
    """Link the installer, activate Serv-e-go and approve it in HA: the Devices tab opens."""
    await register_and_link(hass, entry, page, portal, mailbox)
    await page.get_by_role("link", name="Installations").first.click()
    await page.get_by_role("link", name="Maison Dupont").click()
    await expect(page.locator('[data-connected="yes"]')).to_be_visible()
    await page.get_by_role("button", name="Activate Serv-e-go for this user").first.click()
    issue_id = monitoring_issue_id(entry.entry_id)
    await wait_until(
        hass, lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id), "the repair issue"
    )
    await tab(page, "Devices")
    await expect(page.get_by_role("heading", name="Tab locked")).to_be_visible()
    await answer_monitoring_request(hass, entry, "approve")
    await expect(page.locator(f'tr[data-device="{SHUTTER}"]')).to_contain_text(
        "Living room shutter", timeout=LIVE_TIMEOUT
    )
    # The remote-service banner unlocked live with the tab: its request form is there.
    await expect(page.locator("#live-remote form.remote-request")).to_have_count(1)


async def approve_request(
    hass: HomeAssistant, entry: MockConfigEntry, hours: float, kinds: list[str]
) -> None:
    """The homeowner opens the remote-service request's repair flow and approves it."""
    issue_id = request_issue_id(entry.entry_id)
    registry = ir.async_get(hass)
    await wait_until(hass, lambda: registry.async_get_issue(DOMAIN, issue_id), "the request")
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["company"] == COMPANY
    assert issue.translation_placeholders["installer"] == "Léa"
    assert issue.translation_placeholders["hours"] == "8"  # as requested in the portal
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["approve", "decline"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "approve"})
    assert result["type"] == "form"
    assert result["step_id"] == "approve"
    result = await manager.async_configure(result["flow_id"], {"hours": hours, "kinds": kinds})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def audit_log(hass: HomeAssistant) -> dict[str, Any]:
    """HA's audit log as the homeowner reads it (the ``get_audit_log`` action)."""
    response = await hass.services.async_call(
        DOMAIN, "get_audit_log", {}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


def audited(entry: MockConfigEntry, action_id: str) -> dict[str, Any] | None:
    """The audit record of an action, once HA has handled it."""
    records: list[dict[str, Any]] = entry.runtime_data.remote_service.audit.records
    return next((r for r in records if r.get("action_id") == action_id), None)


def notifications(hass: HomeAssistant) -> list[str]:
    """The messages of HA's persistent notifications."""
    return [n["message"] for n in _async_get_or_create_notifications(hass).values()]


async def forge_action(portal: Portal, payload: dict[str, Any]) -> str:
    """An ``action`` frame queued in the portal past its own checks (a portal gone wrong).

    The portal never offers a kind the window does not grant, an RTS parameter, a value out
    of range or a product of another box, and checks the window itself: these frames only
    reach Home Assistant from a compromised or faulty portal. Recorded like the portal's own
    actions, so that their results show on the intervention's summary.
    """
    action_id = str(uuid.uuid4())
    body = {"action_id": action_id, **payload}
    core = portal.core
    async with core.tx() as db:
        installation = await db.scalar(select(Installation).where(Installation.box_pin == PIN))
        assert installation is not None
        installation_id = installation.id
        window = await db.scalar(
            select(RemoteWindow)
            .where(RemoteWindow.installation_id == installation_id)
            .order_by(RemoteWindow.id.desc())
            .limit(1)
        )
        assert window is not None
        db.add(
            RemoteAction(
                installation_id=installation_id,
                window_id=window.id,
                action_id=action_id,
                kind=payload["kind"],
                payload=json.dumps(body),
                summary=f"forged: {payload}",
                actor_name="forged",
                created_at=core.now(),
            )
        )
        db.add(
            PortalFrame(
                installation_id=installation_id,
                frame_id=protocol.new_frame_id(),
                type="action",
                payload=json.dumps(body),
                created_at=core.now(),
            )
        )
    assert core.hub is not None
    await core.hub.frames_pending(installation_id)
    return action_id


async def test_remote_intervention_request_approve_act_end(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    portal: Portal,
    mailbox: Mailbox,
    installer: Page,
) -> None:
    entry, page, box = init_integration, installer, simulator.box
    ended: list[Event] = async_capture_events(hass, EVENT_INTERVENTION_ENDED)
    await serv_e_go(hass, entry, page, portal, mailbox)

    # P13: the installer requests remote service; the customer is e-mailed, HA asks.
    banner = page.locator("#live-remote")
    for checkbox in await banner.get_by_role("checkbox").all():
        await checkbox.check()
    await banner.get_by_label("Duration").select_option("8")
    await banner.get_by_role("button", name="Request remote service").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Remote service is requested: the customer has been asked to validate."
    )
    await expect(banner).to_have_attribute("data-remote", "requested")
    await mailbox.arrival(CUSTOMER, lambda m: "remote service" in str(m["Subject"]))

    # P14: approved in HA's repair flow for 2 hours: the banner opens live and counts down.
    await tab(page, "Devices")
    await page.evaluate("window.__noReload = true")
    await approve_request(hass, entry, 2, ALL_KINDS)
    assert state_of(hass, "binary_sensor", f"{PIN}_remote_service") == "on"
    countdown = page.locator("#live-remote .countdown")
    await expect(countdown).to_have_text(re.compile(r"^1:59:\d\d$"), timeout=LIVE_TIMEOUT)
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first or "", timeout=5000)
    for kind in ALL_KINDS:
        await expect(banner.locator(f'[data-kind="{kind}"]')).to_have_count(1)
    assert await page.evaluate("window.__noReload") is True

    # P15: the pencil of an io shutter's "my" position; the RTS awning is read-only. The
    # installer sends from a second tab: this one, left on the Devices tab, shows it live.
    await expect(page.locator(f'tr[data-device="{AWNING}"]')).to_contain_text(
        "RTS product: one-way radio"
    )
    summary = page.locator(
        f'tr[data-device="{SHUTTER}"] details[data-parameter="my_position"] summary'
    )
    await expect(summary).to_contain_text("50")
    assert box.device(SHUTTER).state(MY_POSITION) == 50
    other = await page.context.new_page()
    errors: list[str] = []
    other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await other.goto(page.url)
    await send_my_position(hass, other, simulator, 30)
    await expect(summary).to_contain_text("30", timeout=LIVE_TIMEOUT)
    assert await page.evaluate("window.__noReload") is True

    # P16: reboot from the other tab; the box goes away and comes back, in HA and live on
    # the Installation tab.
    simulator.reboot_seconds = 4
    box_online = entity_id(hass, "binary_sensor", f"{PIN}_online")
    changes: list[Event] = async_capture_events(hass, "state_changed")
    await tab(page, "Installation")
    online = page.locator('[data-box="online"]')
    await expect(online).to_contain_text("Online")
    await other.get_by_role("button", name="Reboot the box").click()
    await expect(other.get_by_role("status")).to_have_text(SENT)
    await other.close()
    assert errors == []
    await expect(online).to_contain_text("Offline", timeout=LIVE_TIMEOUT)
    await expect(online).to_contain_text("Online", timeout=LIVE_TIMEOUT)
    await wait_until(hass, lambda: state_of(hass, "binary_sensor", f"{PIN}_online") == "on")
    assert [e.data["new_state"].state for e in changes if e.data["entity_id"] == box_online] == [
        "off",
        "on",
    ]

    # P19-P22: the wizard, remote in hand; the reader (AZERTY, on this QWERTY browser) types
    # the code into the field and its Enter sends, the two shutters being chosen.
    await tab(page, "Devices")
    await page.get_by_role("link", name="Add a remote control").first.click()
    await page.get_by_role("link", name="In my hands").click()
    await page.get_by_label("Living room shutter").check()
    await page.get_by_label("Kitchen shutter").check()
    await page.get_by_label("Scan the remote's QR code").click()
    await page.keyboard.type("IO.Q%#F@&\n")
    await expect(page.get_by_role("status")).to_have_text(SENT)
    remote = f"io://{PIN}/A53F27"

    def paired() -> bool:
        return all(
            remote in (box.device(url).state(CONTROLLERS_STATE) or [])  # type: ignore[operator]
            for url in (SHUTTER, KITCHEN_SHUTTER)
        )

    await wait_until(hass, paired, "the remote paired to both shutters on the box")

    # P23: the customer's web app: live states, and a command that runs on the box.
    # The bar is one line: the web app's button is among its details.
    await banner.get_by_role("button", name="Details").click()
    await banner.get_by_role("button", name="Open the customer's web app").click()
    await expect(page.get_by_role("heading", name="The customer's web app")).to_be_visible()
    card = page.locator(f'.web-device[data-device="{SHUTTER}"]')
    await page.evaluate("window.__noReload = true")
    box.set_rssi(SHUTTER, 41)
    await expect(card.locator('[data-state="rssi"]')).to_have_text("41 %", timeout=LIVE_TIMEOUT)
    assert await page.evaluate("window.__noReload") is True
    assert box.device(SHUTTER).state("core:ClosureState") == 0
    await card.get_by_role("button", name="Close").click()
    await expect(page.get_by_role("status")).to_have_text(SENT)
    await wait_until(
        hass,
        lambda: box.device(SHUTTER).state("core:ClosureState") == 100,
        "the shutter closed on the box",
    )

    # P17-P18: the summary (every action done in HA), a comment, the end.
    await wait_until(hass, lambda: not manager_of(entry).outbox, "HA's results acknowledged")
    await banner.get_by_role("link", name="End remote intervention").click()
    rows = page.locator("tr[data-action]")
    await expect(rows).to_have_count(5)
    await expect(rows.locator(".ok")).to_have_count(5, timeout=LIVE_TIMEOUT)
    comment = "Remote A53F27 paired to both shutters; 'my' position at 30 %."
    await page.get_by_label("Comment for the customer").fill(comment)
    await page.get_by_role("button", name="End the intervention and inform the customer").click()
    await expect(page.get_by_role("status")).to_have_text(
        "The intervention is ended; the customer is informed."
    )
    await expect(page.locator("tr[data-entry=intervention_ended]")).to_have_count(1)

    mail = await mailbox.arrival(
        CUSTOMER, lambda m: "ended the remote intervention" in str(m["Subject"])
    )
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert 'Living room shutter: "My" position (%) = 30 (done)' in body
    assert "Reboot the box (done)" in body
    assert "remote control A53F27 paired to Living room shutter, Kitchen shutter (done)" in body
    assert "Living room shutter: Close (done)" in body
    assert "Your web app was opened during the intervention." in body
    assert comment in body

    # HA: the window is closed, the event fired, the homeowner notified, all in the audit log.
    await wait_until(hass, lambda: ended, "the intervention_ended event")
    assert state_of(hass, "binary_sensor", f"{PIN}_remote_service") == "off"
    assert entry.runtime_data.remote_service.current is None
    data = ended[0].data
    assert (data["config_entry_id"], data["company"], data["installer"]) == (
        entry.entry_id,
        COMPANY,
        "Léa",
    )
    assert data["comment"] == comment
    assert [line.split(" ", 1)[1] for line in data["actions"]] == [
        'Living room shutter: "My" position (%) set to 30',
        "The box was restarted",
        "Remote control A53F27 paired to Living room shutter, Kitchen shutter",
        "Your web app was opened",
        "Web app: Close sent to Living room shutter",
    ]
    assert any(
        comment in text and "Remote control A53F27 paired" in text for text in notifications(hass)
    )
    log = await audit_log(hass)
    assert log["verification"]["ok"] is True
    records = log["records"]
    assert [(r["type"], r.get("state"), r.get("kind"), r.get("ok")) for r in records] == [
        ("window", "granted", None, None),
        ("action", None, "parameters", True),
        ("action", None, "reboot", True),
        ("action", None, "pair_remote", True),
        ("action", None, "web_app", True),
        ("action", None, "web_app", True),
        ("window", "ended", None, None),
        ("intervention_ended", None, None, None),
    ]
    assert (records[0]["installer"]["company"], records[0]["installer"]["name"]) == (COMPANY, "Léa")
    assert (records[1]["device_url"], records[1]["value"], records[1]["previous"]) == (
        SHUTTER,
        30,
        50,
    )
    assert records[3]["remote_address"] == "A53F27"
    assert records[3]["devices"] == [SHUTTER, KITCHEN_SHUTTER]
    assert records[5]["command"] == "close"
    assert records[-1]["comment"] == comment
    assert records[-1]["actions"] == [2, 3, 4, 5, 6]


async def test_remote_service_refusals_revocation_and_audit_chain(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    portal: Portal,
    mailbox: Mailbox,
    installer: Page,
    hass_storage: dict[str, Any],
) -> None:
    entry, page, box = init_integration, installer, simulator.box
    await serv_e_go(hass, entry, page, portal, mailbox)

    # Granted from HA (the action, no request) for an hour, io parameters and web app only.
    await page.evaluate("window.__noReload = true")
    await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"hours": 1, "kinds": ["parameters", "web_app"]},
        blocking=True,
    )
    banner = page.locator("#live-remote")
    await expect(banner.locator(".countdown")).to_have_text(
        re.compile(r"^0:59:\d\d$"), timeout=LIVE_TIMEOUT
    )
    await expect(banner.locator("[data-kind]")).to_have_count(2)
    await expect(page.get_by_role("button", name="Reboot the box")).to_have_count(0)
    await expect(page.get_by_role("link", name="Add a remote control")).to_have_count(0)
    assert await page.evaluate("window.__noReload") is True

    # A granted kind goes through.
    await send_my_position(hass, page, simulator, 30)

    # Frames the portal would never send: HA refuses each one, and nothing reaches the box.
    label = box.device(SHUTTER).label
    forged = {
        "kind_not_granted": {"kind": "reboot"},
        "rts_one_way": {
            "kind": "parameters",
            "device_url": AWNING,
            "parameter": "label",
            "value": "Pergola",
        },
        "value_out_of_range": {
            "kind": "parameters",
            "device_url": SHUTTER,
            "parameter": "my_position",
            "value": 150,
        },
        "wrong_box": {
            "kind": "parameters",
            "device_url": SHUTTER.replace(PIN, OTHER_PIN),
            "parameter": "label",
            "value": "Pwned",
        },
    }
    action_ids = {error: await forge_action(portal, payload) for error, payload in forged.items()}
    # The right product, but the frame is for another box.
    other_box = await forge_action(
        portal,
        {
            "kind": "parameters",
            "pin": OTHER_PIN,
            "device_url": SHUTTER,
            "parameter": "label",
            "value": "Pwned",
        },
    )
    for error, action_id in [*action_ids.items(), ("wrong_box", other_box)]:
        await wait_until(hass, lambda a=action_id: audited(entry, a), f"HA's answer ({error})")
        record = audited(entry, action_id)
        assert record is not None
        assert (record["ok"], record["error"]) == (False, error)
    assert box.device(SHUTTER).state(MY_POSITION) == 30
    assert box.device(SHUTTER).label == label
    assert box.device(AWNING).label == "Terrace awning"
    assert simulator.online
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == "on"

    # Revoked in HA mid-session: the portal's controls go away by themselves.
    await tab(page, "Devices")
    await page.evaluate("window.__noReload = true")
    pencil = page.locator(f'tr[data-device="{SHUTTER}"] details[data-parameter="my_position"]')
    await expect(pencil).to_have_count(1)
    web_app = await page.context.new_page()
    await web_app.goto(page.url.replace("/devices", "/remote/web-app"))
    await expect(web_app.get_by_role("heading", name="The customer's web app")).to_be_visible()
    await hass.services.async_call(DOMAIN, "revoke_remote_service", {}, blocking=True)
    assert state_of(hass, "binary_sensor", f"{PIN}_remote_service") == "off"
    await expect(page.locator("[data-last-window]")).to_have_text(
        "The customer revoked the remote-service window.", timeout=LIVE_TIMEOUT
    )
    await expect(pencil).to_have_count(0)
    await expect(banner.locator(".countdown")).to_have_count(0)
    assert await page.evaluate("window.__noReload") is True
    # The web app, open in another tab, leaves for the installation's page, which says why.
    await expect(web_app.locator("[data-last-window]")).to_have_text(
        "The customer revoked the remote-service window.", timeout=LIVE_TIMEOUT
    )
    await web_app.close()
    # An action after that is refused by HA (the portal, which knows, would not send it).
    late = await forge_action(
        portal,
        {"kind": "parameters", "device_url": SHUTTER, "parameter": "my_position", "value": 10},
    )
    await wait_until(hass, lambda: audited(entry, late), "HA's answer after revocation")
    record = audited(entry, late)
    assert record is not None
    assert (record["ok"], record["error"]) == (False, "window_closed")
    assert box.device(SHUTTER).state(MY_POSITION) == 30

    # The portal shows HA's answers on the summary of the lapsed window.
    await wait_until(hass, lambda: not manager_of(entry).outbox, "HA's results acknowledged")
    await (
        banner.locator("[data-lapsed]").get_by_role("link", name="End remote intervention").click()
    )
    rows = page.locator("tr[data-action]")
    await expect(rows).to_have_count(7)
    await expect(rows.nth(0)).to_contain_text("done")
    for index, error in enumerate(
        [
            "kind_not_granted",
            "rts_one_way",
            "value_out_of_range",
            "wrong_box",
            "wrong_box",
            "window_closed",
        ],
        start=1,
    ):
        await expect(rows.nth(index)).to_contain_text(
            f"refused by Home Assistant: {error}", timeout=LIVE_TIMEOUT
        )

    # The audit chain: intact, then a record edited in HA's storage, then one deleted.
    log = await audit_log(hass)
    assert log["verification"] == {"ok": True, "records": 9, "problems": [], "first_bad_seq": None}
    problem = f"{PIN}_audit_log"
    assert state_of(hass, "binary_sensor", problem) == "off"
    key = audit_storage_key(entry.entry_id)

    async def reload_with(records: list[dict[str, Any]]) -> dict[str, Any]:
        """The log as stored with ``records`` instead, read by HA after a reload."""
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        hass_storage[key]["data"]["records"] = records
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return await audit_log(hass)

    await hass.async_block_till_done(wait_background_tasks=True)
    stored = copy.deepcopy(hass_storage[key]["data"]["records"])
    assert [r["seq"] for r in stored] == list(range(1, 10))
    edited = copy.deepcopy(stored)
    assert edited[1]["value"] == 30
    edited[1]["value"] = 99  # the shutter's position, as if set to something else
    log = await reload_with(edited)
    assert log["verification"]["ok"] is False
    assert log["verification"]["first_bad_seq"] == 3
    assert state_of(hass, "binary_sensor", problem) == "on"

    deleted = copy.deepcopy(stored)
    del deleted[2]  # the refused reboot, as if never tried
    log = await reload_with(deleted)
    assert log["verification"]["ok"] is False
    assert state_of(hass, "binary_sensor", problem) == "on"

    log = await reload_with(stored)  # put back as it was: the chain verifies again
    assert log["verification"]["ok"] is True
    assert state_of(hass, "binary_sensor", problem) == "off"
