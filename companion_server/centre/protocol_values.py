"""The call protocol's vocabulary: case kinds, phases, actions, steps, the case state, errors.

Everything here is immutable and clock-free: times come in with each action, so a case can be
stored, reloaded by another portal instance and carried on from the same point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Literal

from companion_server.errors import RuleViolation, ServiceError
from companion_server.i18n import N_

# The seed: "le centre temporise 10 minutes, dans l'attente d'un rappel".
CALL_BACK_WAIT: Final = timedelta(minutes=10)
# A first contact (required) and an optional second one (M8, M9).
MAX_CONTACTS: Final = 2
MAX_NOTE: Final = 2000

HOME_ASSISTANT: Final = "home_assistant"
TIMER: Final = "timer"
# An operator's user id, the homeowner's Home Assistant, or the centre's timer.
type Actor = int | Literal["home_assistant", "timer"]


class CaseKind(StrEnum):
    """What the alarm is about."""

    INTRUSION = "intrusion"
    AGGRESSION = "aggression"
    TAMPER = "tamper"
    FIRE = "fire"


class Phase(StrEnum):
    """Where a case stands in the protocol."""

    CALLING = "calling"  # calling ``contact`` in ``round``
    LEAVING_MESSAGE = "leaving_message"  # the contact did not answer: leave a message
    WAITING = "waiting"  # nobody reached in round 1: wait for a call back until ``deadline``
    ASSESSING = "assessing"  # round 2, wrong identification: does the situation seem normal?
    CONFIRMING = "confirming"  # the contact repeats the code
    IDENTIFIED = "identified"  # a contact is identified and says what is going on
    GUARD_REQUIRED = "guard_required"  # the protocol requires a guard: send one
    GUARD_DISPATCHED = "guard_dispatched"  # a guard is on the way or on site
    CLOSED = "closed"


class ActionKind(StrEnum):
    """A step an operator records, or an event from Home Assistant or the timer."""

    IDENTIFIED = "identified"  # the password heard matches
    WRONG_IDENTIFICATION = "wrong_identification"  # it does not, or none was given
    NO_ANSWER = "no_answer"
    MESSAGE_LEFT = "message_left"
    NO_VOICEMAIL = "no_voicemail"  # no answer and no way to leave a message
    SITUATION_NORMAL = "situation_normal"
    SITUATION_ABNORMAL = "situation_abnormal"
    FALSE_ALARM = "false_alarm"
    DISPATCH_GUARD = "dispatch_guard"
    GUARD_FINISHED = "guard_finished"
    SECOND_ROUND = "second_round"  # the wait for a call back is over
    NEW_ALERT = "new_alert"
    OWNER_CANCEL = "owner_cancel"  # a cancel from Home Assistant with the right password
    OWNER_CANCEL_REFUSED = "owner_cancel_refused"  # a cancel with a wrong password
    OWNER_DURESS = "owner_duress"  # the duress password: looks like a cancel at home


class GuardReason(StrEnum):
    """Why the protocol sends a guard."""

    CONFIRMED_ALARM = "confirmed_alarm"  # situation abnormal or the confirmation was wrong
    DURESS = "duress"
    NOBODY_REACHED = "nobody_reached"  # still nobody after the second round


class Outcome(StrEnum):
    """The only ways a case closes."""

    FALSE_ALARM = "false_alarm"  # said by an identified contact
    CANCELLED_BY_OWNER = "cancelled_by_owner"  # identified by the owner in Home Assistant
    GUARD_CHECKED = "guard_checked"  # a guard was sent and has reported


OPERATOR_ACTIONS: Final = frozenset(
    {
        ActionKind.IDENTIFIED,
        ActionKind.WRONG_IDENTIFICATION,
        ActionKind.NO_ANSWER,
        ActionKind.MESSAGE_LEFT,
        ActionKind.NO_VOICEMAIL,
        ActionKind.SITUATION_NORMAL,
        ActionKind.SITUATION_ABNORMAL,
        ActionKind.FALSE_ALARM,
        ActionKind.DISPATCH_GUARD,
        ActionKind.GUARD_FINISHED,
    }
)
HOME_ASSISTANT_ACTIONS: Final = frozenset(
    {
        ActionKind.NEW_ALERT,
        ActionKind.OWNER_CANCEL,
        ActionKind.OWNER_CANCEL_REFUSED,
        ActionKind.OWNER_DURESS,
    }
)
# The second round starts when the timer fires, or when an operator starts it after the
# deadline (whichever comes first; the other one is then refused).
TIMER_ACTIONS: Final = frozenset({ActionKind.SECOND_ROUND})

NOT_ALLOWED: Final = N_("This step is not allowed at this point of the call protocol.")
CLOSED: Final = N_("This case is closed: no further step can be recorded.")
WAIT_NOT_OVER: Final = N_("The wait for a call back (10 minutes) is not over yet.")
OPERATOR_ONLY: Final = N_("Only an operator can record this step.")
HOME_ASSISTANT_ONLY: Final = N_("Only the homeowner's Home Assistant can send this event.")
TIMER_OR_OPERATOR: Final = N_("Only an operator or the centre's timer can start the second round.")
WHO_CALLED_BACK: Final = N_("Choose the contact who called back.")
NO_SUCH_CONTACT: Final = N_("There is no such contact in this case.")
TIME_WENT_BACK: Final = N_("A step cannot be dated before the previous one.")
NOTE_TOO_LONG: Final = N_("The note is too long (at most {max} characters).")
NO_FIRST_CONTACT: Final = N_("A case cannot open without a first contact.")
INVALID_RECORD: Final = N_("The stored case record is invalid; it was not loaded.")


class ProtocolError(RuleViolation):
    """The call protocol refuses a step; nothing changes."""


class ActionNotAllowed(ProtocolError):
    """The action is not one the protocol offers in this phase."""

    def __init__(self, message: str, phase: Phase, action: ActionKind) -> None:
        """Keep the phase and action for the logs."""
        super().__init__(message)
        self.phase = phase
        self.action = action


class WrongActor(ProtocolError):
    """The action may not come from this actor (an operator sending a Home Assistant event)."""


class InvalidStep(ProtocolError):
    """The action's details are wrong: a contact that does not exist, a time going back."""


