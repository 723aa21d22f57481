"""The records tab of an installation: place and map, sub-installations, devices on file."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from companion_server.app_keys import LEAFLET
from companion_server.errors import ValidationFailed
from companion_server.installation_tabs import tab_context
from companion_server.records import services, warranty
from companion_server.web import (
    CSP,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    login_required,
    render,
)

routes = web.RouteTableDef()
BASE = "/installations/{installation_id}/records"


def map_csp(tile_origin: str) -> str:
    """The page's security policy, letting tiles come from their server."""
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {tile_origin}")


async def records_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    form: str = "",
    status: int = 200,
) -> web.Response:
    """The tab, with a form's errors and typed values when one was refused."""
    core = core_of(request)
    user = current_user(request)
    context: dict[str, Any] = await tab_context(request, "records")
    installation_id = context["installation"].id
    records = await services.records_of(core, user.id, installation_id)
    terms = await warranty.term_table(core, user.company_id)
    settings = core.settings
    place = records.place
    located = place is not None and place.latitude is not None
    show_map = located and bool(settings.map_tile_url) and request.app[LEAFLET]
    context.update(
        {
            "records": records,
            "subs": {s.id: s.name for s in records.subs},
            "warranty_end": lambda line: warranty.warranty_end(
                line.installed_on, line.model, terms
            ),
            "expiring": await warranty.expiring(core, user.id, installation_id),
            "notice_days": settings.warranty_notice_days,
            "show_map": show_map,
            "tile_url": settings.map_tile_url,
            "tile_attribution": settings.map_tile_attribution,
            "errors": errors or {},
            "values": values or {},
            "form": form,
        }
    )
    response = render(request, "records/records.html", context, status=status)
    if show_map:
        response.headers["Content-Security-Policy"] = map_csp(settings.map_tile_origin)
    return response


def _back(installation_id: int) -> str:
    return BASE.format(installation_id=installation_id)


@routes.get(BASE, allow_head=False)
@login_required
async def records_tab(request: web.Request) -> web.StreamResponse:
    """The records of an installation."""
    return await records_page(request)


@routes.post(BASE + "/place")
@login_required
async def save_place(request: web.Request) -> web.StreamResponse:
    """Set the address and coordinates."""
    installation_id = int_param(request, "installation_id")
    values = await form_data(request)
    try:
        await services.save_place(
            core_of(request), current_user(request).id, installation_id, values
        )
    except ValidationFailed as err:
        return await records_page(
            request, errors=err.errors, values=values, form="place", status=400
        )
    return flash_redirect(request, _back(installation_id), "place_saved")


@routes.post(BASE + "/subs")
@login_required
async def add_sub(request: web.Request) -> web.StreamResponse:
    """Add a sub-installation."""
    installation_id = int_param(request, "installation_id")
    values = await form_data(request)
    try:
        await services.add_sub(
            core_of(request), current_user(request).id, installation_id, values.get("name", "")
        )
    except ValidationFailed as err:
        return await records_page(request, errors=err.errors, values=values, form="sub", status=400)
    return flash_redirect(request, _back(installation_id), "sub_added")


@routes.post(BASE + "/subs/{sub_id}/delete")
@login_required
async def delete_sub(request: web.Request) -> web.StreamResponse:
    """Remove a sub-installation (its devices stay on file)."""
    installation_id = int_param(request, "installation_id")
    await services.delete_sub(
        core_of(request), current_user(request).id, installation_id, int_param(request, "sub_id")
    )
    return flash_redirect(request, _back(installation_id), "sub_deleted")


@routes.post(BASE + "/devices")
@login_required
async def add_device(request: web.Request) -> web.StreamResponse:
    """Put on file a device that is not on the box."""
    installation_id = int_param(request, "installation_id")
    values = await form_data(request)
    try:
        await services.add_hand_device(
            core_of(request), current_user(request).id, installation_id, values
        )
    except ValidationFailed as err:
        return await records_page(
            request, errors=err.errors, values=values, form="device", status=400
        )
    return flash_redirect(request, _back(installation_id), "device_added")


@routes.post(BASE + "/devices/{record_id}")
@login_required
async def edit_device(request: web.Request) -> web.StreamResponse:
    """Change a device added by hand."""
    installation_id = int_param(request, "installation_id")
    record_id = int_param(request, "record_id")
    values = await form_data(request)
    try:
        await services.edit_hand_device(
            core_of(request), current_user(request).id, installation_id, record_id, values
        )
    except ValidationFailed as err:
        return await records_page(
            request, errors=err.errors, values=values, form=f"record-{record_id}", status=400
        )
    return flash_redirect(request, _back(installation_id), "device_saved")


@routes.post(BASE + "/devices/{record_id}/delete")
@login_required
async def delete_device(request: web.Request) -> web.StreamResponse:
    """Remove a device added by hand."""
    installation_id = int_param(request, "installation_id")
    await services.delete_hand_device(
        core_of(request), current_user(request).id, installation_id, int_param(request, "record_id")
    )
    return flash_redirect(request, _back(installation_id), "device_deleted")


@routes.post(BASE + "/box-devices/{device_id}")
@login_required
async def place_box_device(request: web.Request) -> web.StreamResponse:
    """Give one of the box's products its sub-installation and install date."""
    installation_id = int_param(request, "installation_id")
    device_id = int_param(request, "device_id")
    values = await form_data(request)
    try:
        await services.place_box_device(
            core_of(request), current_user(request).id, installation_id, device_id, values
        )
    except ValidationFailed as err:
        return await records_page(
            request, errors=err.errors, values=values, form=f"device-{device_id}", status=400
        )
    return flash_redirect(request, _back(installation_id), "device_saved")
