"""The monitoring centre's call protocol (M2-M6) as one explicit transition table.

``TRANSITIONS[phase][action]`` says what an action leads to in each phase, and nothing else
is possible: :func:`allowed_actions` lists the actions of the current phase (the console
offers exactly those) and :func:`apply` refuses any other with a typed, translatable error.
Both read the table and the same conditions, so they cannot disagree. There is no clock and
no sleep: every action brings its time, and the wait for a call back is a deadline in the
state that the database stores and any portal instance can act on. docs/monitoring-centre.md
gives the rules in words, with the seed's wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

from companion_server.centre.protocol_values import (
    CALL_BACK_WAIT,
    CLOSED,
    HOME_ASSISTANT,
    HOME_ASSISTANT_ACTIONS,
    HOME_ASSISTANT_ONLY,
    MAX_CONTACTS,
    MAX_NOTE,
    NO_FIRST_CONTACT,
    NO_SUCH_CONTACT,
    NOT_ALLOWED,
    NOTE_TOO_LONG,
    OPERATOR_ACTIONS,
    OPERATOR_ONLY,
    TIME_WENT_BACK,
    TIMER,
    TIMER_OR_OPERATOR,
    WAIT_NOT_OVER,
    WHO_CALLED_BACK,
    Action,
    ActionKind,
    ActionNotAllowed,
    Actor,
    CaseKind,
    CaseState,
    GuardReason,
    InvalidStep,
    Outcome,
    Phase,
    ProtocolError,
    Step,
    WrongActor,
)
from companion_server.i18n import N_

NOT_THIS_CONTACT: Final = N_(
    "The contacts are called in order: this step is about the contact being called."
)

# Queue order: aggression and fire first, then intrusion, then tamper; older cases first.
PRIORITY: Final = {
    CaseKind.AGGRESSION: 0,
    CaseKind.FIRE: 0,
    CaseKind.INTRUSION: 1,
    CaseKind.TAMPER: 2,
}

type Effect = Callable[[CaseState, Action], CaseState]
# None when the action is possible at that time, else the message id saying why not.
type Condition = Callable[[CaseState, datetime], str | None]


@dataclass(frozen=True, slots=True)
class Transition:
    """What an action does in a phase, and when it is possible there."""

    effect: Effect
    condition: Condition | None = None


# Effects: each returns the case after the action (apply adds the step).


def _record(state: CaseState, action: Action) -> CaseState:
    """Kept in the history; the protocol goes on as before."""
    return state


def _identified(state: CaseState, action: Action) -> CaseState:
    """The contact being called, or the one who called back during the wait."""
    return replace(state, phase=Phase.IDENTIFIED, contact=action.contact, deadline=None)


def _no_answer(state: CaseState, action: Action) -> CaseState:
    return replace(state, phase=Phase.LEAVING_MESSAGE)


def _next_contact(state: CaseState, action: Action) -> CaseState:
    """The seed: not identified or no answer -> the next contact; then wait, or a guard."""
    assert state.contact is not None
    if state.contact + 1 < state.contacts:
        return replace(state, phase=Phase.CALLING, contact=state.contact + 1)
    if state.round == 2:
        return _guard(state, GuardReason.NOBODY_REACHED)
    if state.alert_pending:
        return _second_round(state, action)
    return replace(state, phase=Phase.WAITING, contact=None, deadline=action.at + CALL_BACK_WAIT)


def _wrong_identification(state: CaseState, action: Action) -> CaseState:
    """Round 2 of a non-fire case asks whether the situation seems normal; else next contact."""
    if state.round == 2 and state.kind is not CaseKind.FIRE:
        return replace(state, phase=Phase.ASSESSING)
    return _next_contact(state, action)


def _second_round(state: CaseState, action: Action) -> CaseState:
    return replace(
        state, phase=Phase.CALLING, round=2, contact=0, deadline=None, alert_pending=False
    )


def _alert_while_calling(state: CaseState, action: Action) -> CaseState:
    """An alert during round 1 counts as arrived "in the meantime": no wait before round 2."""
    return replace(state, alert_pending=True) if state.round == 1 else state


def _ask_to_confirm(state: CaseState, action: Action) -> CaseState:
    return replace(state, phase=Phase.CONFIRMING)


def _confirmed_alarm(state: CaseState, action: Action) -> CaseState:
    return _guard(state, GuardReason.CONFIRMED_ALARM)


def _guard(state: CaseState, reason: GuardReason) -> CaseState:
    return replace(
        state,
        phase=Phase.GUARD_REQUIRED,
        contact=None,
        deadline=None,
        alert_pending=False,
        guard_reason=reason,
    )


def _duress(state: CaseState, action: Action) -> CaseState:
    """A confirmed alarm whatever the phase; a guard already sent stays sent."""
    if state.phase is Phase.GUARD_DISPATCHED:
        return replace(state, duress=True, guard_reason=GuardReason.DURESS)
    return replace(_guard(state, GuardReason.DURESS), duress=True)


def _dispatch(state: CaseState, action: Action) -> CaseState:
    return replace(state, phase=Phase.GUARD_DISPATCHED)


def _close(outcome: Outcome) -> Effect:
    def close(state: CaseState, action: Action) -> CaseState:
        return replace(state, phase=Phase.CLOSED, outcome=outcome, deadline=None)

    return close


# Conditions.


def _wait_over(state: CaseState, now: datetime) -> str | None:
    assert state.deadline is not None
    return None if now >= state.deadline else WAIT_NOT_OVER


def _alarm_not_confirmed(state: CaseState, now: datetime) -> str | None:
    """The owner's cancel stops a guard sent for want of an answer, not a confirmed alarm."""
    return None if state.guard_reason is GuardReason.NOBODY_REACHED else NOT_ALLOWED


