"""Remote-service windows and the installer's actions inside them (P13-P23), portal side.

The homeowner's Home Assistant decides: it grants a window (until when, which kinds of
action), revokes it, lets it expire on its own clock, and checks every action again. The
portal only offers what the current window allows and re-checks it on every request:
a window is open while its last state from Home Assistant is ``granted`` and ``until`` is
still ahead on the portal's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
from typing import TYPE_CHECKING, Any, Final
import uuid

from sqlalchemy import delete, select

from companion_server.errors import NotFound, RuleViolation, ValidationFailed
from companion_server.hub import outbox, protocol
from companion_server.i18n import N_, Translator, translator
from companion_server.installations.services import visible_installation
from companion_server.interventions.codes import UnreadableCode, parse_scan
from companion_server.interventions.values import parameter_value
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Company,
    Device,
    Installation,
    InstallationState,
    Monitoring,
    PortalFrame,
    Registration,
    RegistrationStatus,
    RemoteAction,
    RemoteWindow,
    User,
)
from companion_server.registration.services import log
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.monitoring.frames import Context

KINDS: Final = ("parameters", "reboot", "pair_remote", "web_app")
KIND_LABELS: Final = {
    "parameters": N_("Change io parameters"),
    "reboot": N_("Reboot the box"),
    "pair_remote": N_("Add a remote control"),
    "web_app": N_("Open the customer's web app"),
}
PARAMETER_LABELS: Final = {"label": N_("Name"), "my_position": N_('"My" position (%)')}
READ_ONLY_REASONS: Final = {
    "rts_one_way": N_(
        "RTS product: one-way radio, its parameters cannot be read or changed remotely."
    ),
    "protocol_not_io": N_("Only io products can be changed remotely."),
    "no_editable_parameter": N_("This product has no parameter that can be changed remotely."),
}
# Commands of the live control page, by what the product is.
WEB_APP_COMMANDS: Final = ("open", "close", "stop", "my", "on", "off")
MAX_HOURS: Final = 8
MAX_COMMENT: Final = 2000
MAX_PAIR_TARGETS: Final = 32
# io products a one-way remote can be paired to: Home Assistant's list (not a lock, a
# window handle or a plug, whatever their names contain).
PAIRABLE_UI_CLASSES: Final = frozenset(
    {
        "Awning",
        "Curtain",
        "ExteriorScreen",
        "ExteriorVenetianBlind",
        "GarageDoor",
        "Gate",
        "Light",
        "OnOff",
        "Pergola",
        "RollerShutter",
        "Screen",
        "Shutter",
        "SwingingShutter",
        "VenetianBlind",
        "Window",
    }
)
# A live command of the web app not delivered within this is dropped (it ends ``expired``).
LIVE_COMMAND_TTL: Final = timedelta(seconds=60)
OPEN: Final = "granted"
# Ends of a granted window that Home Assistant reports.
CLOSED: Final = ("revoked", "expired")
NO_WINDOW: Final = N_(
    "No remote-service window is open: the customer has not granted one, or it has ended."
)


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

    @property
    def endable(self) -> RemoteWindow | None:
        """The window "End remote intervention" ends (open, or lapsed with actions)."""
        return self.window or self.lapsed

    @property
    def open(self) -> bool:
        """Whether the installer may act now."""
        return self.window is not None

    def allows(self, kind: str) -> bool:
        """Whether ``kind`` is granted in the open window."""
        return self.window is not None and kind in self.kinds

    # For the templates (the banner, the pencils of the Devices tab).
    @staticmethod
    def editable(device: Device) -> Editable:
        """What may be changed on ``device``."""
        return editable(device)

    @staticmethod
    def reason_label(reason: str | None) -> str:
        """The message id of a read-only reason."""
        return reason_label(reason)

    @staticmethod
    def kind_label(kind: str) -> str:
        """The message id of an action kind."""
        return KIND_LABELS.get(kind, kind)

    @staticmethod
    def parameter_label(key: str) -> str:
        """The message id of a parameter."""
        return PARAMETER_LABELS.get(key, key)

    @staticmethod
    def new_action_id() -> str:
        """A fresh action id for a form."""
        return new_action_id()

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


async def status(core: Core, actor_id: int, installation_id: int) -> WindowView:
    """The banner of an installation's pages."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        return await window_view(db, installation.id, core.now())


