"""Remote-service windows, portal side: what the customer granted, and requesting one (P13).

The homeowner's Home Assistant decides: it grants a window (until when, which kinds of
action), revokes it, lets it expire on its own clock, and checks every action again. The
portal only offers what the current window allows and re-checks it on every request:
a window is open while its last state from Home Assistant is ``granted`` and ``until`` is
still ahead on the portal's clock. A customer without a paid support plan pays in advance:
remote service is requested only once that advance is paid, or overridden (D6). A window the
homeowner opens in Home Assistant without a request stays open (their decision, recorded),
but the installer's actions in it are refused under the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import TYPE_CHECKING
import uuid

from sqlalchemy import delete, select

from companion_server.errors import RuleViolation, ValidationFailed
from companion_server.hub import outbox
from companion_server.installations.services import visible_installation
from companion_server.interventions.mails import mail_customer
from companion_server.interventions.rules import (
    KIND_LABELS,
    KINDS,
    MAX_HOURS,
    NO_WINDOW,
    OPEN,
)
from companion_server.invoicing import advances
from companion_server.journal import log
from companion_server.mail.outbox import MailKind
from companion_server.models import (
    Installation,
    InstallationState,
    Monitoring,
    PortalFrame,
    RegistrationStatus,
    RemoteAction,
    RemoteWindow,
    User,
)
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


@dataclass(slots=True)
class WindowView:
    """What the banner and the controls need."""

    window: RemoteWindow | None  # the open window, if any
    pending: RemoteWindow | None  # a request waiting for the customer
    last: RemoteWindow | None  # the latest window or request, whatever its state
    kinds: list[str] = field(default_factory=list)
    # A window that closed (expired, revoked) with actions but was not ended: the installer
    # can still end it, so that the customer gets the summary.
    lapsed: RemoteWindow | None = None
    # The pay-in-advance rule (None where it is not looked at, see :func:`gated_view`).
    advance: advances.Gate | None = None
    # The open window was opened in Home Assistant without a request while the customer's
    # advance is due: the installer may not act in it.
    held: bool = False

    @property
    def endable(self) -> RemoteWindow | None:
        """The window "End remote intervention" ends (open, or lapsed with actions)."""
        return self.window or self.lapsed

    @property
    def open(self) -> bool:
        """Whether the installer may act now."""
        return self.window is not None

    def allows(self, kind: str) -> bool:
        """Whether ``kind`` is granted in the open window and the installer may act in it."""
        return self.window is not None and not self.held and kind in self.kinds

    def acting_window(self) -> RemoteWindow:
        """The open window the installer may act in.

        :class:`RuleViolation` when none is open, or while the pay-in-advance rule holds it.
        """
        if self.window is None:
            raise RuleViolation(NO_WINDOW)
        if self.held:
            raise RuleViolation(advances.PAY_FIRST)
        return self.window

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the window ends."""
        if self.window is None or self.window.until is None:
            return 0
        return max(0, int((self.window.until - now).total_seconds()))


def _kinds(window: RemoteWindow) -> list[str]:
    try:
        value = json.loads(window.kinds)
    except ValueError:
        return []
    return [k for k in value if k in KINDS] if isinstance(value, list) else []


def is_open(window: RemoteWindow, now: datetime) -> bool:
    """Whether the window allows actions at ``now``."""
    return window.state == OPEN and window.until is not None and window.until > now


async def window_view(db: AsyncSession, installation_id: int, now: datetime) -> WindowView:
    """The remote-service state of an installation (read only)."""
    last = await db.scalar(
        select(RemoteWindow)
        .where(RemoteWindow.installation_id == installation_id)
        .order_by(RemoteWindow.id.desc())
        .limit(1)
    )
    opened = await db.scalar(
        select(RemoteWindow)
        .where(RemoteWindow.installation_id == installation_id, RemoteWindow.state == OPEN)
        .order_by(RemoteWindow.id.desc())
        .limit(1)
    )
    if opened is not None and not is_open(opened, now):
        opened = None
    pending = last if last is not None and last.state == "requested" else None
    lapsed = None
    if opened is None:
        latest = await db.scalar(
            select(RemoteWindow)
            .where(
                RemoteWindow.installation_id == installation_id,
                RemoteWindow.state.in_((OPEN, "revoked", "expired")),
            )
            .order_by(RemoteWindow.id.desc())
            .limit(1)
        )
        if latest is not None:
            acted = await db.scalar(
                select(RemoteAction.id).where(RemoteAction.window_id == latest.id).limit(1)
            )
            lapsed = latest if acted is not None else None
    return WindowView(opened, pending, last, _kinds(opened) if opened else [], lapsed)


