"""Ticket pages of the companies' staff and the manufacturer's support."""

from __future__ import annotations

from aiohttp import web

from companion_server.errors import ValidationFailed
from companion_server.parsing import parse_id
from companion_server.tickets import services
from companion_server.tickets.labels import STATUS_LABELS
from companion_server.tickets.tracking import FILTERS, TicketQuery, ticket_page
from companion_server.web import (
    core_of,
    current_user,
    desk_required,
    flash_redirect,
    form_data,
    int_param,
    render,
    support_required,
)

routes = web.RouteTableDef()


@routes.get("/tickets", allow_head=False)
@desk_required
async def tickets_page(request: web.Request) -> web.StreamResponse:
    """Every ticket the user sees of the last three months; search, filter and pages."""
    query = TicketQuery.parse(request.query)
    page = await ticket_page(core_of(request), current_user(request).id, query)
    return render(request, "tickets/list.html", {"page": page, "filters": FILTERS})


async def _new_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return render(request, "tickets/new.html", {"values": values, "errors": errors or {}}, status)


@routes.get("/tickets/new", allow_head=False)
@support_required
async def new_form(request: web.Request) -> web.StreamResponse:
    """The manufacturer's support opens a ticket for a box (named by its PIN)."""
    return await _new_page(request, {"kind": "contact"})


@routes.post("/tickets")
@support_required
async def create(request: web.Request) -> web.StreamResponse:
    """Open the ticket; it shows as created by the manufacturer's support."""
    data = await form_data(request)
    form = services.NewTicket(
        installation_id=None,
        kind=data.get("kind", ""),
        description=data.get("description", ""),
        device_serial=data.get("device_serial", ""),
        box_pin=data.get("box_pin", ""),
    )
    try:
        ticket = await services.create_ticket(core_of(request), current_user(request).id, form)
    except ValidationFailed as err:
        return await _new_page(request, data, err.errors, 400)
    return flash_redirect(request, f"/tickets/{ticket.id}", "ticket_created")


async def _ticket_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    view = await services.ticket_view(
        core_of(request), current_user(request).id, int_param(request, "ticket_id")
    )
    return render(
        request,
        "tickets/ticket.html",
        {"view": view, "errors": errors or {}, "statuses": STATUS_LABELS},
        status,
    )


@routes.get("/tickets/{ticket_id}", allow_head=False)
@desk_required
async def ticket(request: web.Request) -> web.StreamResponse:
    """A ticket with every comment, its status, assignee and time spent."""
    return await _ticket_page(request)


@routes.post("/tickets/{ticket_id}/status")
@desk_required
async def status(request: web.Request) -> web.StreamResponse:
    """Change the status (the customer is mailed)."""
    ticket_id = int_param(request, "ticket_id")
    data = await form_data(request)
    try:
        await services.change_status(
            core_of(request), current_user(request).id, ticket_id, data.get("status", "")
        )
    except ValidationFailed as err:
        return await _ticket_page(request, err.errors, 400)
    return flash_redirect(request, f"/tickets/{ticket_id}", "ticket_status_changed")


@routes.post("/tickets/{ticket_id}/assignee")
@desk_required
async def assignee(request: web.Request) -> web.StreamResponse:
    """Give the ticket to a member of its company, or to nobody."""
    ticket_id = int_param(request, "ticket_id")
    data = await form_data(request)
    raw = data.get("assignee_id", "")
    chosen = parse_id(raw)
    try:
        if raw and chosen is None:
            raise ValidationFailed({"assignee_id": "Choose a member of the company."})
        await services.assign_ticket(core_of(request), current_user(request).id, ticket_id, chosen)
    except ValidationFailed as err:
        return await _ticket_page(request, err.errors, 400)
    return flash_redirect(request, f"/tickets/{ticket_id}", "ticket_assigned")


@routes.post("/tickets/{ticket_id}/comments")
@desk_required
async def comment(request: web.Request) -> web.StreamResponse:
    """A public answer or an internal comment, with the minutes spent."""
    ticket_id = int_param(request, "ticket_id")
    data = await form_data(request)
    try:
        await services.add_comment(
            core_of(request),
            current_user(request).id,
            ticket_id,
            body=data.get("body", ""),
            public=data.get("visibility") == "public",
            minutes=data.get("minutes", ""),
        )
    except ValidationFailed as err:
        return await _ticket_page(request, err.errors, 400)
    return flash_redirect(request, f"/tickets/{ticket_id}", "ticket_commented")
