"""Frames applied without a transaction when all they write is one row (PostgreSQL).

A ``hello`` of a box that comes back unchanged reads its rows and updates its state row:
in a transaction that is four round trips (``BEGIN``, the read, the update, ``COMMIT``),
most of a restart storm's database time. In READ COMMITTED each statement sees what was
committed when it starts, in a transaction or not, and one ``UPDATE`` is atomic on its own:
so such a frame runs its statements as they come, with no transaction, in two round trips.

Anything more (a second row written, a row added or deleted, a statement that writes or
locks, a write before the handler is done, work for after the commit) is stopped before it
reaches the database with :class:`NeedsTransaction`: nothing was written, and the frame is
applied again in a transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from companion_server.core import AFTER_COMMIT, MAIL_PENDING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.orm import ORMExecuteState, UOWTransaction

# ``Session.info`` keys: the one object the frame may update, and whether the handler is done.
MAY_WRITE = "one_write_object"
DONE = "one_write_done"


class NeedsTransaction(Exception):
    """The frame writes more than one row: nothing was written, apply it in a transaction."""


class OneWriteSession(Session):
    """A session on an autocommit connection that lets one ``UPDATE`` through, at the end."""


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of :class:`OneWriteSession` on ``engine`` without transactions."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        sync_session_class=OneWriteSession,
        expire_on_commit=False,
    )


@event.listens_for(OneWriteSession, "do_orm_execute")
def _reads_only(state: ORMExecuteState) -> None:
    statement: Any = state.statement
    if not state.is_select or getattr(statement, "_for_update_arg", None) is not None:
        raise NeedsTransaction(f"{type(statement).__name__} statement")


@event.listens_for(OneWriteSession, "before_flush")
def _one_update_at_the_end(session: Session, _flush: UOWTransaction, _objects: Any) -> None:
    if not session.info.get(DONE):
        raise NeedsTransaction("a write before the frame's handler is done")
    if session.new or session.deleted:
        raise NeedsTransaction("a row added or deleted")
    if session.info.get(AFTER_COMMIT) or session.info.get(MAIL_PENDING):
        raise NeedsTransaction("work for after the commit")
    allowed = session.info.get(MAY_WRITE)
    for changed in session.dirty:
        if changed is not allowed and session.is_modified(changed):
            raise NeedsTransaction(f"a second row written ({type(changed).__name__})")
