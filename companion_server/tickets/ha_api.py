"""``POST /api/v1/tickets``: the homeowner's Home Assistant opens a ticket (D8, O15).

Authenticated with the installation's bearer token. The ticket is the customer's who owns
the box (created as theirs, never as the installer's); a box nobody owns as a customer is
refused ``no_customer`` so that Home Assistant can point the homeowner to the invitation.
What Home Assistant attaches (the box PIN, the device's URL and serial, the diagnostics the
homeowner chose to send) becomes the ticket's first comment, written as the customer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from sqlalchemy import select

from companion_server.errors import ValidationFailed
from companion_server.hub.auth import authenticate, bearer
from companion_server.models import Device, Ticket, TicketComment, User
from companion_server.parsing import has_control_characters
from companion_server.security import ratelimit
from companion_server.settings import RateLimit
from companion_server.tickets.services import NewTicket, create_ticket, installation_owner
from companion_server.web import core_of

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.hub.auth import Authenticated

routes = web.RouteTableDef()

# A loop in an automation must not bury the installer's queue.
TICKETS_PER_INSTALLATION: Final = RateLimit(10, 3600)
MAX_BODY: Final = 48 * 1024
MAX_DIAGNOSTICS: Final = 16000
MAX_DEVICE_TEXT: Final = 300


def _error(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def _device(raw: Any) -> dict[str, str] | None:
    """The device Home Assistant names: short texts only; None when it names none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("device")
    device = {}
    for key in ("url", "serial", "label", "model"):
        value = raw.get(key) or ""
        if not isinstance(value, str) or len(value) > MAX_DEVICE_TEXT:
            raise ValueError("device")
        if has_control_characters(value):
            raise ValueError("device")
        device[key] = value.strip()
    return device


def _read(body: Any) -> tuple[NewTicket, str, dict[str, str] | None, str]:
    """The ticket asked for, the PIN, the device and the diagnostics as text (ValueError)."""
    if not isinstance(body, dict):
        raise ValueError("body")
    kind, description, pin = body.get("kind"), body.get("description"), body.get("pin")
    if not (isinstance(kind, str) and isinstance(description, str) and isinstance(pin, str)):
        raise ValueError("body")
    device = _device(body.get("device"))
    diagnostics = body.get("diagnostics")
    text = ""
    if diagnostics is not None:
        if not isinstance(diagnostics, dict):
            raise ValueError("diagnostics")
        text = json.dumps(diagnostics, indent=1, ensure_ascii=False, sort_keys=True)
        if len(text) > MAX_DIAGNOSTICS:
            raise ValueError("diagnostics")
    form = NewTicket(
        installation_id=None,
        kind=kind,
        description=description,
        device_serial=(device or {}).get("serial", ""),
    )
    return form, pin.strip(), device, text


async def _known_device(core: Core, installation_id: int, url: str) -> str:
    """The device's URL when the portal knows the device (monitoring sent it), else ""."""
    if not url:
        return ""
    async with core.tx() as db:
        found = await db.scalar(
            select(Device.url).where(Device.installation_id == installation_id, Device.url == url)
        )
        return found or ""


def _attachment(pin: str, device: dict[str, str] | None, diagnostics: str) -> str:
    lines = ["Sent from Home Assistant.", f"Box PIN: {pin}"]
    if device is not None:
        for key, label in (("label", "Device"), ("model", "Model"), ("serial", "Serial")):
            if device[key]:
                lines.append(f"{label}: {device[key]}")
        if device["url"]:
            lines.append(f"Device URL: {device['url']}")
    if diagnostics:
        lines += ["", "Diagnostics:", diagnostics]
    return "\n".join(lines)


async def _attach(core: Core, ticket: Ticket, customer_id: int, text: str) -> None:
    async with core.tx() as db:
        customer = await db.get(User, customer_id)
        db.add(
            TicketComment(
                ticket_id=ticket.id,
                author_id=customer_id,
                author_name=customer.name if customer else "",
                body=text,
                public=True,
                status=None,
                minutes=0,
                created_at=core.now(),
            )
        )


async def _within_limit(core: Core, link: Authenticated) -> bool:
    # Counted in its own transaction: a refusal must not roll the count back.
    async with core.tx() as db:
        return await ratelimit.allowed(
            db, core.now(), "ha_ticket", str(link.installation_id), TICKETS_PER_INSTALLATION
        )


@routes.post("/api/v1/tickets")
async def create_from_home_assistant(request: web.Request) -> web.StreamResponse:
    """Open a ticket for the box's customer; answer its number."""
    core = core_of(request)
    link = await authenticate(core, bearer(request))
    if link is None:
        return web.json_response(
            {"error": "invalid_token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(400, "invalid_request")
    try:
        form, pin, device, diagnostics = _read(await request.json())
    except ValueError:  # not JSON, or not the shape above
        return _error(400, "invalid_request")
    if link.box_pin and pin != link.box_pin:
        return _error(409, "wrong_box")
    async with core.tx() as db:
        customer_id = await installation_owner(db, link.installation_id)
    if customer_id is None:
        return _error(409, "no_customer")
    if not await _within_limit(core, link):
        retry_after = str(TICKETS_PER_INSTALLATION.window_seconds)
        return web.json_response(
            {"error": "rate_limited"}, status=429, headers={"Retry-After": retry_after}
        )
    known_url = await _known_device(core, link.installation_id, (device or {}).get("url", ""))
    form = NewTicket(
        installation_id=link.installation_id,
        kind=form.kind,
        description=form.description,
        device_url=known_url,
        device_serial=form.device_serial or (device or {}).get("url", "")[:100],
    )
    try:
        ticket = await create_ticket(core, customer_id, form)
    except ValidationFailed as err:
        return _error(400, "invalid_ticket", fields=sorted(err.errors))
    await _attach(core, ticket, customer_id, _attachment(pin, device, diagnostics))
    url = f"{core.settings.public_url}/customer/tickets/{ticket.id}"
    return web.json_response({"number": ticket.number, "url": url}, status=201)
