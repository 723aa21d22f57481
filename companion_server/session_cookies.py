"""The session and language cookies (``__Host-`` names over HTTPS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.web import cookie_name, core_of, visitor

if TYPE_CHECKING:
    from aiohttp import web


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Give the browser a new session (rotation: always a new token at login)."""
    v = visitor(request)
    settings = core_of(request).settings
    response.set_cookie(
        cookie_name(v.secure, "portal_session"),
        token,
        httponly=True,
        samesite="Lax",
        secure=v.secure,
        path="/",
        max_age=settings.session_absolute_hours * 3600,
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Forget the session in the browser."""
    v = visitor(request)
    response.del_cookie(cookie_name(v.secure, "portal_session"), path="/")


def set_language_cookie(request: web.Request, response: web.StreamResponse, language: str) -> None:
    """Remember an anonymous visitor's language."""
    v = visitor(request)
    response.set_cookie(
        cookie_name(v.secure, "portal_lang"),
        language,
        httponly=True,
        samesite="Lax",
        secure=v.secure,
        path="/",
        max_age=365 * 86400,
    )