def _from_home(
    *, cancel: Transition | None, new_alert: Effect = _record
) -> dict[ActionKind, Transition]:
    """The homeowner's events: possible in every open phase (a duress above all)."""
    events = {
        ActionKind.NEW_ALERT: Transition(new_alert),
        ActionKind.OWNER_CANCEL_REFUSED: Transition(_record),
        ActionKind.OWNER_DURESS: Transition(_duress),
    }
    if cancel is not None:
        events[ActionKind.OWNER_CANCEL] = cancel
    return events


_CANCEL: Final = Transition(_close(Outcome.CANCELLED_BY_OWNER))

TRANSITIONS: Final[dict[Phase, dict[ActionKind, Transition]]] = {
    Phase.CALLING: {
        ActionKind.IDENTIFIED: Transition(_identified),
        ActionKind.WRONG_IDENTIFICATION: Transition(_wrong_identification),
        ActionKind.NO_ANSWER: Transition(_no_answer),
        **_from_home(cancel=_CANCEL, new_alert=_alert_while_calling),
    },
    Phase.LEAVING_MESSAGE: {
        ActionKind.MESSAGE_LEFT: Transition(_next_contact),
        ActionKind.NO_VOICEMAIL: Transition(_next_contact),
        **_from_home(cancel=_CANCEL, new_alert=_alert_while_calling),
    },
    Phase.WAITING: {
        # A contact calls back: identified, or not (then the second round starts now).
        ActionKind.IDENTIFIED: Transition(_identified),
        ActionKind.WRONG_IDENTIFICATION: Transition(_second_round),
        ActionKind.SECOND_ROUND: Transition(_second_round, _wait_over),
        **_from_home(cancel=_CANCEL, new_alert=_second_round),
    },
    Phase.ASSESSING: {
        ActionKind.SITUATION_NORMAL: Transition(_ask_to_confirm),
        ActionKind.SITUATION_ABNORMAL: Transition(_confirmed_alarm),
        **_from_home(cancel=_CANCEL),
    },
    Phase.CONFIRMING: {
        ActionKind.IDENTIFIED: Transition(_identified),
        ActionKind.WRONG_IDENTIFICATION: Transition(_confirmed_alarm),
        **_from_home(cancel=_CANCEL),
    },
    Phase.IDENTIFIED: {
        ActionKind.FALSE_ALARM: Transition(_close(Outcome.FALSE_ALARM)),
        ActionKind.SITUATION_ABNORMAL: Transition(_confirmed_alarm),
        **_from_home(cancel=_CANCEL),
    },
    Phase.GUARD_REQUIRED: {
        ActionKind.DISPATCH_GUARD: Transition(_dispatch),
        **_from_home(cancel=Transition(_CANCEL.effect, _alarm_not_confirmed)),
    },
    Phase.GUARD_DISPATCHED: {
        ActionKind.GUARD_FINISHED: Transition(_close(Outcome.GUARD_CHECKED)),
        **_from_home(cancel=None),
    },
    Phase.CLOSED: {},
}


