"""What the console shows: the queue of open cases and one case with everything to handle it.

Operators and administrators of a company see its cases; anyone else gets
:class:`Forbidden` (an installer) or :class:`NotFound` (another company's case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select

from companion_server.centre import queue_cursor, store, subscriptions
from companion_server.centre.call_protocol import allowed_actions
from companion_server.centre.clock import database_now
from companion_server.centre.protocol_values import ActionKind, CaseState, Phase
from companion_server.errors import Forbidden, NotFound
from companion_server.i18n import N_
from companion_server.keyset import split_page
from companion_server.models import CentreAlarm, CentreCase, Installation, Role, User

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

NOT_CONSOLE = N_("Only operators and administrators handle alarm cases.")
HISTORY = 50
# Open cases per page of the queue.
QUEUE_PAGE = 50
URGENCY = queue_cursor.URGENCY


async def console_actor(db: AsyncSession, actor_id: int) -> User:
    """The acting user, reloaded: an operator or an administrator, still active."""
    actor = await db.get(User, actor_id)
    if actor is None or not actor.is_active:
        raise NotFound()
    if actor.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden(NOT_CONSOLE)
    return actor


async def case_of(db: AsyncSession, actor: User, case_id: int) -> CentreCase:
    """One of the actor's company's cases (another company's: :class:`NotFound`)."""
    row = await db.get(CentreCase, case_id)
    if row is None or row.company_id != actor.company_id:
        raise NotFound()
    return row


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One open case in the queue."""

    id: int
    kind: str
    installation: str
    phase: str
    round: int
    opened_at: datetime
    deadline: datetime | None
    holder: str | None
    mine: bool
    duress: bool


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue, where the next starts, and the open cases per urgency."""

    items: list[QueueItem]
    next_after: str | None
    # Urgency (0: aggression and fire, 1: intrusion, 2: tamper) -> open cases, most urgent
    # first; only the urgencies with open cases.
    counts: dict[int, int]

    @property
    def total(self) -> int:
        """Every open case of the company, on this page or not."""
        return sum(self.counts.values())


async def queue(core: Core, actor_id: int, after: str | None = None) -> QueuePage:
    """The company's open cases: aggression and fire, intrusion, tamper; the oldest first.

    By pages of :data:`QUEUE_PAGE`, keyset on (urgency, opening time, id) over the
    ``ix_centre_cases_queue`` index: a page costs the same whatever the number of open
    cases (a storm of alarms) and whatever its position. A cursor that does not read opens
    the first page. Read without a transaction (:meth:`Core.reads`): the counts may be a
    hair newer than the page, which the next live update brings in line.
    """
    async with core.reads() as db:
        actor = await console_actor(db, actor_id)
        query = queue_query(actor.company_id, queue_cursor.decode(after))
        found, last = split_page(
            (await db.execute(query.limit(QUEUE_PAGE + 1))).all(),
            QUEUE_PAGE,
        )
        open_cases = and_(CentreCase.company_id == actor.company_id, CentreCase.closed_at.is_(None))
        counts = await db.execute(
            select(URGENCY, func.count())
            .select_from(CentreCase)
            .where(open_cases)
            .group_by(URGENCY)
            .order_by(URGENCY)
        )
        page = QueuePage(
            items=[_item(row, name, holder, actor_id) for row, name, holder, _ in found],
            next_after=None if last is None else queue_cursor.encode(last[3], last[0]),
            counts={int(urgency): int(count) for urgency, count in counts.tuples()},
        )
    return page


def queue_query(
    company_id: int, start: queue_cursor.Start | None
) -> Select[tuple[CentreCase, str, str, int]]:
    """The company's open cases after ``start`` in queue order, with installation and holder.

    Rows: the case, its installation's name, its holder's name (None when nobody holds it:
    an outer join the type does not tell) and its urgency.
    """
    query = (
        select(CentreCase, Installation.name, User.name, URGENCY)
        .join(Installation, Installation.id == CentreCase.installation_id)
        .outerjoin(User, User.id == CentreCase.claimed_by_id)
        .where(CentreCase.company_id == company_id, CentreCase.closed_at.is_(None))
    )
    if start is not None:
        query = query.where(queue_cursor.after(start))
    return query.order_by(URGENCY, CentreCase.opened_at, CentreCase.id)


def _item(row: CentreCase, installation: str, holder: str | None, actor_id: int) -> QueueItem:
    state = store.state_of(row)
    return QueueItem(
        id=row.id,
        kind=row.kind,
        installation=installation,
        phase=row.phase,
        round=state.round,
        opened_at=state.opened_at,
        deadline=state.deadline,
        holder=holder,
        mine=row.claimed_by_id == actor_id,
        duress=state.duress,
    )


@dataclass(frozen=True, slots=True)
class StepView:
    """One step of the history."""

    at: datetime
    who: str  # an operator's name, or "home_assistant" / "timer"
    action: str
    contact: str | None
    note: str
    phase: str


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything the case screen shows."""

    id: int
    version: int
    installation: str
    state: CaseState
    now: datetime
    contacts: list[dict[str, Any]]
    subscription: subscriptions.Subscription | None
    alarms: list[CentreAlarm]
    steps: list[StepView]
    holder_id: int | None
    holder: str | None
    mine: bool
    allowed: frozenset[ActionKind]
    colleagues: list[tuple[int, str]]

    @property
    def identifies(self) -> bool:
        """Whether the next step is checking a password someone gives on the phone."""
        return ActionKind.IDENTIFIED in self.allowed

    @property
    def call_back(self) -> bool:
        """Whether the person on the phone called back (the operator says who)."""
        return self.state.phase is Phase.WAITING

    @property
    def buttons(self) -> list[str]:
        """The other steps the protocol offers now, in the protocol's order."""
        skip = {ActionKind.IDENTIFIED, ActionKind.WRONG_IDENTIFICATION}
        return [kind.value for kind in ActionKind if kind in self.allowed and kind not in skip]


def _name(contact: dict[str, Any]) -> str:
    return f"{contact['first_name']} {contact['last_name']}".strip()


async def case_view(core: Core, actor_id: int, case_id: int) -> CaseView:
    """One case of the actor's company, with what the actor may record now."""
    async with core.tx() as db:
        actor = await console_actor(db, actor_id)
        row = await case_of(db, actor, case_id)
        now = await database_now(db, core)
        installation = await db.get(Installation, row.installation_id)
        assert installation is not None
        state = store.state_of(row)
        contacts = store.contacts_of(row)
        people = {
            user.id: (user.name, user.role)
            for user in await db.scalars(select(User).where(User.company_id == actor.company_id))
        }
        alarms = list(
            await db.scalars(
                select(CentreAlarm)
                .where(CentreAlarm.installation_id == row.installation_id)
                .order_by(CentreAlarm.at.desc(), CentreAlarm.id.desc())
                .limit(HISTORY)
            )
        )
        subscription = await subscriptions.of_installation(db, row.installation_id)
    mine = row.claimed_by_id == actor_id
    steps = [
        StepView(
            at=step.at,
            who=people.get(step.actor, (N_("a former operator"), ""))[0]
            if isinstance(step.actor, int)
            else step.actor,
            action=step.action.value,
            contact=None if step.contact is None else _name(contacts[step.contact]),
            note=step.note,
            phase=step.phase.value,
        )
        for step in reversed(state.steps)
    ]
    held = None if row.claimed_by_id is None else people.get(row.claimed_by_id)
    return CaseView(
        id=row.id,
        version=row.version,
        installation=installation.name,
        state=state,
        now=now,
        contacts=contacts,
        subscription=subscription,
        alarms=alarms,
        steps=steps,
        holder_id=row.claimed_by_id,
        holder=None if held is None else held[0],
        mine=mine,
        allowed=allowed_actions(state, now, actor_id) if mine else frozenset(),
        colleagues=sorted(
            (uid, name)
            for uid, (name, role) in people.items()
            if uid != actor_id and role in (Role.OPERATOR, Role.ADMIN)
        ),
    )
