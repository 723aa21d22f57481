"""The monitoring centre's call protocol, walked through case by case (seed 001, M2-M6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from companion_server.centre.call_protocol import (
    allowed_actions,
    apply,
    open_case,
    queue_key,
)
from companion_server.centre.protocol_values import (
    CALL_BACK_WAIT,
    HOME_ASSISTANT,
    TIMER,
    Action,
    ActionKind as A,
    ActionNotAllowed,
    Actor,
    CaseKind,
    CaseState,
    GuardReason,
    InvalidStep,
    Outcome,
    Phase,
    ProtocolError,
    WrongActor,
)
from companion_server.i18n import translator

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
OPERATOR = 7
NOT_FIRE = [CaseKind.INTRUSION, CaseKind.AGGRESSION, CaseKind.TAMPER]


class Walk:
    """A case and a fake clock: each step happens ``minutes`` after the previous one."""

    def __init__(self, kind: CaseKind, contacts: int = 2) -> None:
        self.now = T0
        self.state = open_case(kind, contacts, T0)

    def do(
        self,
        kind: A,
        actor: Actor = OPERATOR,
        *,
        minutes: float = 1,
        contact: int | None = None,
        note: str = "",
    ) -> CaseState:
        self.now += timedelta(minutes=minutes)
        self.state = apply(self.state, Action(kind, actor, self.now, contact, note))
        return self.state

    def nobody_in_round_one(self) -> CaseState:
        for _ in range(self.state.contacts):
            self.do(A.NO_ANSWER)
            self.do(A.MESSAGE_LEFT)
        return self.state

    def round_two(self) -> CaseState:
        self.nobody_in_round_one()
        return self.do(A.SECOND_ROUND, TIMER, minutes=10)


@pytest.mark.parametrize("kind", list(CaseKind))
def test_nobody_reached_twice_sends_a_guard(kind: CaseKind) -> None:
    walk = Walk(kind)
    assert walk.state.phase is Phase.CALLING and walk.state.contact == 0
    assert walk.do(A.NO_ANSWER).phase is Phase.LEAVING_MESSAGE
    assert allowed_actions(walk.state, walk.now, OPERATOR) == {A.MESSAGE_LEFT, A.NO_VOICEMAIL}
    state = walk.do(A.MESSAGE_LEFT)
    assert (state.phase, state.contact) == (Phase.CALLING, 1)
    walk.do(A.NO_ANSWER)
    state = walk.do(A.NO_VOICEMAIL)
    assert state.phase is Phase.WAITING
    assert state.deadline == walk.now + CALL_BACK_WAIT
    # The timer is a deadline: one second early, the second round is refused.
    early = walk.now + CALL_BACK_WAIT - timedelta(seconds=1)
    assert A.SECOND_ROUND not in allowed_actions(state, early)
    with pytest.raises(ActionNotAllowed) as refused:
        apply(state, Action(A.SECOND_ROUND, TIMER, early))
    assert refused.value.message == "The wait for a call back (10 minutes) is not over yet."
    state = walk.do(A.SECOND_ROUND, TIMER, minutes=10)
    assert (state.phase, state.round, state.contact, state.deadline) == (
        Phase.CALLING,
        2,
        0,
        None,
    )
    walk.do(A.NO_ANSWER)
    walk.do(A.MESSAGE_LEFT)
    walk.do(A.NO_ANSWER)
    state = walk.do(A.MESSAGE_LEFT)
    assert (state.phase, state.guard_reason) == (Phase.GUARD_REQUIRED, GuardReason.NOBODY_REACHED)
    assert allowed_actions(state, walk.now, OPERATOR) == {A.DISPATCH_GUARD}
    assert walk.do(A.DISPATCH_GUARD).phase is Phase.GUARD_DISPATCHED
    state = walk.do(A.GUARD_FINISHED, minutes=25, note="Doors locked, nothing seen.")
    assert (state.phase, state.outcome) == (Phase.CLOSED, Outcome.GUARD_CHECKED)
    assert allowed_actions(state, walk.now) == frozenset()
    assert [step.action for step in state.steps] == [
        A.NO_ANSWER, A.MESSAGE_LEFT, A.NO_ANSWER, A.NO_VOICEMAIL, A.SECOND_ROUND,
        A.NO_ANSWER, A.MESSAGE_LEFT, A.NO_ANSWER, A.MESSAGE_LEFT,
        A.DISPATCH_GUARD, A.GUARD_FINISHED,
    ]  # fmt: skip
    assert [step.contact for step in state.steps[:4]] == [0, 0, 1, 1]
    assert state.steps[4].actor == TIMER and state.steps[4].contact is None
    assert state.steps[-1].note == "Doors locked, nothing seen."
    assert all(a.at <= b.at for a, b in zip(state.steps, state.steps[1:], strict=False))


@pytest.mark.parametrize("kind", list(CaseKind))
def test_identified_contact_reports_a_false_alarm(kind: CaseKind) -> None:
    walk = Walk(kind)
    state = walk.do(A.IDENTIFIED)
    assert (state.phase, state.contact) == (Phase.IDENTIFIED, 0)
    assert allowed_actions(state, walk.now, OPERATOR) == {A.FALSE_ALARM, A.SITUATION_ABNORMAL}
    state = walk.do(A.FALSE_ALARM)
    assert (state.phase, state.outcome) == (Phase.CLOSED, Outcome.FALSE_ALARM)
    with pytest.raises(ActionNotAllowed) as refused:
        walk.do(A.NEW_ALERT, HOME_ASSISTANT)
    assert refused.value.message == "This case is closed: no further step can be recorded."


@pytest.mark.parametrize("kind", list(CaseKind))
def test_identified_contact_reports_something_wrong(kind: CaseKind) -> None:
    walk = Walk(kind)
    walk.do(A.NO_ANSWER)
    walk.do(A.MESSAGE_LEFT)
    walk.do(A.IDENTIFIED)
    state = walk.do(A.SITUATION_ABNORMAL)
    assert state.steps[-2].contact == 1
    assert (state.phase, state.guard_reason) == (Phase.GUARD_REQUIRED, GuardReason.CONFIRMED_ALARM)


@pytest.mark.parametrize("kind", list(CaseKind))
def test_round_one_wrong_identification_calls_the_next_contact(kind: CaseKind) -> None:
    walk = Walk(kind)
    state = walk.do(A.WRONG_IDENTIFICATION)
    assert (state.phase, state.round, state.contact) == (Phase.CALLING, 1, 1)
    assert walk.do(A.WRONG_IDENTIFICATION).phase is Phase.WAITING


@pytest.mark.parametrize("kind", NOT_FIRE)
def test_round_two_wrong_code_situation_normal_asks_to_repeat(kind: CaseKind) -> None:
    walk = Walk(kind)
    walk.round_two()
    state = walk.do(A.WRONG_IDENTIFICATION)
    assert state.phase is Phase.ASSESSING
    assert allowed_actions(state, walk.now, OPERATOR) == {
        A.SITUATION_NORMAL,
        A.SITUATION_ABNORMAL,
    }
    state = walk.do(A.SITUATION_NORMAL)
    assert state.phase is Phase.CONFIRMING
    assert allowed_actions(state, walk.now, OPERATOR) == {A.IDENTIFIED, A.WRONG_IDENTIFICATION}
    state = walk.do(A.IDENTIFIED)
    assert (state.phase, state.contact) == (Phase.IDENTIFIED, 0)
    assert walk.do(A.FALSE_ALARM).outcome is Outcome.FALSE_ALARM


@pytest.mark.parametrize("kind", NOT_FIRE)
def test_round_two_confirmation_wrong_is_a_confirmed_alarm(kind: CaseKind) -> None:
    walk = Walk(kind)
    walk.round_two()
    walk.do(A.NO_ANSWER)
    walk.do(A.MESSAGE_LEFT)
    walk.do(A.WRONG_IDENTIFICATION)
    walk.do(A.SITUATION_NORMAL)
    state = walk.do(A.WRONG_IDENTIFICATION)
    assert (state.phase, state.guard_reason) == (Phase.GUARD_REQUIRED, GuardReason.CONFIRMED_ALARM)
    assert state.steps[-1].contact == 1
    # Only a guard ends a confirmed alarm: not the owner's cancel.
    with pytest.raises(ActionNotAllowed):
        walk.do(A.OWNER_CANCEL, HOME_ASSISTANT)


@pytest.mark.parametrize("kind", NOT_FIRE)
def test_round_two_wrong_code_situation_abnormal_is_a_confirmed_alarm(kind: CaseKind) -> None:
    walk = Walk(kind)
    walk.round_two()
    walk.do(A.WRONG_IDENTIFICATION)
    state = walk.do(A.SITUATION_ABNORMAL)
    assert state.guard_reason is GuardReason.CONFIRMED_ALARM


def test_fire_never_asks_to_repeat_the_code() -> None:
    walk = Walk(CaseKind.FIRE)
    walk.round_two()
    state = walk.do(A.WRONG_IDENTIFICATION)
    assert (state.phase, state.round, state.contact) == (Phase.CALLING, 2, 1)
    assert A.SITUATION_NORMAL not in allowed_actions(state, walk.now)
    state = walk.do(A.WRONG_IDENTIFICATION)
    assert (state.phase, state.guard_reason) == (Phase.GUARD_REQUIRED, GuardReason.NOBODY_REACHED)


@pytest.mark.parametrize("kind", list(CaseKind))
def test_new_alert_during_the_wait_starts_the_second_round_at_once(kind: CaseKind) -> None:
    walk = Walk(kind)
    deadline = walk.nobody_in_round_one().deadline
    state = walk.do(A.NEW_ALERT, HOME_ASSISTANT, minutes=2)
    assert walk.now < deadline  # type: ignore[operator]
    assert (state.phase, state.round, state.contact, state.deadline) == (
        Phase.CALLING,
        2,
        0,
        None,
    )
    assert state.steps[-1].actor == HOME_ASSISTANT


def test_new_alert_during_round_one_skips_the_wait() -> None:
    walk = Walk(CaseKind.INTRUSION)
    walk.do(A.NO_ANSWER)
    assert walk.do(A.NEW_ALERT, HOME_ASSISTANT).alert_pending
    walk.do(A.MESSAGE_LEFT)
    walk.do(A.WRONG_IDENTIFICATION)
    state = walk.state
    assert (state.phase, state.round, state.contact, state.alert_pending) == (
        Phase.CALLING,
        2,
        0,
        False,
    )


def test_new_alert_elsewhere_is_kept_in_the_history() -> None:
    walk = Walk(CaseKind.TAMPER)
    walk.do(A.IDENTIFIED)
    state = walk.do(A.NEW_ALERT, HOME_ASSISTANT)
    assert state.phase is Phase.IDENTIFIED and state.steps[-1].action is A.NEW_ALERT


def test_call_back_during_the_wait() -> None:
    walk = Walk(CaseKind.INTRUSION)
    walk.nobody_in_round_one()
    with pytest.raises(InvalidStep) as no_contact:
        walk.do(A.IDENTIFIED)
    assert no_contact.value.message == "Choose the contact who called back."
    with pytest.raises(InvalidStep):
        walk.do(A.IDENTIFIED, contact=2)
    state = walk.do(A.IDENTIFIED, contact=1)
    assert (state.phase, state.contact, state.steps[-1].contact) == (Phase.IDENTIFIED, 1, 1)


def test_call_back_with_a_wrong_code_starts_the_second_round() -> None:
    walk = Walk(CaseKind.INTRUSION)
    walk.nobody_in_round_one()
    state = walk.do(A.WRONG_IDENTIFICATION, contact=0)
    assert (state.phase, state.round, state.contact) == (Phase.CALLING, 2, 0)


def test_one_contact_only() -> None:
    walk = Walk(CaseKind.AGGRESSION, contacts=1)
    walk.do(A.NO_ANSWER)
    assert walk.do(A.MESSAGE_LEFT).phase is Phase.WAITING
    walk.do(A.SECOND_ROUND, OPERATOR, minutes=10)
    walk.do(A.NO_ANSWER)
    assert walk.do(A.NO_VOICEMAIL).phase is Phase.GUARD_REQUIRED


@pytest.mark.parametrize("kind", list(CaseKind))
def test_owner_cancel_from_home_assistant_closes_as_identified_by_the_owner(
    kind: CaseKind,
) -> None:
    walk = Walk(kind)
    walk.nobody_in_round_one()
    walk.do(A.OWNER_CANCEL_REFUSED, HOME_ASSISTANT)
    assert walk.state.phase is Phase.WAITING
    state = walk.do(A.OWNER_CANCEL, HOME_ASSISTANT)
    assert (state.phase, state.outcome) == (Phase.CLOSED, Outcome.CANCELLED_BY_OWNER)
    assert state.steps[-1].actor == HOME_ASSISTANT


def test_owner_cancel_stops_a_guard_not_yet_sent_for_want_of_an_answer() -> None:
    walk = Walk(CaseKind.INTRUSION, contacts=1)
    walk.round_two()
    walk.do(A.NO_ANSWER)
    walk.do(A.MESSAGE_LEFT)
    assert A.OWNER_CANCEL in allowed_actions(walk.state, walk.now)
    walk.do(A.DISPATCH_GUARD)
    assert A.OWNER_CANCEL not in allowed_actions(walk.state, walk.now)
    with pytest.raises(ActionNotAllowed):
        walk.do(A.OWNER_CANCEL, HOME_ASSISTANT)


@pytest.mark.parametrize("kind", list(CaseKind))
def test_duress_password_is_a_confirmed_alarm(kind: CaseKind) -> None:
    walk = Walk(kind)
    state = walk.do(A.OWNER_DURESS, HOME_ASSISTANT)
    assert (state.phase, state.guard_reason, state.duress) == (
        Phase.GUARD_REQUIRED,
        GuardReason.DURESS,
        True,
    )
    with pytest.raises(ActionNotAllowed):
        walk.do(A.OWNER_CANCEL, HOME_ASSISTANT)
    walk.do(A.DISPATCH_GUARD)
    # A second duress after the guard left is still taken (never refused).
    state = walk.do(A.OWNER_DURESS, HOME_ASSISTANT)
    assert state.phase is Phase.GUARD_DISPATCHED and state.duress
    assert walk.do(A.GUARD_FINISHED).outcome is Outcome.GUARD_CHECKED


def test_duress_after_a_guard_was_sent_for_want_of_an_answer() -> None:
    walk = Walk(CaseKind.INTRUSION, contacts=1)
    walk.round_two()
    walk.do(A.NO_ANSWER)
    walk.do(A.MESSAGE_LEFT)
    walk.do(A.DISPATCH_GUARD)
    state = walk.do(A.OWNER_DURESS, HOME_ASSISTANT)
    assert (state.phase, state.guard_reason) == (Phase.GUARD_DISPATCHED, GuardReason.DURESS)


def test_who_may_send_what() -> None:
    walk = Walk(CaseKind.INTRUSION)
    assert allowed_actions(walk.state, walk.now, OPERATOR) == {
        A.IDENTIFIED,
        A.WRONG_IDENTIFICATION,
        A.NO_ANSWER,
    }
    assert allowed_actions(walk.state, walk.now, HOME_ASSISTANT) == {
        A.NEW_ALERT,
        A.OWNER_CANCEL,
        A.OWNER_CANCEL_REFUSED,
        A.OWNER_DURESS,
    }
    assert allowed_actions(walk.state, walk.now, TIMER) == frozenset()
    with pytest.raises(WrongActor) as operator_cancel:
        walk.do(A.OWNER_CANCEL, OPERATOR)
    assert operator_cancel.value.message == (
        "Only the homeowner's Home Assistant can send this event."
    )
    for actor in (HOME_ASSISTANT, TIMER, 0, True):
        with pytest.raises(WrongActor):
            walk.do(A.IDENTIFIED, actor)  # type: ignore[arg-type]
    walk.nobody_in_round_one()
    with pytest.raises(WrongActor):
        walk.do(A.SECOND_ROUND, HOME_ASSISTANT, minutes=10)
    assert allowed_actions(walk.state, walk.now, TIMER) == {A.SECOND_ROUND}
    assert walk.state.phase is Phase.WAITING


def test_refused_steps_change_nothing_and_say_why_in_every_language() -> None:
    walk = Walk(CaseKind.INTRUSION)
    walk.do(A.NO_ANSWER)
    before = walk.state
    refusals: list[ProtocolError] = []
    for action in (
        Action(A.DISPATCH_GUARD, OPERATOR, walk.now),
        Action(A.MESSAGE_LEFT, OPERATOR, walk.now - timedelta(seconds=1)),
        Action(A.MESSAGE_LEFT, OPERATOR, walk.now, note="x" * 2001),
        Action(A.MESSAGE_LEFT, OPERATOR, walk.now, contact=1),
    ):
        with pytest.raises(ProtocolError) as refused:
            apply(before, action)
        refusals.append(refused.value)
    assert walk.state is before and len(before.steps) == 1
    assert isinstance(refusals[0], ActionNotAllowed)
    assert refusals[0].phase is Phase.LEAVING_MESSAGE and refusals[0].action is A.DISPATCH_GUARD
    assert [type(error) for error in refusals[1:]] == [InvalidStep] * 3
    assert refusals[2].params == {"max": 2000}
    for language in ("fr", "es", "sk"):
        translate = translator(language)
        for error in refusals:
            assert translate(error.message, **error.params) != error.message.format(**error.params)
    # The contact being called may be named explicitly.
    assert walk.do(A.MESSAGE_LEFT, contact=0, minutes=0).contact == 1


def test_opening_a_case() -> None:
    with pytest.raises(ProtocolError) as no_contact:
        open_case(CaseKind.INTRUSION, 0, T0)
    assert no_contact.value.message == "A case cannot open without a first contact."
    with pytest.raises(ValueError, match="at most 2 contacts"):
        open_case(CaseKind.INTRUSION, 3, T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        open_case(CaseKind.INTRUSION, 1, datetime(2026, 1, 1))
    paris = datetime(2026, 11, 28, 4, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert open_case(CaseKind.FIRE, 1, paris).opened_at.tzinfo is UTC


def test_queue_order_aggression_and_fire_then_intrusion_then_tamper_then_age() -> None:
    def case(kind: CaseKind, minute: int) -> CaseState:
        return open_case(kind, 1, T0 + timedelta(minutes=minute))

    cases = [
        case(CaseKind.TAMPER, 0),
        case(CaseKind.INTRUSION, 5),
        case(CaseKind.FIRE, 9),
        case(CaseKind.INTRUSION, 1),
        case(CaseKind.AGGRESSION, 3),
        case(CaseKind.AGGRESSION, 8),
    ]
    ordered = sorted(cases, key=queue_key)
    assert [(c.kind, c.opened_at.minute) for c in ordered] == [
        (CaseKind.AGGRESSION, 3),
        (CaseKind.AGGRESSION, 8),
        (CaseKind.FIRE, 9),
        (CaseKind.INTRUSION, 1),
        (CaseKind.INTRUSION, 5),
        (CaseKind.TAMPER, 0),
    ]
