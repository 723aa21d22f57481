"""Remote-service frames of Home Assistant: ``window``, ``action_result``, hello's window."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from companion_server.hub import protocol
from companion_server.interventions.rules import CLOSED, KINDS, MAX_HOURS, OPEN
from companion_server.journal import log
from companion_server.models import RemoteAction, RemoteWindow

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry


def register(registry: FrameRegistry) -> None:
    """Handle ``window`` and ``action_result``; follow the window ``hello`` carries."""
    registry.on_hello(on_hello, facts=_HELLO_FACTS)
    registry.handle("window", on_window)
    registry.handle("action_result", on_action_result)


async def on_window(ctx: Context) -> None:
    """A ``window`` frame: granted (until, kinds), declined, revoked or expired."""
    payload = ctx.frame.payload
    state = payload["state"]
    request_id = payload.get("request_id")
    installation = ctx.installation
    window: RemoteWindow | None = None
    if request_id:
        window = await ctx.db.scalar(
            select(RemoteWindow).where(
                RemoteWindow.installation_id == installation.id,
                RemoteWindow.request_id == request_id,
            )
        )
    if window is None and state != "granted":
        # A refusal answers a request; an end concerns a granted window, which a hello
        # without it may have closed already.
        states = (OPEN, *CLOSED) if state in CLOSED else (OPEN, "requested")
        window = await ctx.db.scalar(
            select(RemoteWindow)
            .where(
                RemoteWindow.installation_id == installation.id,
                RemoteWindow.state.in_(states),
            )
            .order_by(RemoteWindow.id.desc())
            .limit(1)
        )
    detail: str | None = None
    if state == "granted":
        until = payload.get("until")
        if until is None:
            ctx.outcome.replies.append(
                protocol.error_frame(
                    "invalid_payload", "a granted window needs until", ctx.frame.id
                )
            )
            return
        # Home Assistant enforces the window; the portal never shows more than 8 hours.
        until = min(until, ctx.now + timedelta(hours=MAX_HOURS))
        kinds = [k for k in payload.get("kinds") or [] if k in KINDS]
        if window is None or window.state not in ("requested", OPEN):
            # Opened in Home Assistant without a request (the grant service) or re-granted.
            window = RemoteWindow(
                installation_id=installation.id,
                company_id=installation.company_id,
                request_id=None,
                state=OPEN,
                requested_at=ctx.now,
                changed_at=ctx.now,
            )
            ctx.db.add(window)
            # An older window still open is replaced by this one.
            for older in await ctx.db.scalars(
                select(RemoteWindow).where(
                    RemoteWindow.installation_id == installation.id, RemoteWindow.state == OPEN
                )
            ):
                older.state = "replaced"
                older.changed_at = ctx.now
        window.state = OPEN
        window.until = until
        window.kinds = json.dumps(kinds)
        window.changed_at = ctx.now
        detail = f"{', '.join(kinds)}; until {until.strftime('%Y-%m-%d %H:%M UTC')}"
    elif window is not None and window.state == state:
        return  # known already (a hello without the window closed it)
    elif window is not None and (
        window.state in ("requested", OPEN) or (window.state in CLOSED and state in CLOSED)
    ):
        # Home Assistant's word wins over the guess of a hello without the window.
        window.state = state
        window.changed_at = ctx.now
    log(ctx.db, installation, ctx.now, f"window_{state}", detail=detail)
    ctx.outcome.changed = True


# The window the portal thinks open (a fact of every ``hello``).
_HELLO_FACTS = {
    "open_window": select(RemoteWindow.id)
    .where(RemoteWindow.installation_id == bindparam("installation_id"), RemoteWindow.state == OPEN)
    .order_by(RemoteWindow.id.desc())
    .limit(1)
    .scalar_subquery()
}


async def on_hello(ctx: Context) -> None:
    """``hello`` carries Home Assistant's current window: the portal follows it.

    A window the portal thinks open but Home Assistant no longer has is closed (expired or
    revoked while no frame could tell); one Home Assistant has but the portal does not know
    (or with another end or kinds) is taken over.
    """
    payload = ctx.frame.payload
    if "window" not in payload:
        return  # an integration that does not report windows
    current = payload["window"]
    opened_id = ctx.facts["open_window"]
    opened = None if opened_id is None else await ctx.db.get(RemoteWindow, opened_id)
    if current is None:
        if opened is not None and opened.until is not None:
            state = "expired" if opened.until <= ctx.now else "revoked"
            opened.state = state
            opened.changed_at = ctx.now
            log(ctx.db, ctx.installation, ctx.now, f"window_{state}")
            ctx.outcome.changed = True
        return
    until = min(current["until"], ctx.now + timedelta(hours=MAX_HOURS))
    kinds = json.dumps([k for k in current["kinds"] if k in KINDS])
    if until <= ctx.now:
        return
    if opened is not None and opened.until == until and opened.kinds == kinds:
        return
    if opened is None:
        opened = RemoteWindow(
            installation_id=ctx.installation.id,
            company_id=ctx.installation.company_id,
            request_id=None,
            state=OPEN,
            requested_at=ctx.now,
            changed_at=ctx.now,
        )
        ctx.db.add(opened)
        log(ctx.db, ctx.installation, ctx.now, "window_granted")
    opened.until = until
    opened.kinds = kinds
    opened.changed_at = ctx.now
    ctx.outcome.changed = True


async def on_action_result(ctx: Context) -> None:
    """An ``action_result`` frame: record the result of one of this installation's actions."""
    payload = ctx.frame.payload
    action = await ctx.db.scalar(
        select(RemoteAction).where(
            RemoteAction.installation_id == ctx.installation.id,
            RemoteAction.action_id == payload["action_id"].lower(),
        )
    )
    if action is None:
        ctx.outcome.replies.append(
            protocol.error_frame("unknown_action", "no such action for this box", ctx.frame.id)
        )
        return
    if action.result_at is not None:
        return  # a result for this action is already recorded
    action.ok = payload["ok"]
    action.error = None if payload["ok"] else (payload.get("error") or "error")[:500]
    action.result_at = payload["at"]
    outcome = "ok" if action.ok else f"error: {action.error}"
    log(
        ctx.db,
        ctx.installation,
        ctx.now,
        "action_result",
        detail=f"{action.summary or action.kind}: {outcome}"[:500],
    )
    ctx.outcome.changed = True
