"""Properties of the call protocol over random walks: only allowed actions, a fake clock.

Each walk opens a case of a random kind with one or two contacts, moves a fake clock forward
by 0 to 15 minutes before every step, and picks one of the actions the protocol offers. The
checks below are written from the seed's rules, not from the transition table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from companion_server.centre.call_protocol import allowed_actions, apply, open_case
from companion_server.centre.case_records import from_record, to_record
from companion_server.centre.protocol_values import (
    CALL_BACK_WAIT,
    HOME_ASSISTANT,
    HOME_ASSISTANT_ACTIONS,
    TIMER,
    Action,
    ActionKind as A,
    Actor,
    CaseKind,
    CaseState,
    GuardReason,
    InvalidCaseState,
    Outcome,
    Phase,
    ProtocolError,
    Step,
)

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
OPERATOR = 12
GUARD_PHASES = {Phase.GUARD_REQUIRED, Phase.GUARD_DISPATCHED}
CALL_ENDS_WITHOUT_IDENTIFICATION = {A.MESSAGE_LEFT, A.NO_VOICEMAIL, A.WRONG_IDENTIFICATION}
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def actor_for(kind: A) -> Actor:
    return HOME_ASSISTANT if kind in HOME_ASSISTANT_ACTIONS else OPERATOR


def action_for(state: CaseState, kind: A, now: datetime, callback_contact: int = 0) -> Action:
    callback = state.phase is Phase.WAITING and kind in {A.IDENTIFIED, A.WRONG_IDENTIFICATION}
    return Action(kind, actor_for(kind), now, contact=callback_contact if callback else None)


def with_phase_before(state: CaseState) -> Iterator[tuple[Phase, int, Step]]:
    """Each step with the phase and round it was taken in."""
    phase, round_ = Phase.CALLING, 1
    for step in state.steps:
        yield phase, round_, step
        phase, round_ = step.phase, step.round


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[CaseState, Action, CaseState]]:
    """A random case history: (before, action, after) for each step."""
    state = open_case(draw(st.sampled_from(list(CaseKind))), draw(st.integers(1, 2)), T0)
    now = T0
    history: list[tuple[CaseState, Action, CaseState]] = []
    for _ in range(draw(st.integers(0, 40))):
        now += timedelta(seconds=draw(st.integers(0, 900)))
        allowed = allowed_actions(state, now)
        if not allowed:
            break
        # The homeowner's cancel and duress end most cases at once: draw Home Assistant's
        # events one time in six, half of them new alerts, so that walks also reach the
        # second round and its branches.
        from_home = allowed & HOME_ASSISTANT_ACTIONS
        others = allowed - from_home
        if not others or (from_home and draw(st.integers(0, 5)) == 0):
            alert = A.NEW_ALERT in from_home and draw(st.booleans())
            kind = A.NEW_ALERT if alert else draw(st.sampled_from(sorted(from_home)))
        else:
            # Identifications end the calls too: half as likely as the other results.
            if len(others) > 1 and A.IDENTIFIED in others and draw(st.booleans()):
                others -= {A.IDENTIFIED}
            kind = draw(st.sampled_from(sorted(others)))
        action = action_for(state, kind, now, draw(st.integers(0, state.contacts - 1)))
        if kind is A.SECOND_ROUND:
            action = Action(kind, draw(st.sampled_from([TIMER, OPERATOR])), now)
        after = apply(state, action)
        history.append((state, action, after))
        state = after
    return history


def final(history: list[tuple[CaseState, Action, CaseState]]) -> CaseState | None:
    return history[-1][2] if history else None


@PROPERTY_SETTINGS
@given(walks())
def test_no_guard_before_the_rules_allow(
    history: list[tuple[CaseState, Action, CaseState]],
) -> None:
    for before, action, after in history:
        if after.phase is not Phase.GUARD_REQUIRED or before.phase in GUARD_PHASES:
            continue
        if action.kind is A.OWNER_DURESS:
            assert after.guard_reason is GuardReason.DURESS and after.duress
        elif action.kind is A.SITUATION_ABNORMAL:
            # Said by an identified contact, or seen in round 2 after a wrong code.
            assert before.phase in {Phase.IDENTIFIED, Phase.ASSESSING}
            assert after.guard_reason is GuardReason.CONFIRMED_ALARM
        elif before.phase is Phase.CONFIRMING:
            assert action.kind is A.WRONG_IDENTIFICATION
            assert after.guard_reason is GuardReason.CONFIRMED_ALARM
        else:
            # Still nobody after the second round: every contact tried again, none identified.
            assert after.guard_reason is GuardReason.NOBODY_REACHED
            round_two = [
                step
                for phase, round_, step in with_phase_before(after)
                if round_ == 2 and phase is not Phase.WAITING
            ]
            tried = {s.contact for s in round_two if s.action in CALL_ENDS_WITHOUT_IDENTIFICATION}
            assert tried == set(range(after.contacts))
            assert A.IDENTIFIED not in {s.action for s in round_two}
    for before, action, _after in history:
        if action.kind is A.DISPATCH_GUARD:
            assert before.phase is Phase.GUARD_REQUIRED


@PROPERTY_SETTINGS
@given(walks())
def test_second_round_only_after_the_wait_or_a_new_alert(
    history: list[tuple[CaseState, Action, CaseState]],
) -> None:
    alert_in_round_one = False
    for before, action, after in history:
        if before.round == 1 and action.kind is A.NEW_ALERT:
            alert_in_round_one = True
        if after.phase is Phase.WAITING and before.phase is not Phase.WAITING:
            assert after.deadline == action.at + CALL_BACK_WAIT
            assert not alert_in_round_one
        if before.phase is Phase.WAITING and action.kind is A.NEW_ALERT:
            # The seed: "ou si une nouvelle alerte est arrivée entretemps".
            assert (after.phase, after.round, after.contact) == (Phase.CALLING, 2, 0)
        if before.round == 1 and after.round == 2:
            assert after.phase is Phase.CALLING and after.contact == 0
            if before.phase is Phase.WAITING:
                assert before.deadline is not None
                assert action.at >= before.deadline or action.kind in {
                    A.NEW_ALERT,
                    A.WRONG_IDENTIFICATION,
                }
            else:
                assert alert_in_round_one


@PROPERTY_SETTINGS
@given(walks())
def test_closes_only_with_an_allowed_outcome(
    history: list[tuple[CaseState, Action, CaseState]],
) -> None:
    for before, action, after in history:
        if not after.closed:
            assert after.outcome is None
            continue
        done = {step.action for step in after.steps}
        if after.outcome is Outcome.FALSE_ALARM:
            # Said by a contact whose password was right (last step into IDENTIFIED).
            assert before.phase is Phase.IDENTIFIED
            entered = [
                step
                for phase, _round, step in with_phase_before(after)
                if step.phase is Phase.IDENTIFIED and phase is not Phase.IDENTIFIED
            ]
            assert entered[-1].action is A.IDENTIFIED
            assert entered[-1].contact == after.steps[-1].contact
            assert before.guard_reason is None and not after.duress
        elif after.outcome is Outcome.GUARD_CHECKED:
            assert before.phase is Phase.GUARD_DISPATCHED and A.DISPATCH_GUARD in done
        else:
            assert after.outcome is Outcome.CANCELLED_BY_OWNER
            assert action.kind is A.OWNER_CANCEL and action.actor == HOME_ASSISTANT
            assert A.DISPATCH_GUARD not in done
            assert before.guard_reason in {None, GuardReason.NOBODY_REACHED}
        # A confirmed alarm or a duress ends only with a guard's report.
        if any(s.action in {A.OWNER_DURESS, A.SITUATION_ABNORMAL} for s in after.steps):
            assert after.outcome is Outcome.GUARD_CHECKED


@PROPERTY_SETTINGS
@given(walks())
def test_fire_never_asks_to_repeat_and_confirm(
    history: list[tuple[CaseState, Action, CaseState]],
) -> None:
    for before, _action, after in history:
        if after.kind is CaseKind.FIRE:
            assert after.phase not in {Phase.ASSESSING, Phase.CONFIRMING}
            assert before.phase not in {Phase.ASSESSING, Phase.CONFIRMING}
            assert A.SITUATION_NORMAL not in {step.action for step in after.steps}


@PROPERTY_SETTINGS
@given(walks(), st.integers(0, 900))
def test_allowed_actions_and_apply_agree(
    history: list[tuple[CaseState, Action, CaseState]], seconds: int
) -> None:
    states = [open_case(CaseKind.INTRUSION, 2, T0)] + [after for _b, _a, after in history]
    for state in states:
        now = state.last_time + timedelta(seconds=seconds)
        allowed = allowed_actions(state, now)
        assert (not allowed) == state.closed
        for kind in A:
            actions = [action_for(state, kind, now)]
            if kind is A.SECOND_ROUND:
                actions = [Action(kind, TIMER, now), Action(kind, OPERATOR, now)]
            for action in actions:
                if kind in allowed:
                    after = apply(state, action)
                    assert after.steps[:-1] == state.steps
                    assert after.steps[-1].action is kind and after.steps[-1].at == now
                else:
                    with pytest.raises(ProtocolError):
                        apply(state, action)
        # Before the last step, nothing is allowed (and apply refuses it all).
        if state.steps:
            assert allowed_actions(state, state.last_time - timedelta(seconds=1)) == frozenset()


@PROPERTY_SETTINGS
@given(walks())
def test_json_round_trip_is_identity(history: list[tuple[CaseState, Action, CaseState]]) -> None:
    state = final(history) or open_case(CaseKind.TAMPER, 1, T0)
    record = to_record(state)
    stored = json.loads(json.dumps(record))
    assert stored == record
    assert from_record(stored) == state
    assert to_record(from_record(stored)) == record


TAMPERINGS = st.sampled_from(
    [
        ("phase", [p.value for p in Phase]),
        ("round", [1, 2, 3]),
        ("contact", [None, 0, 1]),
        ("deadline", [None, "2026-11-28T03:30:00+00:00"]),
        ("outcome", [None, *[o.value for o in Outcome]]),
        ("guard_reason", [None, *[g.value for g in GuardReason]]),
        ("duress", [True, False]),
        ("alert_pending", [True, False]),
        ("kind", [k.value for k in CaseKind]),
        ("contacts", [1, 2]),
        ("opened_at", ["2026-11-28T02:59:00+00:00"]),
    ]
)
STEP_TAMPERINGS = st.sampled_from(
    [
        ("action", [a.value for a in A]),
        ("actor", [OPERATOR, HOME_ASSISTANT, TIMER, 99]),
        ("contact", [None, 0, 1]),
        ("phase", [p.value for p in Phase]),
        ("round", [1, 2]),
        ("at", ["2026-11-28T02:00:00+00:00", "2026-11-29T02:00:00+00:00"]),
    ]
)


@PROPERTY_SETTINGS
@given(walks(), TAMPERINGS, STEP_TAMPERINGS, st.data())
def test_tampered_records_are_refused(
    history: list[tuple[CaseState, Action, CaseState]],
    tampering: tuple[str, list[object]],
    step_tampering: tuple[str, list[object]],
    data: st.DataObject,
) -> None:
    state = final(history) or open_case(CaseKind.FIRE, 2, T0)
    record = to_record(state)
    key, values = tampering
    record[key] = data.draw(st.sampled_from(values))
    if record["steps"]:
        step = record["steps"][data.draw(st.integers(0, len(record["steps"]) - 1))]
        step_key, step_values = step_tampering
        step[step_key] = data.draw(st.sampled_from(step_values))
    if record == to_record(state):
        assert from_record(record) == state
        return
    try:
        loaded = from_record(record)
    except InvalidCaseState:
        return
    # Some edits describe another history the protocol allows (an operator's id, a later
    # time for the last step): then the record must be exactly that history's.
    assert to_record(loaded) == record
