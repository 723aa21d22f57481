"""The documents tab of an installation: upload (streamed), list, download, delete."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from companion_server.errors import ValidationFailed
from companion_server.installation_tabs import tab_context
from companion_server.records import documents
from companion_server.records.uploads import CHUNK, chunks, file_part
from companion_server.uploads import streamed_upload
from companion_server.web import (
    core_of,
    current_user,
    flash_redirect,
    int_param,
    login_required,
    render,
)

routes = web.RouteTableDef()
BASE = "/installations/{installation_id}/documents"


async def documents_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    """The tab, with the upload's error when it was refused."""
    context = await tab_context(request, "documents")
    context.update(
        {
            "documents": await documents.documents_of(
                core_of(request), current_user(request).id, context["installation"].id
            ),
            "max_megabytes": core_of(request).settings.document_max_bytes / 1024 / 1024,
            "errors": errors or {},
        }
    )
    return render(request, "records/documents.html", context, status=status)


@routes.get(BASE, allow_head=False)
@login_required
async def documents_tab(request: web.Request) -> web.StreamResponse:
    """The documents of an installation."""
    return await documents_page(request)


@routes.post(BASE)
@login_required
@streamed_upload
async def upload(request: web.Request) -> web.StreamResponse:
    """Store an uploaded file; too large, broken or of a refused type: nothing is kept."""
    installation_id = int_param(request, "installation_id")
    try:
        reader, part = await file_part(request)
        await documents.upload(
            core_of(request),
            current_user(request).id,
            installation_id,
            part.filename,
            chunks(reader, part),
        )
    except ValidationFailed as err:
        response = await documents_page(request, err.errors, status=400)
        # The rest of a refused body is not read: the connection ends with the answer.
        response.force_close()
        return response
    return flash_redirect(
        request, BASE.format(installation_id=installation_id), "document_uploaded"
    )


@routes.get(BASE + "/{document_id}", allow_head=False)
@login_required
async def download(request: web.Request) -> web.StreamResponse:
    """Send a document's file as an attachment, with the type found in its content."""
    stored = await documents.download(
        core_of(request),
        current_user(request).id,
        int_param(request, "installation_id"),
        int_param(request, "document_id"),
    )
    name = (
        stored.title
        if stored.title.lower().endswith(stored.extension)
        else (stored.title + stored.extension)
    )
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response = web.FileResponse(stored.path, chunk_size=CHUNK)
    response.content_type = stored.content_type.split(";")[0]
    if stored.content_type.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@routes.post(BASE + "/{document_id}/delete")
@login_required
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete a document and its file."""
    installation_id = int_param(request, "installation_id")
    await documents.delete(
        core_of(request),
        current_user(request).id,
        installation_id,
        int_param(request, "document_id"),
    )
    return flash_redirect(request, BASE.format(installation_id=installation_id), "document_deleted")
