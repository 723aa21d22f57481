"""Reading a streamed upload's file part (documents, imports) under the pages' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, MultipartReader

from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.uploads import multipart_form

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

CHUNK = 64 * 1024
NO_FILE = N_("Choose a file to upload.")
BROKEN = N_("The upload was interrupted or broken.")


async def file_part(request: web.Request) -> tuple[MultipartReader, BodyPartReader]:
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
    return reader, part


async def chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    """The part's bytes as they arrive; a body cut off before its boundary: a form error.

    aiohttp's reader hands out what arrived up to the end of the stream even when the
    part's closing boundary never came: the next boundary is read to be sure it did.
    """
    try:
        while chunk := await part.read_chunk(CHUNK):
            yield chunk
        await reader.next()
    except (ValueError, AssertionError) as err:  # AssertionError: aiohttp read past the end
        raise ValidationFailed({"file": BROKEN}) from err


async def read_all(reader: MultipartReader, part: BodyPartReader, limit: int) -> bytes:
    """The whole part, at most ``limit`` bytes (more: a form error)."""
    content = bytearray()
    async for chunk in chunks(reader, part):
        content += chunk
        if len(content) > limit:
            raise ValidationFailed({"file": "The file is too large."})
    return bytes(content)
