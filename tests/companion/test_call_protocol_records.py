"""A case as the JSON the database stores: written, read back, and refused when it is wrong."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from companion_server.centre.call_protocol import apply, open_case
from companion_server.centre.case_records import from_record, to_record
from companion_server.centre.protocol_values import (
    HOME_ASSISTANT,
    TIMER,
    Action,
    ActionKind as A,
    CaseKind,
    CaseState,
    InvalidCaseState,
)
from companion_server.i18n import translator

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def guard_sent_after_two_rounds() -> CaseState:
    state = open_case(CaseKind.INTRUSION, 1, T0)
    for minute, kind, actor in [
        (1, A.NO_ANSWER, 5),
        (2, A.MESSAGE_LEFT, 5),
        (12, A.SECOND_ROUND, TIMER),
        (13, A.NEW_ALERT, HOME_ASSISTANT),
        (14, A.NO_ANSWER, 8),
        (15, A.NO_VOICEMAIL, 8),
        (16, A.DISPATCH_GUARD, 8),
    ]:
        state = apply(state, Action(kind, actor, T0 + timedelta(minutes=minute)))
    return state


def test_record_reads_as_stored() -> None:
    record = to_record(guard_sent_after_two_rounds())
    assert json.loads(json.dumps(record)) == record
    assert {key: record[key] for key in ("kind", "phase", "round", "guard_reason")} == {
        "kind": "intrusion",
        "phase": "guard_dispatched",
        "round": 2,
        "guard_reason": "nobody_reached",
    }
    assert record["opened_at"] == "2026-11-28T03:00:00+00:00"
    assert record["steps"][1] == {
        "at": "2026-11-28T03:02:00+00:00",
        "actor": 5,
        "action": "message_left",
        "contact": 0,
        "note": "",
        "phase": "waiting",
        "round": 1,
    }
    assert record["steps"][2]["actor"] == "timer"
    assert record["steps"][3]["actor"] == "home_assistant"


def test_waiting_case_keeps_its_deadline() -> None:
    state = open_case(CaseKind.FIRE, 1, T0)
    state = apply(state, Action(A.NO_ANSWER, 3, T0))
    state = apply(state, Action(A.MESSAGE_LEFT, 3, T0 + timedelta(seconds=30)))
    record = to_record(state)
    assert record["deadline"] == "2026-11-28T03:10:30+00:00"
    assert from_record(record) == state


def tamper(record: dict[str, Any], change: str) -> None:
    steps = record["steps"]
    match change:
        case "phase":
            record["phase"] = "closed"
        case "outcome":
            record["outcome"] = "false_alarm"
        case "unknown kind":
            record["kind"] = "flood"
        case "unknown action":
            steps[0]["action"] = "shrug"
        case "refused step":
            steps.insert(0, {**steps[0], "action": "dispatch_guard"})
        case "removed step":
            del steps[4]
        case "step out of order":
            steps[2], steps[3] = steps[3], steps[2]
        case "operator as Home Assistant":
            steps[0]["actor"] = "home_assistant"
        case "boolean actor":
            steps[0]["actor"] = True
        case "naive time":
            steps[0]["at"] = "2026-11-28T03:01:00"
        case "not a time":
            steps[0]["at"] = "soon"
        case "extra key":
            record["operator_notes"] = "x"
        case "missing key":
            del steps[0]["note"]
        case "newer format":
            record["format"] = 2
        case "steps not a list":
            record["steps"] = {}
        case "three contacts":
            record["contacts"] = 3
        case "no contact":
            record["contacts"] = 0
        case "contacts as text":
            record["contacts"] = "1"
        case "duress hidden":
            record["duress"] = True
        case "flag as a number":
            record["alert_pending"] = 0
        case "format as a float":
            record["format"] = 1.0
        case "contacts as a float":
            record["contacts"] = 1.0
        case "deadline as a time object":
            record["deadline"] = T0


@pytest.mark.parametrize(
    "change",
    [
        "phase",
        "outcome",
        "unknown kind",
        "unknown action",
        "refused step",
        "removed step",
        "step out of order",
        "operator as Home Assistant",
        "boolean actor",
        "naive time",
        "not a time",
        "extra key",
        "missing key",
        "newer format",
        "steps not a list",
        "three contacts",
        "no contact",
        "contacts as text",
        "duress hidden",
        "flag as a number",
        "format as a float",
        "contacts as a float",
        "deadline as a time object",
    ],
)
def test_tampered_record_is_refused_with_a_clear_error(change: str) -> None:
    record = to_record(guard_sent_after_two_rounds())
    tamper(record, change)
    with pytest.raises(InvalidCaseState) as refused:
        from_record(record)
    assert str(refused.value).startswith("invalid case record: ")
    assert refused.value.message == "The stored case record is invalid; it was not loaded."
    assert translator("fr")(refused.value.message) != refused.value.message


def test_refusal_names_what_does_not_match() -> None:
    record = to_record(guard_sent_after_two_rounds())
    record["phase"] = "closed"
    record["round"] = 1
    with pytest.raises(InvalidCaseState, match="stored phase, round do not match the steps"):
        from_record(record)
    record = copy.deepcopy(to_record(guard_sent_after_two_rounds()))
    record["steps"][5]["action"] = "identified"
    with pytest.raises(InvalidCaseState, match="refuses it"):
        from_record(record)


@pytest.mark.parametrize("record", [None, [], "case", 3])
def test_not_a_record_at_all(record: object) -> None:
    with pytest.raises(InvalidCaseState):
        from_record(record)
