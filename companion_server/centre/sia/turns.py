"""One sender at a time per company: the company's centre row is its sending turn.

Messages of a company must leave in order and their sequence numbers must never repeat,
so the turn is the company's, not the message's. Like the mail worker, the turn is held
the way each database allows: on PostgreSQL the row stays locked (``FOR UPDATE SKIP
LOCKED``) while the message is sent and its result recorded, so another instance skips the
company for exactly as long as this one works on it, and a crash releases it; on SQLite
(one portal process) the row is leased for longer than one attempt, which the
transmitter's timeout bounds, and the send happens outside any transaction (a transaction
held during it would hold the database's only write lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import or_, select, update

from companion_server.centre.sia.events import MessageFormat
from companion_server.centre.sia.framing import next_sequence
from companion_server.centre.sia.keystore import KeyUnreadable, unseal
from companion_server.centre.sia.settings import CentreSettings
from companion_server.models import SiaCentre

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

# Time to record a result after the attempt's own bound, before the lease may be taken.
LEASE_MARGIN: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Turn:
    """What a holder of the turn may use: the centre's settings (None: its key is unreadable)."""

    company_id: int
    settings: CentreSettings | None


def centre_settings(core: Core, centre: SiaCentre) -> CentreSettings | None:
    """The transmitter's settings of a stored centre; None when its key does not open."""
    key = None
    if centre.sealed_key is not None:
        try:
            key = unseal(core.settings.secret_key, centre.company_id, centre.sealed_key)
        except KeyUnreadable:
            return None
    return CentreSettings(
        host=centre.host,
        port=centre.port,
        account=centre.account,
        receiver=centre.receiver,
        line=centre.line,
        message_format=MessageFormat(centre.message_format),
        key=key,
    )


def take_sequence(centre: SiaCentre) -> int:
    """The next sequence number of the company's link (only inside its turn)."""
    centre.last_sequence = next_sequence(centre.last_sequence)
    return centre.last_sequence


# The three steps of a turn: find the job (None: nothing to do), send it, record the outcome.
type Prepare[Job] = Callable[[AsyncSession, SiaCentre, Turn], Awaitable[Job | None]]
type Send[Job, Outcome] = Callable[[Turn, Job], Awaitable[Outcome]]
type Record[Job, Outcome] = Callable[[AsyncSession, Job, Outcome], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Steps[Job, Outcome]:
    """The three steps, as the two ways of holding the turn run them."""

    prepare: Prepare[Job]
    send: Send[Job, Outcome]
    record: Record[Job, Outcome]


async def with_turn[Job, Outcome](
    core: Core,
    company_id: int,
    attempt_seconds: float,
    prepare: Prepare[Job],
    send: Send[Job, Outcome],
    record: Record[Job, Outcome],
) -> Outcome | None:
    """Run ``prepare``, ``send``, ``record`` holding the company's turn.

    None when another sender holds it, the company forwards to no centre, or ``prepare``
    found nothing to do. ``prepare`` runs in a transaction that its changes survive (a
    sequence number taken there is kept even if the send never ends); ``record`` runs in
    one where the turn is still this sender's.
    """
    steps = Steps(prepare, send, record)
    if core.engine.dialect.name == "postgresql":
        return await _locked(core, company_id, steps)
    return await _leased(core, company_id, attempt_seconds, steps)


async def _locked[Job, Outcome](
    core: Core,
    company_id: int,
    steps: Steps[Job, Outcome],
) -> Outcome | None:
    async with core.tx() as db:
        centre = await db.scalar(
            select(SiaCentre)
            .where(SiaCentre.company_id == company_id, SiaCentre.enabled)
            .with_for_update(skip_locked=True)
        )
        if centre is None:
            return None
        turn = Turn(company_id, centre_settings(core, centre))
        job = await steps.prepare(db, centre, turn)
        if job is None:
            return None
        outcome = await steps.send(turn, job)
        await steps.record(db, job, outcome)
    return outcome


async def _leased[Job, Outcome](
    core: Core,
    company_id: int,
    attempt_seconds: float,
    steps: Steps[Job, Outcome],
) -> Outcome | None:
    now = core.now()
    until = now + timedelta(seconds=attempt_seconds) + LEASE_MARGIN
    async with core.tx() as db:
        # One statement claims the lease: two senders cannot both see it free.
        claimed = await db.execute(
            update(SiaCentre)
            .where(
                SiaCentre.company_id == company_id,
                SiaCentre.enabled,
                or_(SiaCentre.lease_until.is_(None), SiaCentre.lease_until <= now),
            )
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            return None
        centre = await db.get(SiaCentre, company_id, populate_existing=True)
        assert centre is not None
        turn = Turn(company_id, centre_settings(core, centre))
        job = await steps.prepare(db, centre, turn)
        if job is None:
            centre.lease_until = None
            return None
    # A send that raises (a bug: network failures are results) leaves the lease to expire.
    outcome = await steps.send(turn, job)
    async with core.tx() as db:
        centre = await db.get(SiaCentre, company_id, populate_existing=True)
        # Recorded only while the lease is still this sender's, in the same transaction
        # that ends it: no other sender can take the turn in between.
        if centre is not None and centre.lease_until == until:
            await steps.record(db, job, outcome)
            centre.lease_until = None
    return outcome
