"""Remote service (P13-P23): request, the actions inside a window, the live control page, end.

Every handler re-checks the window through the services (open, kind granted); Home Assistant
checks each action once more on its own clock.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from companion_server.error_pages import error_page
from companion_server.errors import ValidationFailed
from companion_server.installation_tabs import tab_context
from companion_server.interventions import commands, windows
from companion_server.interventions.codes import UnreadableCode, parse_scan
from companion_server.interventions.rules import MAX_HOURS, pairable
from companion_server.interventions.templating import commands_for, new_action_id
from companion_server.parsing import parse_id, parse_int
from companion_server.web import (
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    login_required,
    redirect,
    render,
)

routes = web.RouteTableDef()


def _base(request: web.Request) -> str:
    return f"/installations/{int_param(request, 'installation_id')}"


def _int(value: str | None, field: str) -> int:
    number = parse_id(value)
    if number is None:
        raise ValidationFailed({field: "Choose a product."})
    return number


def _invalid(request: web.Request, err: ValidationFailed) -> web.StreamResponse:
    """A 400 page saying what is wrong (the first field's message)."""
    return error_page(request, 400, next(iter(err.errors.values()), err.message))


@routes.post("/installations/{installation_id}/remote-service")
@login_required
async def request_service(request: web.Request) -> web.StreamResponse:
    """Request remote service (P13)."""
    installation_id = int_param(request, "installation_id")
    data = await request.post()
    kinds = [str(k) for k in data.getall("kinds", []) if isinstance(k, str)]
    hours_text = data.get("hours")
    # The installer chooses both: nothing is read as "every kind" or "the longest window".
    missing = None
    if not kinds:
        missing = ValidationFailed({"kinds": "Choose at least one kind of action."})
    elif not hours_text:
        missing = ValidationFailed({"hours": "Choose how long the window lasts."})
    if missing is not None:
        # Someone who may not see the installation learns nothing more than its absence.
        await windows.status(core_of(request), current_user(request).id, installation_id)
        return _invalid(request, missing)
    hours = parse_int(hours_text, 1, MAX_HOURS) if isinstance(hours_text, str) else None
    if hours is None:
        return _invalid(request, ValidationFailed({"hours": "The duration is 1 to 8 hours."}))
    try:
        await windows.request_remote_service(
            core_of(request),
            current_user(request).id,
            installation_id,
            kinds=kinds,
            hours=hours,
        )
    except ValidationFailed as err:
        return _invalid(request, err)
    return flash_redirect(request, _base(request), "remote_service_requested")


@routes.post("/installations/{installation_id}/remote/parameters")
@login_required
async def change_parameter(request: web.Request) -> web.StreamResponse:
    """The pencil's form: one io parameter of one product (P15)."""
    data = await form_data(request)
    try:
        await commands.change_parameter(
            core_of(request),
            current_user(request).id,
            int_param(request, "installation_id"),
            _int(data.get("device_id"), "device_id"),
            data.get("parameter", ""),
            data.get("value", ""),
            action_id=data.get("action_id") or None,
        )
    except ValidationFailed as err:
        return _invalid(request, err)
    return flash_redirect(request, _base(request) + "/devices", "remote_action_sent")


@routes.post("/installations/{installation_id}/remote/reboot")
@login_required
async def reboot(request: web.Request) -> web.StreamResponse:
    """Reboot the box (P16)."""
    data = await form_data(request)
    await commands.reboot(
        core_of(request),
        current_user(request).id,
        int_param(request, "installation_id"),
        action_id=data.get("action_id") or None,
    )
    return flash_redirect(request, _base(request) + "/devices", "remote_action_sent")


async def _wizard(
    request: web.Request,
    source: str | None,
    *,
    errors: dict[str, str] | None = None,
    code: str = "",
    chosen: set[int] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    context = await tab_context(request, "devices")
    live = await commands.web_app_devices(
        core_of(request), current_user(request).id, context["installation"].id, "pair_remote"
    )
    scan = None
    if code and not (errors or {}).get("code"):
        try:
            scan = parse_scan(code)
        except UnreadableCode:
            scan = None
    context.update(
        {
            "source": source if source in ("customer", "installer") else None,
            "targets": [d for d in live if pairable(d)],
            "remotes": [d for d in live if _is_remote(d)],
            "errors": errors or {},
            "code": code,
            "scan": scan,
            "chosen": chosen or set(),
            "new_action_id": new_action_id(),
        }
    )
    return render(request, "interventions/pair.html", context, status=status)


def _is_remote(device: Any) -> bool:
    ui_class = device.ui_class or ""
    return "Remote" in ui_class or "Controller" in ui_class


@routes.get("/installations/{installation_id}/remote/pair", allow_head=False)
@login_required
async def pair_wizard(request: web.Request) -> web.StreamResponse:
    """The "Add a remote control" wizard (P19-P22): where is the remote, which products."""
    return await _wizard(request, request.query.get("source"))


@routes.post("/installations/{installation_id}/remote/pair")
@login_required
async def pair(request: web.Request) -> web.StreamResponse:
    """Send the pairing (or pairing mode on the box when the remote is at the customer's)."""
    data = await request.post()
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    source = fields.get("source", "")
    chosen: set[int] = set()
    for value in data.getall("devices", []):
        device_id = parse_id(value)
        if device_id is not None:
            chosen.add(device_id)
    remote = fields.get("remote_id", "")
    try:
        await commands.pair_remote(
            core_of(request),
            current_user(request).id,
            int_param(request, "installation_id"),
            source=source,
            device_ids=sorted(chosen),
            code=fields.get("code"),
            remote_id=parse_id(remote),
            action_id=fields.get("action_id") or None,
        )
    except ValidationFailed as err:
        return await _wizard(
            request,
            source,
            errors=err.errors,
            code=fields.get("code", ""),
            chosen=chosen,
            status=400,
        )
    if source == "customer" and not remote:
        return flash_redirect(
            request, _base(request) + "/remote/pair?source=customer", "pairing_mode_sent"
        )
    return flash_redirect(request, _base(request) + "/devices", "remote_action_sent")


@routes.post("/installations/{installation_id}/remote/web-app")
@login_required
async def open_web_app(request: web.Request) -> web.StreamResponse:
    """Open the customer's web app (P23): recorded as an action, then the live page."""
    await commands.open_web_app(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    return redirect(_base(request) + "/remote/web-app")


@routes.get("/installations/{installation_id}/remote/web-app", allow_head=False)
@login_required
async def web_app(request: web.Request) -> web.StreamResponse:
    """The live control page of the installation (only inside a window allowing it)."""
    context = await tab_context(request, "web-app")
    live = await commands.web_app(
        core_of(request), current_user(request).id, context["installation"].id
    )
    context.update({"live": live, "commands_for": commands_for})
    return render(request, "interventions/web_app.html", context)


@routes.post("/installations/{installation_id}/remote/web-app/command")
@login_required
async def web_app_command(request: web.Request) -> web.StreamResponse:
    """A command of the live control page: an ``action`` of kind ``web_app``."""
    data = await form_data(request)
    await commands.web_app_command(
        core_of(request),
        current_user(request).id,
        int_param(request, "installation_id"),
        _int(data.get("device_id"), "device_id"),
        data.get("command", ""),
    )
    return flash_redirect(request, _base(request) + "/remote/web-app", "remote_action_sent")


async def _end_page(
    request: web.Request, errors: dict[str, str] | None = None, comment: str = "", status: int = 200
) -> web.StreamResponse:
    context = await tab_context(request, "end")
    _view, actions = await commands.window_actions(
        core_of(request), current_user(request).id, context["installation"].id
    )
    context.update({"actions": actions, "errors": errors or {}, "comment": comment})
    return render(request, "interventions/end.html", context, status=status)


@routes.get("/installations/{installation_id}/remote/end", allow_head=False)
@login_required
async def end_summary(request: web.Request) -> web.StreamResponse:
    """The summary of the window's actions and the comment for the customer (P17)."""
    return await _end_page(request)


@routes.post("/installations/{installation_id}/remote/end")
@login_required
async def end(request: web.Request) -> web.StreamResponse:
    """End the intervention: frame to Home Assistant, e-mail to the customer (P18)."""
    data = await form_data(request)
    comment = data.get("comment", "")
    try:
        await commands.end_intervention(
            core_of(request),
            current_user(request).id,
            int_param(request, "installation_id"),
            comment,
        )
    except ValidationFailed as err:
        return await _end_page(request, err.errors, comment, 400)
    return flash_redirect(request, _base(request) + "/interventions", "intervention_ended")
