"""The installation's tabs (P6-P12), Serv-e-go requests, unlinking and live updates."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from companion_server.error_pages import error_page
from companion_server.errors import NotFound, RuleViolation, ValidationFailed
from companion_server.event_stream import event_stream
from companion_server.installation_tabs import tab_context
from companion_server.monitoring import follow_ups, services
from companion_server.parsing import parse_id
from companion_server.registration import linking
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    login_required,
    render,
)

routes = web.RouteTableDef()


async def _locked_or(
    request: web.Request, tab: str, template: str, load: Any
) -> web.StreamResponse:
    context = await tab_context(request, tab)
    if context["ov"].granted:
        try:
            context.update(await load())
        except NotFound:
            # Revoked between the two reads: the tab as it is now (locked).
            context = await tab_context(request, tab)
            if context["ov"].granted:
                raise
    return render(request, template, context)


@routes.get("/installations/{installation_id}/devices", allow_head=False)
@login_required
async def devices_tab(request: web.Request) -> web.StreamResponse:
    """The paired products (P9)."""
    core = core_of(request)
    user = current_user(request)
    installation_id = int_param(request, "installation_id")

    async def load() -> dict[str, Any]:
        return {"devices": await services.devices(core, user.id, installation_id)}

    return await _locked_or(request, "devices", "installation_devices.html", load)


@routes.get("/installations/{installation_id}/devices/{device_id}", allow_head=False)
@login_required
async def device_page(request: web.Request) -> web.StreamResponse:
    """One product: online, radio level and its history (P9)."""
    core = core_of(request)
    user = current_user(request)
    installation_id = int_param(request, "installation_id")
    device_id = int_param(request, "device_id")

    async def load() -> dict[str, Any]:
        view = await services.device(core, user.id, installation_id, device_id)
        return {"view": view, "points": services.chart_points(view.samples)}

    return await _locked_or(request, "devices", "installation_device.html", load)


@routes.get("/installations/{installation_id}/alerts", allow_head=False)
@login_required
async def alerts_tab(request: web.Request) -> web.StreamResponse:
    """The alerts; each links to the product that raised it (P10)."""
    core = core_of(request)
    user = current_user(request)
    installation_id = int_param(request, "installation_id")

    async def load() -> dict[str, Any]:
        alerts, device_ids = await services.alerts(core, user.id, installation_id)
        desk = await follow_ups.desk(core, user.id, installation_id)
        return {"alerts": alerts, "device_ids": device_ids, "desk": desk}

    return await _locked_or(request, "alerts", "installation_alerts.html", load)


@routes.post("/installations/{installation_id}/alerts/{alert_id}/acknowledge")
@login_required
async def acknowledge_alert(request: web.Request) -> web.StreamResponse:
    """Acknowledge an alert: the company knows someone has seen it."""
    installation_id = int_param(request, "installation_id")
    await follow_ups.acknowledge(
        core_of(request), current_user(request).id, installation_id, int_param(request, "alert_id")
    )
    return flash_redirect(request, f"/installations/{installation_id}/alerts", "alert_acknowledged")


@routes.post("/installations/{installation_id}/alerts/{alert_id}/assign")
@login_required
async def assign_alert(request: web.Request) -> web.StreamResponse:
    """Give an alert to a member of the company (field ``user_id``; empty: nobody)."""
    installation_id = int_param(request, "installation_id")
    data = await form_data(request)
    raw = data.get("user_id", "")
    user_id = parse_id(raw) if raw else None
    if raw and user_id is None:
        raise NotFound()
    await follow_ups.assign(
        core_of(request),
        current_user(request).id,
        installation_id,
        int_param(request, "alert_id"),
        user_id,
    )
    return flash_redirect(request, f"/installations/{installation_id}/alerts", "alert_assigned")


@routes.get("/installations/{installation_id}/interventions", allow_head=False)
@login_required
async def interventions_tab(request: web.Request) -> web.StreamResponse:
    """The interventions log and private notes (P12)."""
    core = core_of(request)
    user = current_user(request)
    installation_id = int_param(request, "installation_id")

    async def load() -> dict[str, Any]:
        return {
            "entries": await services.interventions(core, user.id, installation_id),
            "errors": {},
        }

    return await _locked_or(request, "interventions", "installation_interventions.html", load)


@routes.post("/installations/{installation_id}/notes")
@login_required
async def add_note(request: web.Request) -> web.StreamResponse:
    """Add a private note to the log."""
    installation_id = int_param(request, "installation_id")
    core = core_of(request)
    user = current_user(request)
    data = await form_data(request)
    try:
        await services.add_note(core, user.id, installation_id, data.get("note", ""))
    except ValidationFailed as err:
        context = await tab_context(request, "interventions")
        if not context["ov"].granted:
            raise NotFound() from err
        context["entries"] = await services.interventions(core, user.id, installation_id)
        context["errors"] = err.errors
        return render(request, "installation_interventions.html", context, status=400)
    return flash_redirect(request, f"/installations/{installation_id}/interventions", "note_added")


@routes.get("/installations/{installation_id}/alert-settings", allow_head=False)
@login_required
async def alert_settings(request: web.Request) -> web.StreamResponse:
    """Which alert types e-mail which collaborators (P11)."""
    context = await tab_context(request, "alert-settings")
    context["settings"] = await services.alert_settings(
        core_of(request), current_user(request).id, context["installation"].id
    )
    return render(request, "installation_alert_settings.html", context)


@routes.post("/installations/{installation_id}/alert-settings")
@login_required
async def save_alert_settings(request: web.Request) -> web.StreamResponse:
    """Save the alert settings (fields ``alert-<user id>-<type>``)."""
    installation_id = int_param(request, "installation_id")
    data = await form_data(request)
    chosen: set[tuple[int, str]] = set()
    for key in data:
        prefix, _, rest = key.partition("-")
        user_id, _, kind = rest.partition("-")
        member_id = parse_id(user_id)
        if prefix == "alert" and member_id is not None:
            chosen.add((member_id, kind))
    await services.save_alert_settings(
        core_of(request), current_user(request).id, installation_id, chosen
    )
    return flash_redirect(
        request, f"/installations/{installation_id}/alert-settings", "alert_settings_saved"
    )


@routes.post("/installations/{installation_id}/monitoring")
@login_required
async def request_monitoring(request: web.Request) -> web.StreamResponse:
    """Ask the customer to activate Serv-e-go (P5)."""
    installation_id = int_param(request, "installation_id")
    try:
        await services.request_monitoring(
            core_of(request), current_user(request).id, installation_id
        )
    except RuleViolation as err:
        return error_page(request, 409, err.message)
    return flash_redirect(request, f"/installations/{installation_id}", "monitoring_requested")


@routes.post("/installations/{installation_id}/unlink")
@admin_required
async def unlink(request: web.Request) -> web.StreamResponse:
    """End the link with the customer's Home Assistant (administrators)."""
    installation_id = int_param(request, "installation_id")
    try:
        await linking.unlink_by_installer(
            core_of(request), current_user(request).id, installation_id
        )
    except RuleViolation as err:
        return error_page(request, 409, err.message)
    return flash_redirect(request, f"/installations/{installation_id}", "box_unlinked")


@routes.get("/installations/{installation_id}/events", allow_head=False)
@login_required
async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``changed`` whenever the installation's data changes.

    The stream ends after two minutes (the browser reconnects, and the session and the
    visibility are checked again).
    """
    core = core_of(request)
    installation_id = int_param(request, "installation_id")
    await services.overview(core, current_user(request).id, installation_id)
    data = json.dumps({"installation_id": installation_id})
    return await event_stream(request, installation_id, data)
