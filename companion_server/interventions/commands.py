"""The installer's actions inside a remote-service window (P15-P23), and ending it (P17-P18).

Every action re-checks the window (open, kind granted) in its own transaction, is recorded
once by its id, and goes to Home Assistant as an ``action`` frame, which checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import TYPE_CHECKING, Any
import uuid

from sqlalchemy import select

from companion_server.errors import NotFound, RuleViolation, ValidationFailed
from companion_server.hub import outbox, protocol
from companion_server.installations.services import visible_installation
from companion_server.interventions.codes import UnreadableCode, parse_scan
from companion_server.interventions.mails import mail_customer, mail_detail, result_text
from companion_server.interventions.rules import (
    KIND_LABELS,
    LIVE_COMMAND_TTL,
    MAX_COMMENT,
    MAX_PAIR_TARGETS,
    NO_WINDOW,
    WEB_APP_COMMANDS,
    editable,
    pairable,
    reason_label,
)
from companion_server.interventions.values import parameter_value
from companion_server.interventions.windows import WindowView, gated_view, notify, window_view
from companion_server.journal import log
from companion_server.mail.outbox import MailKind
from companion_server.models import Device, InstallationState, RemoteAction
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import Installation, RemoteWindow


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
        view = await gated_view(db, installation, now)
        window = view.acting_window()
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
                window_id=window.id,
                action_id=checked_id,
                kind=kind,
                payload=json.dumps(payload),
                summary=summary[:1000],
                actor_id=actor.id,
                actor_name=actor.name,
                created_at=now,
            )
        )
        ttl = LIVE_COMMAND_TTL if live else None
        outbox.queue_frame(db, installation.id, now, "action", payload, ttl=ttl)
        log(db, installation, now, f"action_{kind}", actor=actor, detail=summary[:500] or None)
    await notify(core, installation_id)
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
        view = await gated_view(db, installation, core.now())
        if view.window is not None:
            view.acting_window()  # held back: say why rather than "no window"
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
        view, _window, actions = await _endable(db, core, installation)
        return view, actions


async def _endable(
    db: AsyncSession, core: Core, installation: Installation
) -> tuple[WindowView, RemoteWindow, list[RemoteAction]]:
    """The window an installer may end, and its actions (commands past their time expire)."""
    view = await window_view(db, installation.id, core.now())
    window = view.endable
    if window is None:
        raise RuleViolation(NO_WINDOW)
    await outbox.expire_due(db, installation.id, core.now())
    query = select(RemoteAction).where(RemoteAction.window_id == window.id)
    actions = list(await db.scalars(query.order_by(RemoteAction.id)))
    return view, window, actions


async def web_app_devices(
    core: Core, actor_id: int, installation_id: int, kind: str
) -> list[Device]:
    """The products, for a page that needs an open window granting ``kind``."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        view = await gated_view(db, installation, core.now())
        view.acting_window()
        if not view.allows(kind):
            raise RuleViolation("The customer did not allow this kind of action.")
        return list(
            await db.scalars(
                select(Device)
                .where(Device.installation_id == installation.id)
                .order_by(Device.label, Device.id)
            )
        )


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
        _view, window, actions = await _endable(db, core, installation)
        payload = protocol.bounded_list(
            "intervention_ended",
            {"comment": text, "actions": [action_line(a) for a in actions]},
            "actions",
        )
        outbox.queue_frame(db, installation.id, now, "intervention_ended", payload)
        window.state = "ended"
        window.comment = text
        window.changed_at = now
        log(db, installation, now, "intervention_ended", actor=actor, detail=text or None)
        await mail_customer(
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
                        "result": result_text(a, _),
                    }
                    for a in actions
                ],
                "web_app": any(a.kind == "web_app" for a in actions),
            },
        )
    await notify(core, installation_id)
