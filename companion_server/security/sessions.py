"""Server-side login sessions with idle and absolute timeouts.

The browser gets a random token in an HttpOnly cookie; the database keeps its SHA-256. A
session is rotated at login (a new token), ended by logout, by a password change or reset
(every other session of the user), by an operator's lock and by deleting the user (every
session, at once). A lock after wrong passwords leaves open sessions alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import bindparam, delete, select, update

from companion_server.models import Session, User
from companion_server.security.tokens import hash_token, new_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

# Refresh ``last_seen_at`` at most this often (saves a write per request).
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(slots=True)
class LoadedSession:
    """A valid session and its user."""

    token: str
    session: Session
    user: User


async def create_session(
    db: AsyncSession, now: datetime, user: User, ip: str, user_agent: str
) -> str:
    """Open a new session for ``user``; return the cookie token."""
    token, token_hash = new_token()
    db.add(
        Session(
            id=token_hash,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=ip[:45],
            user_agent=user_agent[:300],
        )
    )
    return token


# Built once: every page asks it (building and keying it cost more than the lookup).
_SESSION_AND_USER: Final = (
    select(Session, User)
    .join(User, User.id == Session.user_id)
    .where(Session.id == bindparam("id"))
)


async def load_session(core: Core, token: str) -> LoadedSession | None:
    """The live session of a cookie token; expired sessions are deleted."""
    now = core.now()
    settings = core.settings
    # Every page asks: no transaction (each write below stands alone).
    async with core.reads() as db:
        row = (await db.execute(_SESSION_AND_USER, {"id": hash_token(token)})).first()
        if row is None:
            return None
        session, user = row._tuple()
        idle = now - session.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
        absolute = now - session.created_at > timedelta(hours=settings.session_absolute_hours)
        if idle or absolute or not user.keeps_sessions:
            await db.delete(session)
            return None
        if now - session.last_seen_at >= TOUCH_INTERVAL:
            await db.execute(
                update(Session).where(Session.id == session.id).values(last_seen_at=now)
            )
        return LoadedSession(token=token, session=session, user=user)


async def end_session(db: AsyncSession, token: str) -> None:
    """End one session (logout)."""
    await db.execute(delete(Session).where(Session.id == hash_token(token)))


async def end_user_sessions(db: AsyncSession, user_id: int, keep_token: str | None = None) -> None:
    """End every session of a user, except optionally the current one."""
    stmt = delete(Session).where(Session.user_id == user_id)
    if keep_token is not None:
        stmt = stmt.where(Session.id != hash_token(keep_token))
    await db.execute(stmt)


async def purge(db: AsyncSession, core: Core) -> None:
    """Delete sessions past either timeout."""
    now = core.now()
    settings = core.settings
    await db.execute(
        delete(Session).where(
            (Session.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes))
            | (Session.created_at < now - timedelta(hours=settings.session_absolute_hours))
        )
    )
