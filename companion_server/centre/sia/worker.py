"""Send each company's SIA outbox to its receiving centre, in order, with durable retries.

Per company, only the oldest pending message (the head) is sent; the next one waits until
the head is delivered, refused or given up, so a restore never overtakes its alarm. Each
pass sends at most one message per company, while holding the company's turn
(``turns.py``), so two portal instances never send the same message or reuse a number.

A message gets its sequence number at its first attempt and keeps it through every retry
and restart. The worker makes one attempt per turn and keeps the count in the database:
no answer (timeout, refused connection, hang-up, invalid answer) is retried with a
doubling backoff up to ``max_attempts``, then the message is ``failed``; a ``NAK`` (which
may be the centre's clock or an account it is still setting up) is retried up to
``nak_attempts``, a ``DUH`` not at all: then it is ``rejected``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta
import logging
import random
from typing import TYPE_CHECKING, Final, Literal

from sqlalchemy import Select, func, select

from companion_server.centre.sia.client import (
    Delivered,
    Failure,
    Rejected,
    Result,
    RetryPolicy,
    SiaTransmitter,
)
from companion_server.centre.sia.outbox import event_of
from companion_server.centre.sia.turns import take_sequence, with_turn
from companion_server.models import SiaCentre, SiaMessage, SiaState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.centre.sia.events import AlarmEvent
    from companion_server.centre.sia.settings import CentreSettings
    from companion_server.centre.sia.turns import Turn
    from companion_server.core import Core

LOGGER = logging.getLogger(__name__)
BATCH: Final = 20
KEY_UNREADABLE: Final = "key_unreadable"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How the worker paces itself (the defaults suit a real centre)."""

    timeout: float = 10.0
    poll_seconds: float = 1.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    max_attempts: int = 30
    nak_attempts: int = 3

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next attempt: doubling, capped, with 10 % jitter."""
        delay = min(self.retry_base_seconds * 2 ** max(0, attempts - 1), self.retry_max_seconds)
        return timedelta(seconds=delay * random.uniform(0.9, 1.1))


@dataclass(frozen=True, slots=True)
class _Job:
    message_id: int
    sequence: int
    attempts: int
    account: str
    event: AlarmEvent


# The stored key does not open (the portal's secret changed): an admin must enter it again.
Outcome = Result | Literal["key_unreadable"]


class SiaWorker:
    """The sender of one portal process (transmitters kept for their clock correction)."""

    def __init__(self, core: Core, config: WorkerConfig | None = None) -> None:
        """Prepare; nothing is sent before :meth:`deliver_due` or :meth:`run`."""
        self.core = core
        self.config = config or WorkerConfig()
        self._transmitters: dict[int, SiaTransmitter] = {}

    def transmitter(self, company_id: int, settings: CentreSettings) -> SiaTransmitter:
        """The company's transmitter, anew when its settings changed."""
        current = self._transmitters.get(company_id)
        if current is None or current.settings != settings:
            # One attempt per turn: the retries are the outbox's, counted in the database.
            policy = RetryPolicy(timeout=self.config.timeout, attempts=1)
            current = self._transmitters[company_id] = SiaTransmitter(settings, policy)
        return current

    async def deliver_due(self) -> int:
        """Send the head of every company whose head is due; return how many were tried."""
        async with self.core.tx() as db:
            companies = list(await db.scalars(_due_companies(self.core)))
        tried = 0
        for company_id in companies:
            if await self._deliver_head(company_id) is not None:
                tried += 1
        return tried

    async def run(self) -> None:
        """Deliver forever, every ``poll_seconds`` (at once again after a full batch)."""
        while True:
            tried = 0
            try:
                tried = await self.deliver_due()
            except Exception:
                LOGGER.exception("SIA worker failed; retrying")
            if tried < BATCH:
                await asyncio.sleep(self.config.poll_seconds)

    async def _deliver_head(self, company_id: int) -> Outcome | None:
        now = self.core.now()

        async def prepare(db: AsyncSession, centre: SiaCentre, turn: Turn) -> _Job | None:
            head = await db.scalar(
                select(SiaMessage)
                .where(
                    SiaMessage.company_id == company_id,
                    SiaMessage.state == SiaState.PENDING.value,
                )
                .order_by(SiaMessage.id)
                .limit(1)
            )
            if head is None or head.next_attempt_at > now:
                return None  # another sender got there first, or it is not due yet
            if head.sequence is None:
                head.sequence = take_sequence(centre)
            return _Job(head.id, head.sequence, head.attempts, head.account, event_of(head))

        async def send(turn: Turn, job: _Job) -> Outcome:
            if turn.settings is None:
                return KEY_UNREADABLE
            # The message goes out as the account it was queued for.
            settings = replace(turn.settings, account=job.account)
            transmitter = self.transmitter(company_id, settings)
            return await transmitter.send(
                job.event, sequence=job.sequence, attempts_so_far=job.attempts
            )

        async def record(db: AsyncSession, job: _Job, outcome: Outcome) -> None:
            message = await db.get(SiaMessage, job.message_id, populate_existing=True)
            if message is not None:
                self._record(message, outcome)

        return await with_turn(self.core, company_id, self.config.timeout, prepare, send, record)

    def _record(self, message: SiaMessage, outcome: Outcome) -> None:
        finished = self.core.now()
        if isinstance(outcome, Delivered):
            message.attempts = outcome.attempts
            message.state = SiaState.DELIVERED.value
            message.finished_at = finished
            message.last_error = None
            return
        if isinstance(outcome, Rejected):
            message.attempts = outcome.attempts
            message.last_error = outcome.failure.value
        else:
            message.attempts += 1
            message.last_error = outcome
        refused = message.last_error == Failure.DUH or (
            message.last_error == Failure.NAK and message.attempts >= self.config.nak_attempts
        )
        if refused:
            message.state = SiaState.REJECTED.value
        elif message.attempts >= self.config.max_attempts:
            message.state = SiaState.FAILED.value
        else:
            message.next_attempt_at = finished + self.config.backoff(message.attempts)
            LOGGER.warning(
                "SIA message %s (company %s) not delivered: %s; will retry",
                message.id,
                message.company_id,
                message.last_error,
            )
            return
        message.finished_at = finished
        LOGGER.error(
            "Giving up on SIA message %s (company %s): %s",
            message.id,
            message.company_id,
            message.last_error,
        )


def _due_companies(core: Core) -> Select[tuple[int]]:
    heads = (
        select(SiaMessage.company_id, func.min(SiaMessage.id).label("head_id"))
        .where(SiaMessage.state == SiaState.PENDING.value)
        .group_by(SiaMessage.company_id)
        .subquery()
    )
    return (
        select(SiaMessage.company_id)
        .join(heads, SiaMessage.id == heads.c.head_id)
        .join(SiaCentre, SiaCentre.company_id == SiaMessage.company_id)
        .where(SiaCentre.enabled, SiaMessage.next_attempt_at <= core.now())
        .order_by(SiaMessage.next_attempt_at, SiaMessage.id)
        .limit(BATCH)
    )
