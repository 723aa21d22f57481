"""The ``centre_case`` frame: a case as Home Assistant follows it (whole state each time).

Home Assistant never learns who the operator is (``actor`` is ``operator``), and never learns
of a duress: the duress step reaches it as the owner's cancel closing the case, and nothing
after it does (the wire contract, ``docs/protocol.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from companion_server.centre.protocol_values import (
    ActionKind,
    CaseState,
    Outcome,
    Phase,
)

FRAME_TYPE: Final = "centre_case"
_OUTCOMES: Final = {
    Outcome.FALSE_ALARM: "false_alarm",
    Outcome.CANCELLED_BY_OWNER: "owner_cancelled",
    Outcome.GUARD_CHECKED: "guard_checked",
}
_REACHED: Final = ("first", "second")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _reached(state: CaseState) -> str | None:
    """The contact last identified, if any."""
    for step in reversed(state.steps):
        if step.action is ActionKind.IDENTIFIED and step.contact is not None:
            return _REACHED[step.contact]
    return None


def _guard(state: CaseState) -> str:
    if state.outcome is Outcome.GUARD_CHECKED:
        return "finished"
    if state.phase is Phase.GUARD_DISPATCHED:
        return "dispatched"
    if state.phase is Phase.GUARD_REQUIRED:
        return "required"
    return "none"


def payload(case_id: int, state: CaseState) -> dict[str, Any]:
    """The frame's payload for ``state`` as it is.

    A case just opened has no step yet: it goes out with ``seq`` 0 and ``last_action``
    ``new_alert`` (the alarm that opened it), so that Home Assistant knows the case id its
    owner's cancel refers to from the first second.
    """
    last = state.steps[-1] if state.steps else None
    actor = "home_assistant" if last is None else last.actor
    return {
        "case_id": case_id,
        "seq": len(state.steps),
        "kind": state.kind.value,
        "status": "closed" if state.closed else "open",
        "phase": state.phase.value,
        "round": state.round,
        "reached": _reached(state),
        "guard": _guard(state),
        "outcome": None if state.outcome is None else _OUTCOMES[state.outcome],
        "last_action": ActionKind.NEW_ALERT.value if last is None else last.action.value,
        "actor": "operator" if isinstance(actor, int) else actor,
        "at": _time(state.opened_at if last is None else last.at),
        "deadline": _time(state.deadline),
    }


def after_step(case_id: int, before: CaseState | None, after: CaseState) -> dict[str, Any] | None:
    """What Home Assistant gets after a step (None: nothing, the case is under duress).

    ``before``: the case before the step (None for a case just opened). The duress step
    itself goes out as the owner's cancel closing the case, as it was before the duress.
    """
    if not after.duress:
        return payload(case_id, after)
    if before is not None and before.duress:
        return None
    last = after.steps[-1]
    shown = before if before is not None else after
    return {
        **payload(case_id, shown),
        "seq": len(after.steps),
        "status": "closed",
        "phase": Phase.CLOSED.value,
        "round": shown.round,
        "guard": "none",
        "outcome": _OUTCOMES[Outcome.CANCELLED_BY_OWNER],
        "last_action": ActionKind.OWNER_CANCEL.value,
        "actor": "home_assistant",
        "at": _time(last.at),
        "deadline": None,
    }
