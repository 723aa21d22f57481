"""Rendering the invoice pages with the helpers that write amounts and numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from companion_server.errors import ValidationFailed
from companion_server.invoicing.labels import TEMPLATE_HELPERS
from companion_server.web import core_of, flash_redirect, form_data, render

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web
    from sqlalchemy.ext.asyncio import AsyncSession

    # A form's page again: the request, the errors, the values given, the status.
    FormPage = Callable[[web.Request, dict[str, str], dict[str, str], int], Awaitable[web.Response]]
    # What a form's page shows, read in one transaction (it checks who may see it).
    FormContext = Callable[[AsyncSession, web.Request], Awaitable[dict[str, Any]]]


class ShownForm(Protocol):
    """A form's page: first shown (the request alone), or again with errors (a :data:`FormPage`)."""

    def __call__(
        self,
        request: web.Request,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Awaitable[web.Response]: ...


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A page of the base layout, with the invoice helpers."""
    return render(request, template, {**TEMPLATE_HELPERS, **context}, status=status)


def form_page(template: str, context: FormContext) -> ShownForm:
    """The page of ``template`` with what ``context`` reads, its form's errors and values.

    The values are those given when the form comes back; first, ``context``'s own
    ``values`` (what is known already), else none.
    """

    async def show(
        request: web.Request,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> web.Response:
        async with core_of(request).tx() as db:
            shown = await context(db, request)
        if values is not None:
            shown["values"] = values
        return page(request, template, {"values": {}, **shown, "errors": errors or {}}, status)

    return show


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
