"""What operators do with a case: take it, give it back or hand it over, record steps.

Two operators never handle one case at once: taking it is one conditional ``UPDATE`` (only
while nobody holds it), so of two operators clicking together exactly one gets it, on any
database and any portal instance. Only the holder records steps, each over the version of
the case the holder's page showed: a step decided on an outdated page is refused.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from sqlalchemy import update

from companion_server.centre import store
from companion_server.centre.clock import database_now
from companion_server.centre.console import case_of, console_actor
from companion_server.centre.protocol_values import (
    MAX_NOTE,
    NOT_ALLOWED,
    OPERATOR_ACTIONS,
    Action,
    ActionKind,
    ActionNotAllowed,
    Phase,
    ProtocolError,
)
from companion_server.errors import NotFound, RuleViolation
from companion_server.i18n import N_
from companion_server.models import CentreCase, Role, User
from companion_server.security import scrypt_hashes

if TYPE_CHECKING:
    from companion_server.core import Core

TAKEN: Final = N_("Another operator is handling this case.")
NOT_HOLDER: Final = N_("Take the case first: only the operator handling it records steps.")
CASE_CLOSED: Final = N_("This case is closed.")
NOT_A_COLLEAGUE: Final = N_("Hand the case over to an operator or administrator of your company.")
# The form's own steps: the password heard, or none given.
IDENTIFY: Final = "identify"
NO_PASSWORD: Final = "no_password"  # noqa: S105 (a step name)
STEPS: Final = frozenset({*(kind.value for kind in OPERATOR_ACTIONS), "second_round"})


async def claim(core: Core, actor_id: int, case_id: int) -> None:
    """Take the case (refused while another operator holds it)."""
    changes = store.Changes.none()
    async with core.tx() as db:
        actor = await console_actor(db, actor_id)
        row = await case_of(db, actor, case_id)
        now = await database_now(db, core)
        taken = await db.execute(
            update(CentreCase)
            .where(
                CentreCase.id == case_id,
                CentreCase.closed_at.is_(None),
                CentreCase.claimed_by_id.is_(None),
            )
            .values(claimed_by_id=actor_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            await db.refresh(row)
            if row.closed_at is not None:
                raise RuleViolation(CASE_CLOSED)
            if row.claimed_by_id != actor_id:
                raise RuleViolation(TAKEN)
        changes.companies.add(row.company_id)
    await store.notify(core, changes)


async def release(core: Core, actor_id: int, case_id: int) -> None:
    """Give the case back to the queue: its holder, or an administrator (a holder gone home)."""
    changes = store.Changes.none()
    async with core.tx() as db:
        actor = await console_actor(db, actor_id)
        row = await case_of(db, actor, case_id)
        query = update(CentreCase).where(CentreCase.id == case_id)
        if actor.role != Role.ADMIN:
            query = query.where(CentreCase.claimed_by_id == actor_id)
        await db.execute(
            query.values(claimed_by_id=None, claimed_at=None).execution_options(
                synchronize_session=False
            )
        )
        changes.companies.add(row.company_id)
    await store.notify(core, changes)


async def hand_over(core: Core, actor_id: int, case_id: int, to_id: int) -> None:
    """The holder gives the case to a colleague (operator or administrator)."""
    changes = store.Changes.none()
    async with core.tx() as db:
        actor = await console_actor(db, actor_id)
        row = await case_of(db, actor, case_id)
        colleague = await db.get(User, to_id)
        if (
            colleague is None
            or colleague.company_id != actor.company_id
            or colleague.role not in (Role.OPERATOR, Role.ADMIN)
            or not colleague.is_active
        ):
            raise RuleViolation(NOT_A_COLLEAGUE)
        now = await database_now(db, core)
        given = await db.execute(
            update(CentreCase)
            .where(
                CentreCase.id == case_id,
                CentreCase.closed_at.is_(None),
                CentreCase.claimed_by_id == actor_id,
            )
            .values(claimed_by_id=to_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(given, "rowcount", 0) != 1:
            raise RuleViolation(NOT_HOLDER)
        changes.companies.add(row.company_id)
    await store.notify(core, changes)


async def record_step(
    core: Core,
    actor_id: int,
    case_id: int,
    *,
    step: str,
    version: int,
    note: str = "",
    password: str = "",
    contact: int | None = None,
) -> ActionKind:
    """Record one step of the holder (``identify`` checks ``password``); the kind recorded.

    The password heard is checked against the contact's hash (in a worker thread, constant
    time) and recorded as ``identified`` or ``wrong_identification``; it is kept nowhere.
    Raises :class:`ProtocolError` (409, nothing changed) when the protocol refuses the step,
    the case changed since ``version``, or the actor does not hold the case.
    """
    if step not in STEPS | {IDENTIFY, NO_PASSWORD}:
        raise NotFound()
    async with core.tx() as db:
        actor = await console_actor(db, actor_id)
        row = await case_of(db, actor, case_id)
        if row.claimed_by_id != actor_id:
            raise RuleViolation(NOT_HOLDER)
        if row.version != version:
            raise store.CaseChanged()
        state = store.state_of(row)
        contacts = store.contacts_of(row)
    who = contact if state.phase is Phase.WAITING else state.contact
    kind = _kind(step)
    if step == IDENTIFY:
        if who is None or not 0 <= who < len(contacts):
            raise ActionNotAllowed(NOT_ALLOWED, state.phase, ActionKind.IDENTIFIED)
        matches = await asyncio.to_thread(
            scrypt_hashes.verify, password, contacts[who]["password_hash"]
        )
        kind = ActionKind.IDENTIFIED if matches else ActionKind.WRONG_IDENTIFICATION
    changes = store.Changes.none()
    async with core.tx() as db:
        locked = await store.locked(db, case_id)
        if locked is None or locked.company_id != actor.company_id:
            raise NotFound()
        if locked.claimed_by_id != actor_id:
            raise RuleViolation(NOT_HOLDER)
        if locked.version != version:
            raise store.CaseChanged()
        now = await database_now(db, core)
        action = Action(
            kind,
            actor_id,
            now,
            contact=who if state.phase is Phase.WAITING else None,
            note=note[: MAX_NOTE + 1],
        )
        await store.write(db, locked, store.state_of(locked), action, changes)
    await store.notify(core, changes)
    return kind


def _kind(step: str) -> ActionKind:
    if step == NO_PASSWORD:
        return ActionKind.WRONG_IDENTIFICATION
    if step == IDENTIFY:
        return ActionKind.IDENTIFIED
    return ActionKind(step)


__all__ = ["ProtocolError", "claim", "hand_over", "record_step", "release"]