class InvalidCaseState(ServiceError):
    """A stored case does not hold together (tampered, unknown values, or a newer format)."""

    def __init__(self, detail: str) -> None:
        """Keep a translatable message for people and the exact problem for the logs."""
        super().__init__(INVALID_RECORD)
        self.detail = detail

    def __str__(self) -> str:
        """The exact problem."""
        return f"invalid case record: {self.detail}"


@dataclass(frozen=True, slots=True)
class Action:
    """What someone did, when: the input of :func:`call_protocol.apply`.

    ``contact`` (0 = first contact) names who called back during the wait; elsewhere the
    protocol knows whom the operator is calling and ``contact`` may be left out.
    """

    kind: ActionKind
    actor: Actor
    at: datetime
    contact: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded step: who, when, what, about which contact, and where it led."""

    at: datetime
    actor: Actor
    action: ActionKind
    contact: int | None
    note: str
    phase: Phase
    round: int


@dataclass(frozen=True, slots=True)
class CaseState:
    """A case: what it is about, where it stands, and every step so far (oldest first)."""

    kind: CaseKind
    contacts: int
    opened_at: datetime
    phase: Phase = Phase.CALLING
    round: int = 1
    contact: int | None = 0
    deadline: datetime | None = None
    alert_pending: bool = False  # a new alert came during round 1: no wait before round 2
    guard_reason: GuardReason | None = None
    duress: bool = False  # never to be shown in Home Assistant: it must look like a cancel
    outcome: Outcome | None = None
    steps: tuple[Step, ...] = field(default=())

    @property
    def closed(self) -> bool:
        """Whether the case is over."""
        return self.phase is Phase.CLOSED

    @property
    def last_time(self) -> datetime:
        """When the last step happened (the opening when there is none)."""
        return self.steps[-1].at if self.steps else self.opened_at
