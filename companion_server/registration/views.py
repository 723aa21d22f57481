"""Pages of box registration: the requests list, "Register a new box", "Resend e-mail"."""

from __future__ import annotations

from aiohttp import web

from companion_server.errors import RuleViolation, ValidationFailed
from companion_server.installations.services import get_installation
from companion_server.parsing import parse_id
from companion_server.registration import services
from companion_server.web import (
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    login_required,
    render,
)

routes = web.RouteTableDef()


@routes.get("/installations/registrations", allow_head=False)
@login_required
async def requests_list(request: web.Request) -> web.StreamResponse:
    """Registration requests waiting for the customer (P1, P3)."""
    user = current_user(request)
    after = parse_id(request.query.get("after"))
    found = await services.pending_requests(core_of(request), user, after)
    context = {"pending": found.requests, "after": after, "next_after": found.next_after}
    return render(request, "registrations.html", context)


def _form_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    return render(
        request,
        "registration_new.html",
        {"values": values, "errors": errors},
        status=status,
    )


@routes.get("/installations/registrations/new", allow_head=False)
@login_required
async def new_form(request: web.Request) -> web.StreamResponse:
    """The "Register a new box" form."""
    user = current_user(request)
    return _form_page(request, {"language": user.language}, {})


@routes.post("/installations/registrations")
@login_required
async def create(request: web.Request) -> web.StreamResponse:
    """Register the box and e-mail the customer (P2)."""
    data = await form_data(request)
    values = {k: data.get(k, "").strip() for k in ("pin", "email", "language", "name")}
    try:
        registered = await services.register_box(
            core_of(request),
            current_user(request).id,
            pin=values["pin"],
            customer_email=values["email"],
            language=values["language"] or None,
            name=values["name"] or None,
        )
    except ValidationFailed as err:
        return _form_page(request, values, err.errors, 400)
    except RuleViolation as err:
        return _form_page(request, values, {"pin": err.message}, 409)
    return flash_redirect(
        request, f"/installations/{registered.installation_id}?registered=1", "box_registered"
    )


@routes.get("/installations/{installation_id}/resend", allow_head=False)
@login_required
async def resend_form(request: web.Request) -> web.StreamResponse:
    """The "Resend e-mail" form, with the address to correct if needed (P4)."""
    installation, _ = await get_installation(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    return render(
        request,
        "registration_resend.html",
        {
            "installation": installation,
            "values": {"email": installation.customer_email or ""},
            "errors": {},
        },
    )


@routes.post("/installations/{installation_id}/resend")
@login_required
async def resend(request: web.Request) -> web.StreamResponse:
    """Send a new code (the old one stops working), maybe to a corrected address."""
    installation_id = int_param(request, "installation_id")
    core = core_of(request)
    user = current_user(request)
    data = await form_data(request)
    email = data.get("email", "").strip()
    try:
        await services.resend(core, user.id, installation_id, email=email or None)
    except (ValidationFailed, RuleViolation) as err:
        installation, _ = await get_installation(core, user.id, installation_id)
        errors = err.errors if isinstance(err, ValidationFailed) else {"email": err.message}
        return render(
            request,
            "registration_resend.html",
            {"installation": installation, "values": {"email": email}, "errors": errors},
            status=400,
        )
    return flash_redirect(request, "/installations/registrations", "code_resent")