async def _customer_language(db: AsyncSession, installation: Installation, fallback: str) -> str:
    language = await db.scalar(
        select(Registration.language)
        .where(Registration.installation_id == installation.id)
        .order_by(Registration.id.desc())
        .limit(1)
    )
    return language or fallback


async def _mail_customer(
    db: AsyncSession,
    installation: Installation,
    actor: User,
    now: datetime,
    kind: MailKind,
    fields: Callable[[Translator], dict[str, Any]],
) -> None:
    """E-mail the customer, in their language, on behalf of the installer and company."""
    if not installation.customer_email:
        return
    company = await db.get(Company, installation.company_id)
    assert company is not None
    language = await _customer_language(db, installation, actor.language)
    enqueue(
        db,
        now,
        kind,
        installation.customer_email,
        language,
        company=company.name,
        installer=actor.name,
        **fields(translator(language)),
    )


def _queue(
    db: AsyncSession,
    installation: Installation,
    now: datetime,
    kind: str,
    payload: dict[str, Any],
    ttl: timedelta | None = None,
) -> None:
    outbox.queue_frame(db, installation.id, now, kind, payload, ttl=ttl)


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


async def _notify(core: Core, installation_id: int) -> None:
    hub = core.hub
    if hub is not None:
        await hub.frames_pending(installation_id)
        await hub.changed(installation_id)


# -- requesting ---------------------------------------------------------------------------


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
                request_id=request_id,
                state="requested",
                kinds=json.dumps(chosen),
                hours=hours,
                requested_by_id=actor.id,
                requested_at=now,
                changed_at=now,
            )
        )
        _queue(
            db,
            installation,
            now,
            "request_remote_service",
            {"request_id": request_id, "installer": actor.name, "kinds": chosen, "hours": hours},
        )
        log(db, installation, now, "window_requested", actor=actor, detail=", ".join(chosen))
        await _mail_customer(
            db,
            installation,
            actor,
            now,
            MailKind.REMOTE_SERVICE_REQUEST,
            lambda _: {"hours": hours, "kinds": [_(KIND_LABELS[k]) for k in chosen]},
        )
    await _notify(core, installation_id)
    return request_id


# -- frames of Home Assistant -------------------------------------------------------------


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
    opened = await ctx.db.scalar(
        select(RemoteWindow)
        .where(RemoteWindow.installation_id == ctx.installation.id, RemoteWindow.state == OPEN)
        .order_by(RemoteWindow.id.desc())
        .limit(1)
    )
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


# -- actions ------------------------------------------------------------------------------


@dataclass(slots=True)
class Editable:
    """A product's editable parameters (from Home Assistant's ``editable`` field)."""

    parameters: dict[str, dict[str, Any]]
    reason: str | None


def editable(device: Device) -> Editable:
    """What may be changed on ``device``, or why nothing (io products only, P15)."""
    data: Any = None
    if device.editable:
        try:
            data = json.loads(device.editable)
        except ValueError:
            data = None
    parameters: dict[str, dict[str, Any]] = {}
    reason: str | None = None
    if isinstance(data, dict):
        raw = data.get("parameters")
        if isinstance(raw, dict):
            parameters = {
                str(k): v
                for k, v in raw.items()
                if isinstance(v, dict) and v.get("type") in ("int", "string")
            }
        given = data.get("read_only_reason")
        reason = given if isinstance(given, str) else None
    if device.protocol != "io":
        parameters = {}
        reason = "rts_one_way" if device.protocol == "rts" else "protocol_not_io"
    if not parameters and reason is None:
        reason = "no_editable_parameter"
    return Editable(parameters, reason)


def reason_label(reason: str | None) -> str:
    """The message id of a read-only reason."""
    return READ_ONLY_REASONS.get(reason or "", READ_ONLY_REASONS["no_editable_parameter"])


def _action_id(given: str | None) -> str:
    if given is None:
        return str(uuid.uuid4())
    try:
        parsed = uuid.UUID(given)
    except ValueError as err:
        raise RuleViolation("This form is not valid any more: open the page again.") from err
    if str(parsed) != given.lower():
        raise RuleViolation("This form is not valid any more: open the page again.")
    return str(parsed)


