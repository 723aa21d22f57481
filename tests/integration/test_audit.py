"""The hash-chained audit log: verification, tampering in storage, export and diagnostics."""

from __future__ import annotations

import copy
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.audit import (
    GENESIS,
    AuditLog,
    record_hash,
    storage_key,
    verify_chain,
)
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics

from .common import PIN, SHUTTER, state_of
from .remote_fixtures import COMPANY, installer_actions_of


async def _log_with_actions(hass: HomeAssistant, entry: MockConfigEntry) -> AuditLog:
    """A window granted and three actions: five records."""
    await hass.services.async_call(
        DOMAIN, "grant_remote_service", {"kinds": ["parameters", "web_app"]}, blocking=True
    )
    for n, payload in enumerate(
        [
            {"kind": "web_app"},
            {"kind": "parameters", "device_url": SHUTTER, "parameter": "my_position", "value": 40},
            {"kind": "reboot"},
        ]
    ):
        await installer_actions_of(entry).async_handle_action({"action_id": f"a-{n}", **payload})
    await hass.async_block_till_done(wait_background_tasks=True)
    log: AuditLog = entry.runtime_data.remote_service.audit
    assert len(log.records) == 4
    await hass.services.async_call(DOMAIN, "revoke_remote_service", {}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(log.records) == 5
    return log


async def test_chain_links_every_record(hass: HomeAssistant, linked_entry: MockConfigEntry) -> None:
    log = await _log_with_actions(hass, linked_entry)
    assert log.records[0]["prev"] == GENESIS
    for before, record in zip(log.records, log.records[1:], strict=False):
        assert record["prev"] == record_hash(before)
    assert log.head == record_hash(log.records[-1])
    assert log.verify().ok
    assert [r["seq"] for r in log.records] == [1, 2, 3, 4, 5]
    action = log.records[2]
    assert action["installer"] == {"company": COMPANY, "company_id": "7", "name": None}
    assert action["kind"] == "parameters"
    assert (action["device_url"], action["parameter"], action["value"]) == (
        SHUTTER,
        "my_position",
        40,
    )
    assert action["ok"] is True
    assert "time" in action
    refused = log.records[3]
    assert (refused["kind"], refused["ok"], refused["error"]) == (
        "reboot",
        False,
        "kind_not_granted",
    )


def _tampered(records: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    records = copy.deepcopy(records)
    if how == "modified":
        records[2]["value"] = 99
    elif how == "modified_last":
        records[-1]["state"] = "granted"
    elif how == "inserted":
        forged = {**records[1], "seq": 3, "action_id": "forged"}
        forged["prev"] = record_hash(records[1])
        records.insert(2, forged)
    elif how == "deleted":
        del records[2]
    elif how == "deleted_first":
        del records[0]
    elif how == "reordered":
        records[1], records[2] = records[2], records[1]
    elif how == "truncated":
        del records[-2:]
    elif how == "emptied":
        records = []
    return records


@pytest.mark.parametrize(
    "how",
    [
        "modified",
        "modified_last",
        "inserted",
        "deleted",
        "deleted_first",
        "reordered",
        "truncated",
        "emptied",
    ],
)
async def test_verification_detects_tampering(
    hass: HomeAssistant, linked_entry: MockConfigEntry, how: str
) -> None:
    log = await _log_with_actions(hass, linked_entry)
    result = verify_chain(_tampered(log.records, how), log.head)
    assert not result.ok
    assert result.problems
    assert result.first_bad_seq is not None


async def test_renumbered_insertion_detected(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    """An insertion that renumbers what follows still breaks the next link."""
    log = await _log_with_actions(hass, linked_entry)
    records = copy.deepcopy(log.records)
    forged = {**records[1], "action_id": "forged", "prev": record_hash(records[1])}
    records.insert(2, forged)
    for seq, record in enumerate(records, start=1):
        record["seq"] = seq
    result = verify_chain(records, log.head)
    assert not result.ok


async def test_tampered_storage_detected_after_reload(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    log = await _log_with_actions(hass, linked_entry)
    problem = f"{PIN}_audit_log"
    assert state_of(hass, "binary_sensor", problem) == "off"
    await hass.config_entries.async_unload(linked_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = hass_storage[storage_key(linked_entry.entry_id)]
    assert stored["data"]["head"] == log.head
    stored["data"]["records"][2]["value"] = 0  # someone edits the file
    assert await hass.config_entries.async_setup(linked_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    reloaded: AuditLog = linked_entry.runtime_data.remote_service.audit
    assert not reloaded.verify().ok
    assert state_of(hass, "binary_sensor", problem) == "on"
    response = await hass.services.async_call(
        DOMAIN, "get_audit_log", {}, blocking=True, return_response=True
    )
    assert response is not None
    assert response["verification"]["ok"] is False
    assert response["verification"]["first_bad_seq"] == 4


async def test_get_audit_log_service(hass: HomeAssistant, linked_entry: MockConfigEntry) -> None:
    log = await _log_with_actions(hass, linked_entry)
    response = await hass.services.async_call(
        DOMAIN,
        "get_audit_log",
        {"config_entry_id": linked_entry.entry_id, "limit": 2},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["verification"] == {
        "ok": True,
        "records": 5,
        "problems": [],
        "first_bad_seq": None,
    }
    assert response["head"] == log.head
    records: Any = response["records"]
    assert [r["seq"] for r in records] == [4, 5]
    assert records[-1]["hash"] == log.head
    full = await hass.services.async_call(
        DOMAIN, "get_audit_log", {}, blocking=True, return_response=True
    )
    assert full is not None
    assert len(full["records"]) == 5  # type: ignore[arg-type]
    json.dumps(full)  # a service response is plain JSON


async def test_diagnostics_include_the_audit_log(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-11-23T10:00:00+00:00")
    await hass.services.async_call(
        DOMAIN, "grant_remote_service", {"hours": 1, "kinds": ["parameters"]}, blocking=True
    )
    await installer_actions_of(linked_entry).async_handle_action(
        {
            "action_id": "a-1",
            "kind": "parameters",
            "device_url": SHUTTER,
            "parameter": "label",
            "value": "Ask jane.doe@example.com",
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await async_get_config_entry_diagnostics(hass, linked_entry)
    text = json.dumps(diagnostics)
    assert PIN not in text
    assert "jane.doe@example.com" not in text
    remote = diagnostics["remote_service"]
    assert remote["window"]["company"] == COMPANY
    assert remote["window"]["kinds"] == ["parameters"]
    audit = remote["audit_log"]
    assert audit["verification"]["ok"] is True
    assert [r["type"] for r in audit["records"]] == ["window", "action"]
    assert audit["records"][1]["device_url"] == "io://**REDACTED**/11803671"
    assert audit["records"][1]["ok"] is True


async def test_audit_log_survives_a_reload(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    log = await _log_with_actions(hass, linked_entry)
    records, head = copy.deepcopy(log.records), log.head
    assert await hass.config_entries.async_reload(linked_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    reloaded: AuditLog = linked_entry.runtime_data.remote_service.audit
    assert reloaded.records == records
    assert reloaded.head == head
    assert reloaded.verify().ok
