"""Pages of customer accounts: the invitation, the customer area, a company's customers."""

from __future__ import annotations

from aiohttp import web

from companion_server.accounts import invitation_pages
from companion_server.customers import invitations, services
from companion_server.errors import ValidationFailed
from companion_server.monitoring.labels import log_label
from companion_server.monitoring.log_details import log_detail
from companion_server.parsing import parse_id
from companion_server.tickets import services as tickets
from companion_server.tickets.tracking import customer_tickets
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    customer_required,
    flash_redirect,
    form_data,
    int_param,
    render,
)

routes = web.RouteTableDef()


@routes.get("/customer-invitation/{token}", allow_head=False)
async def invitation_form(request: web.Request) -> web.StreamResponse:
    """The homeowner chooses their name and password."""
    return await invitation_pages.invitation_form(
        request, "customers/invitation.html", invitations.peek_customer_invitation
    )


@routes.post("/customer-invitation/{token}")
async def accept(request: web.Request) -> web.StreamResponse:
    """Create the customer account, log in (a new session) and open the customer area."""
    return await invitation_pages.accept_invitation(
        request,
        "customers/invitation.html",
        invitations.peek_customer_invitation,
        invitations.accept_customer_invitation,
        "/customer",
    )


@routes.get("/customer", allow_head=False)
@customer_required
async def area(request: web.Request) -> web.StreamResponse:
    """The customer's installations, intervention reports and tickets."""
    user = current_user(request)
    core = core_of(request)
    return render(
        request,
        "customers/area.html",
        {
            "owned": await services.customer_area(core, user.id),
            "tickets": await customer_tickets(core, user.id),
            "log_label": log_label,
            "log_detail": log_detail,
        },
    )


async def _new_ticket_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    choices = await tickets.customer_choices(core_of(request), current_user(request).id)
    return render(
        request,
        "customers/new_ticket.html",
        {"choices": choices, "values": values, "errors": errors or {}},
        status,
    )


@routes.get("/customer/tickets/new", allow_head=False)
@customer_required
async def new_ticket_form(request: web.Request) -> web.StreamResponse:
    """The form of a new ticket."""
    return await _new_ticket_page(request, {"kind": "contact"})


@routes.post("/customer/tickets")
@customer_required
async def create_ticket(request: web.Request) -> web.StreamResponse:
    """Open a ticket for one of the customer's installations."""
    data = await form_data(request)
    form = tickets.NewTicket(
        installation_id=parse_id(data.get("installation_id")),
        kind=data.get("kind", ""),
        description=data.get("description", ""),
        device_url=data.get("device_url", ""),
        device_serial=data.get("device_serial", ""),
    )
    try:
        ticket = await tickets.create_ticket(core_of(request), current_user(request).id, form)
    except ValidationFailed as err:
        return await _new_ticket_page(request, data, err.errors, 400)
    return flash_redirect(request, f"/customer/tickets/{ticket.id}", "ticket_created")


async def _ticket_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    view = await tickets.ticket_view(
        core_of(request), current_user(request).id, int_param(request, "ticket_id")
    )
    return render(request, "customers/ticket.html", {"view": view, "errors": errors or {}}, status)


@routes.get("/customer/tickets/{ticket_id}", allow_head=False)
@customer_required
async def ticket_page(request: web.Request) -> web.StreamResponse:
    """One of the customer's tickets, with the public answers."""
    return await _ticket_page(request)


@routes.post("/customer/tickets/{ticket_id}/comments")
@customer_required
async def comment(request: web.Request) -> web.StreamResponse:
    """The customer answers on their ticket."""
    ticket_id = int_param(request, "ticket_id")
    data = await form_data(request)
    try:
        await tickets.add_comment(
            core_of(request),
            current_user(request).id,
            ticket_id,
            body=data.get("body", ""),
            public=True,
        )
    except ValidationFailed as err:
        return await _ticket_page(request, err.errors, 400)
    return flash_redirect(request, f"/customer/tickets/{ticket_id}", "ticket_commented")


async def _customers_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    after = request.query.get("after") or None
    found = await services.company_customers(core_of(request), current_user(request), after)
    return render(
        request,
        "customers/list.html",
        {
            "customers": found.customers,
            "after": after,
            "next_after": found.next_after,
            "errors": errors or {},
            "failed": request.match_info.get("customer_id"),
        },
        status,
    )


@routes.get("/customers", allow_head=False)
@admin_required
async def customers_page(request: web.Request) -> web.StreamResponse:
    """The customers owning an installation of the company (administrators)."""
    return await _customers_page(request)


@routes.post("/customers/{customer_id}/messages")
@admin_required
async def contact(request: web.Request) -> web.StreamResponse:
    """Write to a customer of the company."""
    data = await form_data(request)
    try:
        await services.contact_customer(
            core_of(request),
            current_user(request).id,
            int_param(request, "customer_id"),
            data.get("body", ""),
        )
    except ValidationFailed as err:
        return await _customers_page(request, err.errors, 400)
    return flash_redirect(request, "/customers", "customer_contacted")
