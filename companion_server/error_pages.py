"""Translated error pages in the base layout, and the page of each error raised by a handler."""

from __future__ import annotations

import logging

from aiohttp import web

from companion_server.errors import Forbidden, NotFound, RateLimited, RuleViolation, ServiceError
from companion_server.i18n import N_
from companion_server.web import VISITOR, anonymous_visitor, render

LOGGER = logging.getLogger(__name__)

ERROR_TITLES = {
    400: N_("The request could not be handled."),
    403: N_("You are not allowed to do this."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used this way."),
    413: N_("The request is too large."),
    429: N_("Too many attempts. Please wait a few minutes and try again."),
    500: N_("Something went wrong on our side. Please try again later."),
    503: N_("The portal is busy. Please try again in a few seconds."),
}


def error_page(
    request: web.Request, status: int, message: str | None = None, **params: object
) -> web.Response:
    """A translated error page in the base layout."""
    if VISITOR not in request:
        request[VISITOR] = anonymous_visitor(request)
    title = ERROR_TITLES.get(status, ERROR_TITLES[400] if status < 500 else ERROR_TITLES[500])
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "params": params},
        status=status,
    )


def error_response(request: web.Request, error: Exception) -> web.StreamResponse | None:
    """The page of an error (None: not an error page, e.g. a redirect to re-raise)."""
    if isinstance(error, NotFound):
        return error_page(request, 404, error.message or None)
    if isinstance(error, Forbidden):
        return error_page(request, 403, error.message or None)
    if isinstance(error, RateLimited):
        response = error_page(request, 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if isinstance(error, RuleViolation):
        return error_page(request, 409, error.message)
    if isinstance(error, ServiceError):
        return error_page(request, 400, error.message or None)
    if isinstance(error, web.HTTPException):
        if error.status < 400:
            return None
        response = error_page(request, error.status)
        for header in ("Allow", "Retry-After"):
            if header in error.headers:
                response.headers[header] = error.headers[header]
        return response
    LOGGER.error("Error while handling %s %s", request.method, request.path, exc_info=error)
    return error_page(request, 500)
