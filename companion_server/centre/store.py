"""Cases in the database: open, load for a step, write a step over the version it read.

Every writer (Home Assistant's frames, operators, the timer, on any portal instance) goes
through :func:`locked` and :func:`write`: the row is locked for the transaction (PostgreSQL
``FOR UPDATE``; on SQLite the process's write turn), and the step is written only if the
case still has the version it was read at. A concurrent step therefore finds the case as
the other left it, and the protocol refuses what no longer applies; nothing is half written.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select, update

from companion_server.centre import case_frames
from companion_server.centre.call_protocol import apply, open_case
from companion_server.centre.case_records import from_record, to_record
from companion_server.centre.protocol_values import Action, CaseKind, CaseState, ProtocolError
from companion_server.hub import outbox
from companion_server.i18n import N_
from companion_server.models import CentreCase

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

CASE_CHANGED: Final = N_(
    "This case changed while you were looking at it: check what happened, then try again."
)


class CaseChanged(ProtocolError):
    """The case is no longer at the version the step was decided on."""

    def __init__(self) -> None:
        """The translated message."""
        super().__init__(CASE_CHANGED)


def console_topic(company_id: int) -> str:
    """The live-update topic of a company's console (its queue and case screens)."""
    return f"centre:{company_id}"


@dataclass(slots=True)
class Changes:
    """What a transaction changed, for the notices sent after its commit."""

    installations: set[int]
    companies: set[int]
    frames: set[int]

    @classmethod
    def none(cls) -> Changes:
        """Nothing yet."""
        return cls(set(), set(), set())

    def case(self, row: CentreCase, *, frame: bool) -> None:
        """A case of the row's installation changed (and a frame was queued)."""
        self.installations.add(row.installation_id)
        self.companies.add(row.company_id)
        if frame:
            self.frames.add(row.installation_id)


def contacts_of(row: CentreCase) -> list[dict[str, Any]]:
    """The contacts the case opened with, in calling order."""
    contacts: list[dict[str, Any]] = json.loads(row.contacts)
    return contacts


def state_of(row: CentreCase) -> CaseState:
    """The case the row holds (checked by replaying its steps)."""
    return from_record(json.loads(row.record))


def _columns(state: CaseState) -> dict[str, Any]:
    return {
        "phase": state.phase.value,
        "deadline": state.deadline,
        "closed_at": state.last_time if state.closed else None,
        "version": len(state.steps),
        "record": json.dumps(to_record(state), separators=(",", ":")),
    }


async def open_new(
    db: AsyncSession,
    *,
    company_id: int,
    installation_id: int,
    kind: CaseKind,
    contacts: list[dict[str, Any]],
    now: datetime,
) -> tuple[CentreCase, CaseState]:
    """A new case of the installation (the caller checked that none is open)."""
    state = open_case(kind, len(contacts), now)
    row = CentreCase(
        company_id=company_id,
        installation_id=installation_id,
        kind=kind.value,
        opened_at=state.opened_at,
        contacts=json.dumps(contacts),
        **_columns(state),
    )
    db.add(row)
    await db.flush()
    return row, state


async def open_case_of(db: AsyncSession, installation_id: int) -> CentreCase | None:
    """The installation's open case, locked for this transaction."""
    row: CentreCase | None = await db.scalar(
        select(CentreCase)
        .where(CentreCase.installation_id == installation_id, CentreCase.closed_at.is_(None))
        .with_for_update()
    )
    return row


async def locked(db: AsyncSession, case_id: int) -> CentreCase | None:
    """The case, locked for this transaction."""
    row: CentreCase | None = await db.scalar(
        select(CentreCase).where(CentreCase.id == case_id).with_for_update()
    )
    return row


async def write(
    db: AsyncSession,
    row: CentreCase,
    before: CaseState,
    action: Action,
    changes: Changes,
) -> CaseState:
    """Apply ``action`` (never dated before the last step) and store it over ``before``.

    Raises :class:`ProtocolError` (nothing changed) when the protocol refuses the step or
    another writer stored a step first. Queues the ``centre_case`` Home Assistant gets.
    """
    if action.at < before.last_time:
        # Another instance's step, timed by the same database, is a hair later: keep order.
        action = Action(action.kind, action.actor, before.last_time, action.contact, action.note)
    after = apply(before, action)
    done = await db.execute(
        update(CentreCase)
        .where(CentreCase.id == row.id, CentreCase.version == len(before.steps))
        .values(**_columns(after))
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise CaseChanged()
    await db.refresh(row)
    queue_case_frame(db, row, before, after, action.at, changes)
    return after


def queue_case_frame(
    db: AsyncSession,
    row: CentreCase,
    before: CaseState | None,
    after: CaseState,
    now: datetime,
    changes: Changes,
) -> None:
    """Queue what Home Assistant gets of this step, if anything (see :mod:`case_frames`)."""
    frame = case_frames.after_step(row.id, before, after)
    if frame is not None:
        outbox.queue_frame(db, row.installation_id, now, case_frames.FRAME_TYPE, frame)
    changes.case(row, frame=frame is not None)


async def notify(core: Core, changes: Changes) -> None:
    """After the commit: consoles and installation pages refresh, Home Assistant is sent to."""
    hub = core.hub
    if hub is None:
        return
    for installation_id in changes.frames:
        await hub.frames_pending(installation_id)
    for installation_id in changes.installations:
        await hub.changed(installation_id)
    for company_id in changes.companies:
        await hub.changed(console_topic(company_id))
