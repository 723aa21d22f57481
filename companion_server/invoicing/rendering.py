"""Rendering the invoice pages with the helpers that write amounts and numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion_server.errors import ValidationFailed
from companion_server.invoicing.labels import TEMPLATE_HELPERS
from companion_server.web import flash_redirect, form_data, render

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    # A form's page again: the request, the errors, the values given, the status.
    FormPage = Callable[[web.Request, dict[str, str], dict[str, str], int], Awaitable[web.Response]]


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A page of the base layout, with the invoice helpers."""
    return render(request, template, {**TEMPLATE_HELPERS, **context}, status=status)


async def form_post(
    request: web.Request,
    act: Callable[[dict[str, str]], Awaitable[str]],
    again: FormPage,
    flash: str,
) -> web.StreamResponse:
    """A form posted on an invoicing page: ``act`` on its values, then go where it answers.

    Bad input (:class:`ValidationFailed`) changes nothing: the form comes back with the
    errors and the values given (400).
    """
    values = await form_data(request)
    try:
        target = await act(values)
    except ValidationFailed as err:
        return await again(request, err.errors, values, 400)
    return flash_redirect(request, target, flash)