async def gated_view(db: AsyncSession, installation: Installation, now: datetime) -> WindowView:
    """The remote-service state with the pay-in-advance rule (read only).

    A requested window passed the rule when it was requested; one Home Assistant opened
    without a request is held back until the advance is paid or overridden.
    """
    view = await window_view(db, installation.id, now)
    view.advance = await advances.gate(db, installation, now)
    view.held = (
        view.window is not None and view.window.request_id is None and not view.advance.allowed
    )
    return view


async def status(core: Core, actor_id: int, installation_id: int) -> WindowView:
    """The banner of an installation's pages."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        return await gated_view(db, installation, core.now())


async def _monitored(db: AsyncSession, actor: User, installation_id: int) -> Installation:
    installation = await visible_installation(db, actor, installation_id)
    if installation.status != RegistrationStatus.LINKED.value:
        raise RuleViolation(
            "The customer has not validated the registration in Home Assistant yet."
        )
    state = await db.get(InstallationState, installation.id)
    if state is None or state.monitoring != Monitoring.GRANTED.value:
        raise RuleViolation("Remote service needs Serv-e-go: the customer has not granted it.")
    return installation


async def notify(core: Core, installation_id: int) -> None:
    """After the transaction: send the queued frames, refresh the installation's pages."""
    hub = core.hub
    if hub is not None:
        await hub.frames_pending(installation_id)
        await hub.changed(installation_id)


async def request_remote_service(
    core: Core,
    actor_id: int,
    installation_id: int,
    *,
    kinds: list[str] | None = None,
    hours: int = MAX_HOURS,
) -> str:
    """Request remote service (P13): e-mail the customer and ask Home Assistant.

    Queues an acked ``request_remote_service`` frame and returns its ``request_id``.
    """
    chosen = [k for k in KINDS if k in (kinds or KINDS)]
    if not chosen:
        raise ValidationFailed({"kinds": "Choose at least one kind of action."})
    if not 1 <= hours <= MAX_HOURS:
        raise ValidationFailed({"hours": "The duration is 1 to 8 hours."})
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await _monitored(db, actor, installation_id)
        now = core.now()
        view = await window_view(db, installation.id, now)
        if view.open:
            raise RuleViolation("A remote-service window is already open.")
        await advances.check(db, installation, now)
        if view.pending is not None:
            view.pending.state = "withdrawn"
            view.pending.changed_at = now
        # One request at a time: an older one not delivered yet is withdrawn, not sent.
        await db.execute(
            delete(PortalFrame).where(
                PortalFrame.installation_id == installation.id,
                PortalFrame.type == "request_remote_service",
                PortalFrame.acked_at.is_(None),
            )
        )
        request_id = str(uuid.uuid4())
        db.add(
            RemoteWindow(
                installation_id=installation.id,
                company_id=installation.company_id,
                request_id=request_id,
                state="requested",
                kinds=json.dumps(chosen),
                hours=hours,
                requested_by_id=actor.id,
                requested_at=now,
                changed_at=now,
            )
        )
        outbox.queue_frame(
            db,
            installation.id,
            now,
            "request_remote_service",
            {"request_id": request_id, "installer": actor.name, "kinds": chosen, "hours": hours},
        )
        log(db, installation, now, "window_requested", actor=actor, detail=", ".join(chosen))
        await mail_customer(
            db,
            installation,
            actor,
            now,
            MailKind.REMOTE_SERVICE_REQUEST,
            lambda _: {"hours": hours, "kinds": [_(KIND_LABELS[k]) for k in chosen]},
        )
    await notify(core, installation_id)
    return request_id