async def _device(db: AsyncSession, installation: Installation, device_id: int) -> Device:
    device = await db.get(Device, device_id)
    if device is None or device.installation_id != installation.id:
        raise NotFound()
    return device


async def _send(
    core: Core,
    actor_id: int,
    installation_id: int,
    kind: str,
    build: Any,
    action_id: str | None,
    *,
    live: bool = False,
) -> str:
    """Check the window and the kind, build the frame's fields, queue and record the action.

    ``live``: a command that makes sense only now (the live control page): refused while
    Home Assistant is offline, and never delivered later than :data:`LIVE_COMMAND_TTL`.
    """
    checked_id = _action_id(action_id)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        now = core.now()
        if live:
            state = await db.get(InstallationState, installation.id)
            if state is None or not state.connected:
                raise RuleViolation(
                    "Home Assistant is offline: the command was not sent. "
                    "Try again when it is back online."
                )
        view = await window_view(db, installation.id, now)
        if view.window is None:
            raise RuleViolation(NO_WINDOW)
        if not view.allows(kind):
            raise RuleViolation("The customer did not allow this kind of action.")
        seen = await db.scalar(select(RemoteAction.id).where(RemoteAction.action_id == checked_id))
        if seen is not None:
            raise RuleViolation("This action was already sent.")
        fields, summary = await build(db, installation)
        payload = {"action_id": checked_id, "kind": kind, **fields}
        db.add(
            RemoteAction(
                installation_id=installation.id,
                window_id=view.window.id,
                action_id=checked_id,
                kind=kind,
                payload=json.dumps(payload),
                summary=summary[:1000],
                actor_id=actor.id,
                actor_name=actor.name,
                created_at=now,
            )
        )
        _queue(db, installation, now, "action", payload, LIVE_COMMAND_TTL if live else None)
        log(db, installation, now, f"action_{kind}", actor=actor, detail=summary[:500] or None)
    await _notify(core, installation_id)
    return checked_id


async def change_parameter(
    core: Core,
    actor_id: int,
    installation_id: int,
    device_id: int,
    parameter: str,
    value: str,
    *,
    action_id: str | None = None,
) -> str:
    """Change an editable io parameter (pencil, P15): an ``action`` of kind ``parameters``."""

    async def build(db: AsyncSession, installation: Installation) -> tuple[dict[str, Any], str]:
        device = await _device(db, installation, device_id)
        allowed = editable(device)
        spec = allowed.parameters.get(parameter)
        if spec is None:
            raise RuleViolation(reason_label(allowed.reason if not allowed.parameters else None))
        typed = parameter_value(spec, value)
        fields = {"device_url": device.url, "parameter": parameter, "value": typed}
        return fields, f"{device.label}: {parameter} = {typed}"

    return await _send(core, actor_id, installation_id, "parameters", build, action_id)


async def reboot(
    core: Core, actor_id: int, installation_id: int, *, action_id: str | None = None
) -> str:
    """Reboot the box (P16)."""

    async def build(db: AsyncSession, installation: Installation) -> tuple[dict[str, Any], str]:
        return {}, ""

    return await _send(core, actor_id, installation_id, "reboot", build, action_id)


