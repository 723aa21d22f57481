"""Send a message to the centre over TCP, wait for its answer, retry within bounds.

One connection per attempt: connect, send, read one answer, close. A retry of the same
message keeps its sequence number (DC-09: the receiver recognises a repeat by it); the
caller passes the sequence number and the attempts already made, and gets both back, so
that a database can own them across restarts.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from companion_server.centre.sia.answers import BARE_NAK, AnswerError, AnswerKind, parse_answer
from companion_server.centre.sia.crypto import PadSource, random_pad
from companion_server.centre.sia.framing import CR, FramingError
from companion_server.centre.sia.messages import event_message, null_message

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from companion_server.centre.sia.events import AlarmEvent
    from companion_server.centre.sia.settings import CentreSettings

# A NAK whose clock differs from ours by more than this says our clock is wrong
# (receivers accept messages stamped from 40 s behind to 20 s ahead of their clock).
SKEW_TOLERANCE: Final = timedelta(seconds=10)
_MAX_ANSWER: Final = 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait for an answer and how often to try within one call."""

    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 2.0
    max_backoff: float = 30.0

    def pause(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1, 2, ...): doubling, bounded."""
        return float(min(self.backoff * 2 ** (retry - 1), self.max_backoff))


class Failure(StrEnum):
    """Why a message was not delivered."""

    NAK = "nak"
    DUH = "duh"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    NO_ANSWER = "no_answer"
    INVALID_ANSWER = "invalid_answer"


@dataclass(frozen=True, slots=True)
class Delivered:
    """The centre acknowledged the message."""

    sequence: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """The message was refused, or no valid answer came after every attempt."""

    sequence: int
    attempts: int
    failure: Failure
    receiver_time: datetime | None = None

    @property
    def retry_later(self) -> bool:
        """Whether sending the same message later may succeed (the link, not the content)."""
        return self.failure not in {Failure.NAK, Failure.DUH}


Result = Delivered | Rejected


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class SiaTransmitter:
    """A DC-09 transmitter for one company's centre."""

    def __init__(
        self,
        settings: CentreSettings,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pad: PadSource = random_pad,
    ) -> None:
        """Prepare the transmitter; nothing is sent before :meth:`send` or :meth:`link_test`."""
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._pad = pad
        self.clock_offset = timedelta()

    def now(self) -> datetime:
        """Our clock, corrected by what the centre's last clock-skew NAK taught us."""
        return self._clock() + self.clock_offset

    async def send(self, event: AlarmEvent, *, sequence: int, attempts_so_far: int = 0) -> Result:
        """Deliver ``event`` as message ``sequence`` (1..9999)."""

        def build() -> bytes:
            return event_message(
                self.settings, event, sequence=sequence, now=self.now(), pad=self._pad
            )

        return await self._deliver(build, sequence, attempts_so_far)

    async def link_test(self, *, sequence: int, attempts_so_far: int = 0) -> Result:
        """Send the ``NULL`` message: the centre's ACK proves the link and the settings."""

        def build() -> bytes:
            return null_message(self.settings, sequence=sequence, now=self.now(), pad=self._pad)

        return await self._deliver(build, sequence, attempts_so_far)

    async def _deliver(
        self, build: Callable[[], bytes], sequence: int, attempts_so_far: int
    ) -> Result:
        attempts = attempts_so_far
        failure = Failure.TIMEOUT
        receiver_time: datetime | None = None
        corrected = False
        for index in range(self.policy.attempts):
            if index and not corrected:
                await self._sleep(self.policy.pause(index))
            message = build()  # stamped anew: a retry must not carry a stale time
            attempts += 1
            corrected = False
            receiver_time = None
            try:
                answer = parse_answer(
                    await asyncio.wait_for(self._exchange(message), self.policy.timeout),
                    self.settings,
                    sequence,
                )
            except TimeoutError:
                failure = Failure.TIMEOUT
                continue
            except (AnswerError, FramingError):
                failure = Failure.INVALID_ANSWER
                continue
            except EOFError:
                failure = Failure.NO_ANSWER
                continue
            except OSError:
                failure = Failure.UNREACHABLE
                continue
            if answer.kind is AnswerKind.ACK:
                return Delivered(sequence, attempts)
            if answer.kind is AnswerKind.DUH:
                return Rejected(sequence, attempts, Failure.DUH)
            failure, receiver_time = Failure.NAK, answer.receiver_time
            if not self._correct_clock(receiver_time):
                return Rejected(sequence, attempts, failure, receiver_time)
            corrected = True  # resend at once, stamped with the centre's time
        return Rejected(sequence, attempts, failure, receiver_time)

    def _correct_clock(self, receiver_time: datetime | None) -> bool:
        """Adopt the centre's clock when a NAK shows ours is off; whether it was."""
        if receiver_time is None:
            return False
        skew = receiver_time - self.now()
        if abs(skew) <= SKEW_TOLERANCE:
            return False
        self.clock_offset += skew
        return True

    async def _exchange(self, message: bytes) -> bytes:
        """Send ``message`` on a new connection and return the answer's bytes."""
        reader, writer = await asyncio.open_connection(self.settings.host, self.settings.port)
        try:
            writer.write(message)
            await writer.drain()
            answer = b""
            while CR not in answer and not BARE_NAK.fullmatch(answer):
                if len(answer) > _MAX_ANSWER:
                    raise AnswerError("answer too long")
                chunk = await reader.read(_MAX_ANSWER)
                if not chunk:
                    raise EOFError("the centre closed the connection without answering")
                answer += chunk
            return answer.partition(CR)[0] + CR if CR in answer else answer
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()
