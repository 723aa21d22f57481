"""Reading a streamed upload's file part (documents, imports) under the pages' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import BodyPartReader

from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.web import multipart_form

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

CHUNK = 64 * 1024
NO_FILE = N_("Choose a file to upload.")
BROKEN = N_("The upload was interrupted or broken.")


async def file_part(request: web.Request) -> BodyPartReader:
    """The ``file`` part of a streamed upload, after its CSRF token (else a form error)."""
    if request.content_type != "multipart/form-data":
        raise ValidationFailed({"file": NO_FILE})
    try:
        reader = await multipart_form(request)
        part = await reader.next()
    except ValueError as err:  # a broken multipart body (aiohttp's reader)
        raise ValidationFailed({"file": BROKEN}) from err
    if not isinstance(part, BodyPartReader) or part.name != "file":
        raise ValidationFailed({"file": NO_FILE})
    return part


async def chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    """The part's bytes as they arrive (a broken body: a form error)."""
    while True:
        try:
            chunk = await part.read_chunk(CHUNK)
        except ValueError as err:
            raise ValidationFailed({"file": BROKEN}) from err
        if not chunk:
            return
        yield chunk


async def read_all(part: BodyPartReader, limit: int) -> bytes:
    """The whole part, at most ``limit`` bytes (more: a form error)."""
    content = bytearray()
    async for chunk in chunks(part):
        content += chunk
        if len(content) > limit:
            raise ValidationFailed({"file": "The file is too large."})
    return bytes(content)
