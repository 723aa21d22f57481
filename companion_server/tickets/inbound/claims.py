"""Claims on received messages, so that copies of one message are taken in once.

A message is claimed under each of its keys (its Message-ID; the sender, box PIN,
normalized subject and time window) before its ticket is created. The keys are unique in
the database: of two copies delivered at the same moment, to one portal instance or to
two sharing the database, only one insert succeeds; the other copy is a duplicate.
"""

from __future__ import annotations

from datetime import timedelta
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from companion_server.models import InboundMailClaim

if TYPE_CHECKING:
    from companion_server.core import Core

# A claim still without its ticket this long after was left by a crash: it may be taken over.
STALE_CLAIM = timedelta(minutes=10)
# Copies arrive within minutes; claims are kept much longer, then forgotten.
KEEP_CLAIMS = timedelta(days=14)


def key(*parts: str) -> str:
    """The stored key of what identifies a message."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


async def claim(core: Core, keys: list[str]) -> bool:
    """Claim a message under all its keys; False when a copy already holds one of them."""
    for attempt in range(2):
        try:
            async with core.tx() as db:
                now = core.now()
                await db.execute(
                    delete(InboundMailClaim).where(InboundMailClaim.claimed_at < now - KEEP_CLAIMS)
                )
                db.add_all(
                    InboundMailClaim(key=k, ticket_id=None, claimed_at=now) for k in set(keys)
                )
        except IntegrityError:
            if attempt or not await _release_stale(core, keys):
                return False
        else:
            return True
    return False


async def settle(core: Core, keys: list[str], ticket_id: int) -> None:
    """Record the ticket the claimed message became (or was added to)."""
    async with core.tx() as db:
        await db.execute(
            update(InboundMailClaim)
            .where(InboundMailClaim.key.in_(keys))
            .values(ticket_id=ticket_id)
        )


async def release(core: Core, keys: list[str]) -> None:
    """Give the claims up (taking the message in failed: the relay will try again)."""
    async with core.tx() as db:
        await db.execute(
            delete(InboundMailClaim).where(
                InboundMailClaim.key.in_(keys), InboundMailClaim.ticket_id.is_(None)
            )
        )


async def _release_stale(core: Core, keys: list[str]) -> bool:
    async with core.tx() as db:
        result = await db.execute(
            delete(InboundMailClaim).where(
                InboundMailClaim.key.in_(keys),
                InboundMailClaim.ticket_id.is_(None),
                InboundMailClaim.claimed_at < core.now() - STALE_CLAIM,
            )
        )
    return bool(getattr(result, "rowcount", 0))
