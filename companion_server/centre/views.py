"""The monitoring centre's console: the queue of open cases and the case screen (M2-M6)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from companion_server.centre import console, labels, operators, store
from companion_server.centre.protocol_values import MAX_CONTACTS, ProtocolError
from companion_server.errors import NotFound, RuleViolation
from companion_server.event_stream import event_stream
from companion_server.parsing import parse_id, parse_int
from companion_server.web import (
    console_required,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    render,
)

routes = web.RouteTableDef()

MAX_VERSION = 1_000_000
LABELS = {
    "kinds": labels.KINDS,
    "phases": labels.PHASES,
    "actions": labels.ACTIONS,
    "buttons": labels.BUTTONS,
    "outcomes": labels.OUTCOMES,
    "guard_reasons": labels.GUARD_REASONS,
    "contact_kinds": labels.CONTACT_KINDS,
}


@routes.get("/centre", allow_head=False)
@console_required
async def queue_page(request: web.Request) -> web.StreamResponse:
    """The open cases, most urgent first, updating live."""
    after = request.query.get("after") or None
    page = await console.queue(core_of(request), current_user(request).id, after)
    context = {"page": page, "after": after, "urgencies": labels.URGENCIES, **LABELS}
    return render(request, "centre/queue.html", context)


async def _case_page(
    request: web.Request, case_id: int, error: tuple[str, dict[str, Any]] | None = None
) -> web.Response:
    view = await console.case_view(core_of(request), current_user(request).id, case_id)
    context = {"case": view, "error": error, **LABELS}
    return render(request, "centre/case.html", context, status=409 if error else 200)


@routes.get("/centre/cases/{case_id}", allow_head=False)
@console_required
async def case_page(request: web.Request) -> web.StreamResponse:
    """One case: the installation, the contacts, the history and the steps allowed now."""
    return await _case_page(request, int_param(request, "case_id"))


@routes.post("/centre/cases/{case_id}/claim")
@console_required
async def claim(request: web.Request) -> web.StreamResponse:
    """Take the case."""
    case_id = int_param(request, "case_id")
    await operators.claim(core_of(request), current_user(request).id, case_id)
    return flash_redirect(request, f"/centre/cases/{case_id}", "case_claimed")


@routes.post("/centre/cases/{case_id}/release")
@console_required
async def release(request: web.Request) -> web.StreamResponse:
    """Give the case back to the queue."""
    case_id = int_param(request, "case_id")
    await operators.release(core_of(request), current_user(request).id, case_id)
    return flash_redirect(request, "/centre", "case_released")


@routes.post("/centre/cases/{case_id}/hand-over")
@console_required
async def hand_over(request: web.Request) -> web.StreamResponse:
    """Give the case to a colleague (field ``user_id``)."""
    case_id = int_param(request, "case_id")
    data = await form_data(request)
    to_id = parse_id(data.get("user_id"))
    if to_id is None:
        raise RuleViolation(operators.NOT_A_COLLEAGUE)
    await operators.hand_over(core_of(request), current_user(request).id, case_id, to_id)
    return flash_redirect(request, "/centre", "case_handed_over")


@routes.post("/centre/cases/{case_id}/steps")
@console_required
async def record_step(request: web.Request) -> web.StreamResponse:
    """Record a step (fields ``step``, ``version``, ``note``, ``password``, ``contact``)."""
    case_id = int_param(request, "case_id")
    data = await form_data(request)
    # The number of steps the page showed: 0 for a case just opened.
    version = parse_int(data.get("version"), 0, MAX_VERSION)
    raw_contact = data.get("contact", "")
    # The contact who called back, by place in the calling order: 0 is the first contact.
    contact = parse_int(raw_contact, 0, MAX_CONTACTS - 1) if raw_contact else None
    if version is None or (raw_contact and contact is None):
        raise NotFound()
    try:
        await operators.record_step(
            core_of(request),
            current_user(request).id,
            case_id,
            step=data.get("step", ""),
            version=version,
            note=data.get("note", "").strip(),
            password=data.get("password", ""),
            contact=contact,
        )
    except (ProtocolError, RuleViolation) as err:
        return await _case_page(request, case_id, (err.message, err.params))
    return flash_redirect(request, f"/centre/cases/{case_id}", "step_recorded")


@routes.get("/centre/events", allow_head=False)
@console_required
async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``changed`` whenever a case of the company changes.

    The stream ends after two minutes (the browser reconnects, and the session is checked
    again).
    """
    topic = store.console_topic(current_user(request).company_id)
    return await event_stream(request, topic, "{}")
