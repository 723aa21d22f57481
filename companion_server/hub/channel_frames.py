"""The channel's own frames: ``hello`` (the handshake and its welcome), ``ack`` and ``error``.

A ``hello`` also carries the state areas follow (consent, the remote-service window): their
parts, registered with :meth:`FrameRegistry.on_hello`, run between the handshake and the
welcome.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from companion_server.hub import protocol
from companion_server.models import Company, PortalFrame
from companion_server.parsing import normalize_pin

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry

LOGGER = logging.getLogger(__name__)


# Whether frames wait for the installation (a fact of every ``hello``).
_WAITING = (
    select(PortalFrame.id)
    .where(
        PortalFrame.installation_id == bindparam("installation_id"),
        PortalFrame.acked_at.is_(None),
    )
    .limit(1)
)


def register(registry: FrameRegistry) -> None:
    """Handle ``hello``, ``ack`` and ``error``."""

    async def hello(ctx: Context) -> None:
        _handshake(ctx)
        for part in registry.hello_parts:
            await part(ctx)
        await _welcome(ctx)

    registry.on_hello(None, facts={"frames_waiting": _WAITING.scalar_subquery()})
    registry.handle("hello", hello)
    registry.handle("ack", _ack)
    registry.handle("error", _error)


def _handshake(ctx: Context) -> None:
    payload = ctx.frame.payload
    state = ctx.state
    state.integration_version = payload["integration_version"]
    if state.connected:
        ctx.outcome.takeover = True
    else:
        state.connected = True
        state.connected_changed_at = ctx.now
    if normalize_pin(payload["pin"]) != ctx.installation.box_pin:
        LOGGER.warning("Installation %s: hello with another box's PIN", ctx.installation.id)
        ctx.outcome.replies.append(
            protocol.error_frame("pin_mismatch", "this link belongs to another box", ctx.frame.id)
        )


async def _welcome(ctx: Context) -> None:
    company = await ctx.db.get(Company, ctx.installation.company_id)
    assert company is not None
    # The frames waiting for Home Assistant follow the welcome, one message each
    # (``Hub.flush``): inline, a long backlog would make a message larger than it accepts.
    welcome: dict[str, Any] = {
        "installation_id": ctx.installation.id,
        "company": {"id": company.id, "name": company.name},
    }
    # The snapshot the portal holds: Home Assistant sends its own only if it differs.
    if ctx.state.monitoring == "granted" and protocol.is_digest(ctx.state.snapshot_digest):
        welcome["snapshot_digest"] = ctx.state.snapshot_digest
    ctx.outcome.replies.append(protocol.encode("welcome", welcome))
    ctx.outcome.ready = True
    ctx.outcome.changed = True
    # Only a backlog costs the welcome a flush (most connections have none).
    ctx.outcome.queued = ctx.outcome.queued or ctx.facts["frames_waiting"] is not None


async def _ack(ctx: Context) -> None:
    await ctx.db.execute(
        update(PortalFrame)
        .where(
            PortalFrame.installation_id == ctx.installation.id,
            PortalFrame.frame_id == ctx.frame.payload["id"].lower(),
            PortalFrame.acked_at.is_(None),
        )
        .values(acked_at=ctx.now)
    )


async def _error(ctx: Context) -> None:
    payload = ctx.frame.payload
    LOGGER.warning(
        "Installation %s: Home Assistant reports %s: %s (ref %s)",
        ctx.installation.id,
        payload["code"],
        payload["message"],
        payload.get("ref"),
    )