async def pair_remote(
    core: Core,
    actor_id: int,
    installation_id: int,
    *,
    source: str,
    device_ids: list[int],
    code: str | None = None,
    remote_id: int | None = None,
    action_id: str | None = None,
) -> str:
    """Add a remote control (P19-P22).

    - ``source="customer"`` without devices: pairing mode on the box (the customer presses
      PROG on the remote, which then appears among the products);
    - ``source="customer"`` with ``remote_id`` and devices: pair that remote to them;
    - ``source="installer"`` with the scanned ``code`` and devices: pair the remote whose
      QR code was scanned (its io address) to them.
    """
    if source not in ("customer", "installer"):
        raise ValidationFailed({"source": "Say where the remote control is."})
    scan = None
    if source == "installer":
        try:
            scan = parse_scan(code or "")
        except UnreadableCode as err:
            raise ValidationFailed(
                {"code": "The scan is unreadable: scan the remote's QR code again."}
            ) from err
    if (source == "installer" or remote_id is not None) and not device_ids:
        raise ValidationFailed({"devices": "Choose at least one product."})
    if len(device_ids) > MAX_PAIR_TARGETS:
        raise ValidationFailed({"devices": "Choose at most 32 products."})

    async def build(db: AsyncSession, installation: Installation) -> tuple[dict[str, Any], str]:
        if source == "customer" and remote_id is None:
            return {"source": "customer"}, "pairing mode"
        devices = [await _device(db, installation, i) for i in dict.fromkeys(device_ids)]
        for device in devices:
            if not pairable(device):
                raise RuleViolation(
                    "Remote controls are paired to io products that move or switch only."
                )
        labels = ", ".join(d.label for d in devices)
        fields: dict[str, Any] = {"source": source, "devices": [d.url for d in devices]}
        if scan is not None:
            fields |= {"code": scan.address, "remote_address": scan.address}
            return fields, f"{scan.address} -> {labels}"
        assert remote_id is not None
        remote = await _device(db, installation, remote_id)
        fields["remote_url"] = remote.url
        return fields, f"{remote.label} -> {labels}"

    return await _send(core, actor_id, installation_id, "pair_remote", build, action_id)


async def open_web_app(core: Core, actor_id: int, installation_id: int) -> str:
    """Open the customer's web app (P23); the opening is itself an action."""

    async def build(db: AsyncSession, installation: Installation) -> tuple[dict[str, Any], str]:
        return {"command": "open_web_app"}, ""

    return await _send(core, actor_id, installation_id, "web_app", build, None)


async def web_app_command(
    core: Core, actor_id: int, installation_id: int, device_id: int, command: str
) -> str:
    """A command of the live control page, checked in Home Assistant."""
    if command not in WEB_APP_COMMANDS:
        raise ValidationFailed({"command": "Unknown command."})

    async def build(db: AsyncSession, installation: Installation) -> tuple[dict[str, Any], str]:
        device = await _device(db, installation, device_id)
        return {"device_url": device.url, "command": command}, f"{device.label}: {command}"

    return await _send(core, actor_id, installation_id, "web_app", build, None, live=True)


@dataclass(slots=True)
class LiveControl:
    """The live control page: the window and the products."""

    window: WindowView
    devices: list[Device]


async def web_app(core: Core, actor_id: int, installation_id: int) -> LiveControl:
    """The products of the live control page (only inside a window granting ``web_app``)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        view = await window_view(db, installation.id, core.now())
        if not view.allows("web_app"):
            raise RuleViolation(
                "The customer's web app opens only inside a remote-service window that allows it."
            )
        devices = list(
            await db.scalars(
                select(Device)
                .where(Device.installation_id == installation.id)
                .order_by(Device.label, Device.id)
            )
        )
        return LiveControl(view, devices)


async def window_actions(
    core: Core, actor_id: int, installation_id: int
) -> tuple[WindowView, list[RemoteAction]]:
    """The open window and its actions (the summary before ending)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        view = await window_view(db, installation.id, core.now())
        window = view.endable
        if window is None:
            raise RuleViolation(NO_WINDOW)
        await outbox.expire_due(db, installation.id, core.now())
        actions = list(
            await db.scalars(
                select(RemoteAction)
                .where(RemoteAction.window_id == window.id)
                .order_by(RemoteAction.id)
            )
        )
        return view, actions


COMMAND_LABELS: Final = {
    "open": N_("Open"),
    "close": N_("Close"),
    "stop": N_("Stop"),
    "my": N_("My"),
    "on": N_("On"),
    "off": N_("Off"),
}


def mail_detail(action: RemoteAction, _: Any) -> str:
    """What the customer's e-mail says of an action, in their language ("" for nothing)."""
    try:
        payload = json.loads(action.payload)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    device, _sep, _rest = action.summary.partition(": ")
    if action.kind == "parameters":
        parameter = str(payload.get("parameter", ""))
        label = _(PARAMETER_LABELS.get(parameter, parameter))
        return f"{device}: {label} = {payload.get('value')}"
    if action.kind == "pair_remote":
        if "devices" not in payload:
            return str(_("pairing mode on the box"))
        remote, _arrow, targets = action.summary.partition(" -> ")
        return str(_("remote control {remote} paired to {devices}", remote=remote, devices=targets))
    if action.kind == "web_app" and payload.get("command") in COMMAND_LABELS:
        return f"{device}: {_(COMMAND_LABELS[payload['command']])}"
    return ""


