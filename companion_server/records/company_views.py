"""Company pages of the records: the warranty table, what expires soon, the import."""

from __future__ import annotations

from aiohttp import web

from companion_server.errors import ValidationFailed
from companion_server.records import expiring, imports, warranty
from companion_server.records.uploads import file_part, read_all
from companion_server.uploads import streamed_upload
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


async def warranty_page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The warranty table, with a refused row's errors."""
    return render(
        request,
        "records/warranty.html",
        {
            "terms": await warranty.terms(core_of(request), current_user(request).id),
            "errors": errors or {},
            "values": values or {},
        },
        status=status,
    )


@routes.get("/records/warranty", allow_head=False)
@admin_required
async def warranty_table(request: web.Request) -> web.StreamResponse:
    """The months of warranty per model (administrators)."""
    return await warranty_page(request)


@routes.post("/records/warranty")
@admin_required
async def save_term(request: web.Request) -> web.StreamResponse:
    """Add a model to the table or change its months."""
    values = await form_data(request)
    try:
        await warranty.save_term(core_of(request), current_user(request).id, values)
    except ValidationFailed as err:
        return await warranty_page(request, err.errors, values, status=400)
    return flash_redirect(request, "/records/warranty", "warranty_saved")


@routes.post("/records/warranty/{term_id}/delete")
@admin_required
async def delete_term(request: web.Request) -> web.StreamResponse:
    """Remove a model from the table."""
    await warranty.delete_term(
        core_of(request), current_user(request).id, int_param(request, "term_id")
    )
    return flash_redirect(request, "/records/warranty", "warranty_deleted")


@routes.get("/records/expiring", allow_head=False)
@login_required
async def expiring_list(request: web.Request) -> web.StreamResponse:
    """The devices whose warranty ends soon over the installations the user sees, by pages."""
    core = core_of(request)
    notice = core.settings.warranty_notice_days
    query = expiring.ExpiringQuery.parse(request.query, notice)
    page = await expiring.expiring_page(core, current_user(request).id, query)
    return render(
        request,
        "records/expiring.html",
        {
            "page": page,
            "query": query,
            "periods": expiring.periods(notice),
            "notice_days": notice,
        },
    )


def _import_page(
    request: web.Request,
    report: imports.Report | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "records/import.html",
        {
            "report": report,
            "errors": errors or {},
            "columns": imports.COLUMNS,
            "max_kilobytes": core_of(request).settings.import_max_bytes // 1024,
        },
        status=status,
    )


@routes.get("/records/import", allow_head=False)
@admin_required
async def import_form(request: web.Request) -> web.StreamResponse:
    """The import form and the format it reads (administrators)."""
    return _import_page(request)


@routes.post("/records/import")
@admin_required
@streamed_upload
async def import_file(request: web.Request) -> web.StreamResponse:
    """Import installations from an export; show the report of the rows."""
    core = core_of(request)
    try:
        reader, part = await file_part(request)
        content = await read_all(reader, part, core.settings.import_max_bytes)
        report = await imports.import_file(core, current_user(request).id, content)
    except ValidationFailed as err:
        response = _import_page(request, errors=err.errors, status=400)
        response.force_close()
        return response
    return _import_page(request, report)
