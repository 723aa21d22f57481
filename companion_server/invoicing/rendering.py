"""Rendering the invoice pages with the helpers that write amounts and numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion_server.invoicing.labels import TEMPLATE_HELPERS
from companion_server.web import render

if TYPE_CHECKING:
    from aiohttp import web


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A page of the base layout, with the invoice helpers."""
    return render(request, template, {**TEMPLATE_HELPERS, **context}, status=status)