def _result(action: RemoteAction, _: Any) -> str:
    """An action's result, as the customer's e-mail says it."""
    if action.ok:
        return str(_("done"))
    if action.error == outbox.EXPIRED:
        return str(_("not delivered: Home Assistant was offline"))
    if action.error == "interrupted":
        return str(_("interrupted: Home Assistant stopped before finishing it"))
    if action.ok is False:
        return str(_("refused by Home Assistant: {error}", error=action.error))
    return str(_("no answer yet"))


def action_line(action: RemoteAction) -> dict[str, Any]:
    """An action as the ``intervention_ended`` frame lists it."""
    return {
        "action_id": action.action_id,
        "kind": action.kind,
        "summary": action.summary,
        "at": action.created_at.isoformat(),
        "ok": action.ok,
        "error": action.error,
    }


async def end_intervention(core: Core, actor_id: int, installation_id: int, comment: str) -> None:
    """End remote intervention (P17-P18): tell Home Assistant, e-mail the customer, close."""
    text = comment.strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed({"comment": "The comment is too long (2000 characters at most)."})
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        now = core.now()
        view = await window_view(db, installation.id, now)
        window = view.endable
        if window is None:
            raise RuleViolation(NO_WINDOW)
        await outbox.expire_due(db, installation.id, core.now())
        actions = list(
            await db.scalars(
                select(RemoteAction)
                .where(RemoteAction.window_id == window.id)
                .order_by(RemoteAction.id)
            )
        )
        payload = protocol.bounded_list(
            "intervention_ended",
            {"comment": text, "actions": [action_line(a) for a in actions]},
            "actions",
        )
        _queue(db, installation, now, "intervention_ended", payload)
        window.state = "ended"
        window.comment = text
        window.changed_at = now
        log(db, installation, now, "intervention_ended", actor=actor, detail=text or None)
        await _mail_customer(
            db,
            installation,
            actor,
            now,
            MailKind.INTERVENTION_ENDED,
            lambda _: {
                "comment": text,
                "actions": [
                    {
                        "time": a.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                        "kind": _(KIND_LABELS.get(a.kind, a.kind)),
                        "summary": mail_detail(a, _),
                        "result": _result(a, _),
                    }
                    for a in actions
                ],
                "web_app": any(a.kind == "web_app" for a in actions),
            },
        )
    await _notify(core, installation_id)


def new_action_id() -> str:
    """A fresh action id for a form (sent back once; a replay is refused)."""
    return str(uuid.uuid4())


def commands_for(device: Device) -> list[str]:
    """The live control page's buttons for a product."""
    ui_class = device.ui_class or ""
    if any(
        word in ui_class
        for word in (
            "Shutter",
            "Blind",
            "Screen",
            "Awning",
            "Curtain",
            "Pergola",
            "Window",
            "Gate",
            "Door",
        )
    ) and ui_class not in ("ContactSensor",):
        return ["open", "stop", "close", "my"] if device.protocol in ("io", "rts") else []
    if "Light" in ui_class or "OnOff" in ui_class or "Plug" in ui_class:
        return ["on", "off"]
    return []


def pairable(device: Device) -> bool:
    """A product a remote control can drive: an io product that moves or switches."""
    return device.protocol == "io" and device.ui_class in PAIRABLE_UI_CLASSES


async def web_app_devices(
    core: Core, actor_id: int, installation_id: int, kind: str
) -> list[Device]:
    """The products, for a page that needs an open window granting ``kind``."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        view = await window_view(db, installation.id, core.now())
        if view.window is None:
            raise RuleViolation(NO_WINDOW)
        if not view.allows(kind):
            raise RuleViolation("The customer did not allow this kind of action.")
        return list(
            await db.scalars(
                select(Device)
                .where(Device.installation_id == installation.id)
                .order_by(Device.label, Device.id)
            )
        )
