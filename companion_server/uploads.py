"""Multipart bodies a handler streams itself: files beyond the request body limit."""

from __future__ import annotations

from aiohttp import BodyPartReader, MultipartReader, web

from companion_server.errors import Forbidden
from companion_server.security import csrf
from companion_server.web import CSRF_MESSAGE, Handler, core_of, visitor

STREAMED_UPLOAD = "companion_streamed_upload"
CSRF_PART_LIMIT = 256


def streamed_upload(handler: Handler) -> Handler:
    """Mark a handler that streams a multipart body itself (files beyond the body limit).

    The CSRF middleware leaves its multipart requests alone: the handler reads the token
    from the first part with :func:`multipart_form` before any file.
    """
    setattr(handler, STREAMED_UPLOAD, True)
    return handler


def is_streamed_upload(request: web.Request) -> bool:
    """Whether the request is a multipart body its handler streams (see above)."""
    return request.content_type == "multipart/form-data" and bool(
        getattr(request.match_info.handler, STREAMED_UPLOAD, False)
    )


async def multipart_form(request: web.Request) -> MultipartReader:
    """The multipart body after its first part, the visitor's CSRF token (else 403)."""
    reader = await request.multipart()
    part = await reader.next()
    token = b""
    if isinstance(part, BodyPartReader) and part.name == csrf.FIELD:
        while len(token) <= CSRF_PART_LIMIT and (chunk := await part.read_chunk(64)):
            token += chunk
    v = visitor(request)
    secret = core_of(request).settings.secret_key
    if not csrf.check_token(secret, v.csrf_seed, token.decode("ascii", "replace")):
        raise Forbidden(CSRF_MESSAGE)
    return reader
