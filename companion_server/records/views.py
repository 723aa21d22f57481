"""The records tab of an installation: place and map, sub-installations, devices on file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from companion_server.app_keys import LEAFLET
from companion_server.errors import ValidationFailed
from companion_server.installation_tabs import tab_context
from companion_server.records import ends, expiring, services, warranty
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

if TYPE_CHECKING:
    from companion_server.core import Core

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
            "warranty_end": lambda line: ends.warranty_end(line.installed_on, line.model, terms),
            "expiring": await expiring.of_installation(core, user.id, installation_id),
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


# Saves one form of the tab: (core, actor id, installation id, the form's fields).
type Save = Callable[[Core, int, int, dict[str, str]], Awaitable[object]]


async def _submit(request: web.Request, save: Save, form: str, flash: str) -> web.Response:
    """Save a form; back to the tab with ``flash``, or the tab again with the form's errors."""
    installation_id = int_param(request, "installation_id")
    values = await form_data(request)
    try:
        await save(core_of(request), current_user(request).id, installation_id, values)
    except ValidationFailed as err:
        return await records_page(request, errors=err.errors, values=values, form=form, status=400)
    return flash_redirect(request, _back(installation_id), flash)


@routes.post(BASE + "/place")
@login_required
async def save_place(request: web.Request) -> web.StreamResponse:
    """Set the address and coordinates."""
    return await _submit(request, services.save_place, "place", "place_saved")


@routes.post(BASE + "/subs")
@login_required
async def add_sub(request: web.Request) -> web.StreamResponse:
    """Add a sub-installation."""

    async def save(core: Core, actor_id: int, installation_id: int, values: dict[str, str]) -> None:
        await services.add_sub(core, actor_id, installation_id, values.get("name", ""))

    return await _submit(request, save, "sub", "sub_added")


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
    return await _submit(request, services.add_hand_device, "device", "device_added")


@routes.post(BASE + "/devices/{record_id}")
@login_required
async def edit_device(request: web.Request) -> web.StreamResponse:
    """Change a device added by hand."""
    record_id = int_param(request, "record_id")

    async def save(core: Core, actor_id: int, installation_id: int, values: dict[str, str]) -> None:
        await services.edit_hand_device(core, actor_id, installation_id, record_id, values)

    return await _submit(request, save, f"record-{record_id}", "device_saved")


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
    device_id = int_param(request, "device_id")

    async def save(core: Core, actor_id: int, installation_id: int, values: dict[str, str]) -> None:
        await services.place_box_device(core, actor_id, installation_id, device_id, values)

    return await _submit(request, save, f"device-{device_id}", "device_saved")
