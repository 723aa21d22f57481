"""The receiving centre settings page: enter, change, switch off, test; the last messages.

Administrators only, and always their own company's centre: no route takes a company id.
The AES key is never put in a page: the form shows only whether one is saved.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from companion_server.centre.sia import store
from companion_server.centre.sia.client import Delivered, Failure, Result
from companion_server.centre.sia.events import MessageFormat
from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    form_data,
    redirect,
    render,
)

routes = web.RouteTableDef()
PATH: Final = "/company/alarm-centre"

FORMATS: Final = {
    MessageFormat.SIA_DCS.value: N_("SIA DCS"),
    MessageFormat.ADM_CID.value: N_("Contact ID"),
}
KINDS: Final = {
    "intrusion": N_("Intrusion"),
    "aggression": N_("Aggression"),
    "tamper": N_("Tamper"),
    "fire": N_("Fire"),
}
STATES: Final = {
    "pending": N_("Waiting to be sent"),
    "delivered": N_("Delivered"),
    "rejected": N_("Refused by the centre"),
    "failed": N_("Not delivered"),
}
# Why a message or a test did not go through (the transmitter's failures and ours).
ERRORS: Final = {
    Failure.NAK.value: N_(
        "The centre refused the message (NAK): check the account, the key and the clock."
    ),
    Failure.DUH.value: N_(
        "The centre could not process the message (DUH): check the key and the event codes."
    ),
    Failure.TIMEOUT.value: N_("The centre did not answer in time."),
    Failure.UNREACHABLE.value: N_("The centre could not be reached: check the host and the port."),
    Failure.NO_ANSWER.value: N_("The centre closed the connection without answering."),
    Failure.INVALID_ANSWER.value: N_(
        "The centre's answer does not match the message: check the account and the key."
    ),
    "key_unreadable": N_("The saved key can no longer be read: enter it again."),
    "off": N_("Save the settings first: forwarding is switched off."),
    "busy": N_("A message is being sent to the centre right now. Try again in a moment."),
}
DONE: Final = {
    "saved": N_("The receiving centre is saved: alarms are forwarded to it."),
    "disabled": N_("Forwarding is switched off: new alarms are no longer sent to the centre."),
}


async def _page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    test: tuple[bool, str, dict[str, object]] | None = None,
    status: int = 200,
) -> web.Response:
    view = await store.centre_view(core_of(request), current_user(request).company_id)
    done = DONE.get(request.query.get("done", ""))
    return render(
        request,
        "centre_link.html",
        {
            "centre": view,
            "values": values or view.values,
            "errors": errors or {},
            "formats": FORMATS,
            "kinds": KINDS,
            "states": STATES,
            "failures": ERRORS,
            "test": test,
            "done": done,
        },
        status,
    )


@routes.get(PATH, allow_head=False)
@admin_required
async def centre_page(request: web.Request) -> web.StreamResponse:
    """The settings, the test button and the last messages."""
    return await _page(request)


@routes.post(PATH)
@admin_required
async def save(request: web.Request) -> web.StreamResponse:
    """Save the settings (a wrong field changes nothing and says why)."""
    data = await form_data(request)
    try:
        await store.save_centre(core_of(request), current_user(request).company_id, data)
    except ValidationFailed as err:
        # Typed values come back, the key never does.
        values = {name: data.get(name, "") for name in store.FORM_FIELDS}
        return await _page(request, errors=err.errors, values=values, status=400)
    return redirect(f"{PATH}?done=saved")


@routes.post(PATH + "/disable")
@admin_required
async def disable(request: web.Request) -> web.StreamResponse:
    """Stop forwarding alarms."""
    await store.disable_centre(core_of(request), current_user(request).company_id)
    return redirect(f"{PATH}?done=disabled")


@routes.post(PATH + "/test")
@admin_required
async def test(request: web.Request) -> web.StreamResponse:
    """Send a link test (``NULL``) with the saved settings and show the centre's answer."""
    outcome = await store.link_test(core_of(request), current_user(request).company_id)
    return await _page(request, test=_test_result(outcome))


def _test_result(outcome: Result | str) -> tuple[bool, str, dict[str, object]]:
    if isinstance(outcome, Delivered):
        message = N_("The centre acknowledged the test message (number {sequence}).")
        return True, message, {"sequence": f"{outcome.sequence:04d}"}
    code = outcome if isinstance(outcome, str) else outcome.failure.value
    return False, ERRORS[code], {}
