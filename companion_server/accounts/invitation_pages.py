"""The page behind an invitation link: the form, and the account it creates (any kind)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from companion_server.accounts.invitations import NewAccount
from companion_server.accounts.logins import logout
from companion_server.errors import ValidationFailed
from companion_server.session_cookies import set_session_cookie
from companion_server.web import core_of, flash_redirect, form_data, render, visitor

if TYPE_CHECKING:
    from aiohttp import web

    from companion_server.core import Core

# The invitation behind a token (raising NotFound once it cannot be accepted).
Peek = Callable[["Core", str], Awaitable[Any]]


class Accept(Protocol):
    """Creates the account of an invitation and returns the new session's token."""

    async def __call__(
        self, core: Core, token: str, account: NewAccount, *, ip: str, user_agent: str
    ) -> str: ...


async def invitation_form(request: web.Request, template: str, peek: Peek) -> web.Response:
    """The invited person chooses their name, password and language."""
    token = request.match_info["token"]
    view = await peek(core_of(request), token)
    values = {"name": "", "language": view.invitation.language}
    return render(request, template, {"view": view, "token": token, "values": values, "errors": {}})


async def accept_invitation(
    request: web.Request, template: str, peek: Peek, accept: Accept, home: str
) -> web.Response:
    """Create the account, log in (a new session) and go to ``home``."""
    token = request.match_info["token"]
    data = await form_data(request)
    v = visitor(request)
    core = core_of(request)
    try:
        account = NewAccount(
            name=data.get("name", ""),
            password=data.get("password", ""),
            password_confirm=data.get("password_confirm", ""),
            language=data.get("language", v.language),
        )
        session_token = await accept(
            core, token, account, ip=v.ip, user_agent=request.headers.get("User-Agent", "")
        )
    except ValidationFailed as err:
        view = await peek(core, token)
        values = {"name": data.get("name", ""), "language": data.get("language", "")}
        return render(
            request,
            template,
            {"view": view, "token": token, "values": values, "errors": err.errors},
            400,
        )
    if v.loaded is not None:
        await logout(core, v.loaded.token, v.ip)
    response = flash_redirect(request, home, "welcome")
    set_session_cookie(request, response, session_token)
    return response