def open_case(kind: CaseKind, contacts: int, now: datetime) -> CaseState:
    """A new case: round 1, calling the first contact."""
    if contacts < 1:
        raise ProtocolError(NO_FIRST_CONTACT)
    if contacts > MAX_CONTACTS:
        raise ValueError(f"at most {MAX_CONTACTS} contacts, got {contacts}")
    return CaseState(kind=CaseKind(kind), contacts=contacts, opened_at=_utc(now))


def may_send(kind: ActionKind, actor: Actor) -> bool:
    """Whether ``actor`` may record ``kind`` (operators, Home Assistant, the timer)."""
    if kind in HOME_ASSISTANT_ACTIONS:
        return actor == HOME_ASSISTANT
    operator = isinstance(actor, int) and not isinstance(actor, bool) and actor > 0
    if kind is ActionKind.SECOND_ROUND:
        return operator or actor == TIMER
    return operator


def allowed_actions(
    state: CaseState, now: datetime, actor: Actor | None = None
) -> frozenset[ActionKind]:
    """The actions the protocol accepts at ``now`` (only ``actor``'s when given)."""
    if _utc(now) < state.last_time:
        return frozenset()
    return frozenset(
        kind
        for kind, transition in TRANSITIONS[state.phase].items()
        if (transition.condition is None or transition.condition(state, _utc(now)) is None)
        and (actor is None or may_send(kind, actor))
    )


def apply(state: CaseState, action: Action) -> CaseState:
    """The case after ``action``, with one more step; a refused action raises and changes nothing.

    Raises :class:`ActionNotAllowed` (not offered in this phase, or not yet), :class:`WrongActor`
    and :class:`InvalidStep` (a contact that does not exist, a time going back, a long note).
    """
    at = _utc(action.at)
    if state.closed:
        raise ActionNotAllowed(CLOSED, state.phase, action.kind)
    if at < state.last_time:
        raise InvalidStep(TIME_WENT_BACK)
    if len(action.note) > MAX_NOTE:
        raise InvalidStep(NOTE_TOO_LONG, max=MAX_NOTE)
    if not may_send(action.kind, action.actor):
        raise WrongActor(_who_may(action.kind))
    transition = TRANSITIONS[state.phase].get(action.kind)
    if transition is None:
        raise ActionNotAllowed(NOT_ALLOWED, state.phase, action.kind)
    if transition.condition is not None and (refusal := transition.condition(state, at)):
        raise ActionNotAllowed(refusal, state.phase, action.kind)
    contact = _step_contact(state, action)
    after = transition.effect(state, replace(action, at=at, contact=contact))
    step = Step(
        at=at,
        actor=action.actor,
        action=action.kind,
        contact=contact,
        note=action.note,
        phase=after.phase,
        round=after.round,
    )
    return replace(after, steps=(*state.steps, step))


def queue_key(state: CaseState) -> tuple[int, datetime]:
    """Sort key of the operators' queue: priority of the kind, then age."""
    return (PRIORITY[state.kind], state.opened_at)


def _step_contact(state: CaseState, action: Action) -> int | None:
    """The contact a step is about: who called back, or who is being called."""
    call_back = state.phase is Phase.WAITING and action.kind in {
        ActionKind.IDENTIFIED,
        ActionKind.WRONG_IDENTIFICATION,
    }
    if call_back:
        if action.contact is None:
            raise InvalidStep(WHO_CALLED_BACK)
        if isinstance(action.contact, bool) or not 0 <= action.contact < state.contacts:
            raise InvalidStep(NO_SUCH_CONTACT)
        return action.contact
    if action.contact is not None and action.contact != state.contact:
        raise InvalidStep(NOT_THIS_CONTACT)
    return state.contact if action.kind in OPERATOR_ACTIONS else None


def _who_may(kind: ActionKind) -> str:
    if kind in HOME_ASSISTANT_ACTIONS:
        return HOME_ASSISTANT_ONLY
    if kind is ActionKind.SECOND_ROUND:
        return TIMER_OR_OPERATOR
    return OPERATOR_ONLY


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times given to the call protocol must be timezone-aware")
    return moment.astimezone(UTC)
