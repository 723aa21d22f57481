"""A case as the JSON the database stores, and back, checked on the way in.

The record keeps what the case is about and every step; the rest (phase, round, deadline,
outcome, ...) is stored too, for queries and for people reading the table, but on loading the
steps are replayed through the protocol and the whole record must come out identical: a
hand-edited phase, a step the protocol would have refused or an unknown value raises
:class:`InvalidCaseState` instead of giving an operator a case that could not have happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any, Final

from companion_server.centre.call_protocol import apply, open_case
from companion_server.centre.protocol_values import (
    HOME_ASSISTANT,
    TIMER,
    Action,
    ActionKind,
    Actor,
    CaseKind,
    CaseState,
    InvalidCaseState,
    ProtocolError,
    Step,
)

FORMAT: Final = 1
_CASE_KEYS: Final = frozenset(
    {
        "format",
        "kind",
        "contacts",
        "opened_at",
        "phase",
        "round",
        "contact",
        "deadline",
        "alert_pending",
        "guard_reason",
        "duress",
        "outcome",
        "steps",
    }
)
_STEP_KEYS: Final = frozenset({"at", "actor", "action", "contact", "note", "phase", "round"})


def to_record(state: CaseState) -> dict[str, Any]:
    """The case as JSON-able values (times as ISO 8601 in UTC)."""
    return {
        "format": FORMAT,
        "kind": state.kind.value,
        "contacts": state.contacts,
        "opened_at": _time(state.opened_at),
        "phase": state.phase.value,
        "round": state.round,
        "contact": state.contact,
        "deadline": None if state.deadline is None else _time(state.deadline),
        "alert_pending": state.alert_pending,
        "guard_reason": None if state.guard_reason is None else state.guard_reason.value,
        "duress": state.duress,
        "outcome": None if state.outcome is None else state.outcome.value,
        "steps": [_step_record(step) for step in state.steps],
    }


def from_record(record: object) -> CaseState:
    """The case a stored record holds; raises :class:`InvalidCaseState` if it does not hold."""
    data = _mapping(record, _CASE_KEYS, "case")
    if data["format"] != FORMAT:
        raise InvalidCaseState(f"unknown format {data['format']!r}")
    try:
        state = open_case(
            CaseKind(_text(data["kind"], "kind")),
            _integer(data["contacts"], "contacts"),
            _parse_time(data["opened_at"], "opened_at"),
        )
        steps = data["steps"]
        if not isinstance(steps, list):
            raise InvalidCaseState("steps is not a list")
        for number, raw in enumerate(steps):
            state = apply(state, _action(raw, number))
    except ProtocolError as err:
        raise InvalidCaseState(f"the protocol refuses it: {err.message}") from err
    except ValueError as err:
        raise InvalidCaseState(str(err)) from err
    replayed = to_record(state)
    differing = sorted(key for key in _CASE_KEYS if _json(replayed[key]) != _json(data[key]))
    if differing:
        raise InvalidCaseState(f"stored {', '.join(differing)} do not match the steps")
    return state


def _json(value: object) -> str:
    """Compared as JSON text, so that ``true`` is not ``1`` and ``1.0`` not ``1``."""
    return json.dumps(value, sort_keys=True, default=lambda other: f"<{type(other).__name__}>")


def _step_record(step: Step) -> dict[str, Any]:
    return {
        "at": _time(step.at),
        "actor": step.actor,
        "action": step.action.value,
        "contact": step.contact,
        "note": step.note,
        "phase": step.phase.value,
        "round": step.round,
    }


def _action(raw: object, number: int) -> Action:
    """The action a stored step records (its phase and round are checked by the replay)."""
    data = _mapping(raw, _STEP_KEYS, f"step {number}")
    contact = data["contact"]
    note = data["note"]
    if contact is not None:
        contact = _integer(contact, f"step {number} contact")
    return Action(
        kind=ActionKind(_text(data["action"], f"step {number} action")),
        actor=_actor(data["actor"], number),
        at=_parse_time(data["at"], f"step {number} at"),
        contact=contact,
        note=_text(note, f"step {number} note"),
    )


def _actor(raw: object, number: int) -> Actor:
    if raw == HOME_ASSISTANT:
        return HOME_ASSISTANT
    if raw == TIMER:
        return TIMER
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    raise InvalidCaseState(f"step {number}: unknown actor {raw!r}")


def _mapping(raw: object, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) != keys:
        found = sorted(map(str, raw)) if isinstance(raw, dict) else type(raw).__name__
        raise InvalidCaseState(f"{what} has keys {found}, expected {sorted(keys)}")
    return raw


def _integer(raw: object, what: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidCaseState(f"{what} is not an integer")
    return raw


def _text(raw: object, what: str) -> str:
    if not isinstance(raw, str):
        raise InvalidCaseState(f"{what} is not a string")
    return raw


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _parse_time(raw: object, what: str) -> datetime:
    moment = datetime.fromisoformat(_text(raw, what))
    if moment.tzinfo is None:
        raise InvalidCaseState(f"{what} has no time zone")
    return moment
