"""Pages of accounts: sign-up, confirmation, login, logout, reset, profile, access data."""

from __future__ import annotations

from aiohttp import web

from companion_server.accounts import links, logins, passwords, signups, users
from companion_server.error_pages import error_page
from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.i18n.dates import time_zones
from companion_server.models import TokenKind
from companion_server.parsing import has_control_characters
from companion_server.session_cookies import clear_session_cookie, set_session_cookie
from companion_server.web import (
    account_required,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    home_path,
    redirect,
    render,
    safe_next,
    visitor,
)

routes = web.RouteTableDef()


def _user_agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")


@routes.get("/signup", allow_head=False)
async def signup_form(request: web.Request) -> web.StreamResponse:
    """The company sign-up form."""
    if visitor(request).user is not None:
        return redirect("/installations")
    return render(request, "signup.html", {"values": {}, "errors": {}})


@routes.post("/signup")
async def signup(request: web.Request) -> web.StreamResponse:
    """Register a company and its administrator; the same answer for any address."""
    data = await form_data(request)
    v = visitor(request)
    try:
        await signups.register_company(
            core_of(request),
            company_name=data.get("company", ""),
            name=data.get("name", ""),
            email=data.get("email", ""),
            password=data.get("password", ""),
            password_confirm=data.get("password_confirm", ""),
            language=data.get("language", v.language),
            ip=v.ip,
        )
    except ValidationFailed as err:
        values = {k: data.get(k, "") for k in ("company", "name", "email", "language")}
        return render(request, "signup.html", {"values": values, "errors": err.errors}, 400)
    return redirect("/signup/sent")


@routes.get("/signup/sent", allow_head=False)
async def signup_sent(request: web.Request) -> web.StreamResponse:
    """Tell the visitor to follow the link in their mailbox."""
    return render(request, "message.html", {"kind": "signup_sent"})


@routes.get("/confirm/{token}", allow_head=False)
async def confirm_form(request: web.Request) -> web.StreamResponse:
    """A button that confirms the address (no change on GET: mail scanners follow links)."""
    token = request.match_info["token"]
    if not await links.token_is_valid(core_of(request), TokenKind.CONFIRM, token):
        return render(request, "message.html", {"kind": "invalid_link"}, 404)
    return render(request, "confirm.html", {"token": token})


@routes.post("/confirm/{token}")
async def confirm(request: web.Request) -> web.StreamResponse:
    """Activate the account."""
    await signups.confirm_email(core_of(request), request.match_info["token"], visitor(request).ip)
    return flash_redirect(request, "/login", "confirmed")


@routes.get("/login", allow_head=False)
async def login_form(request: web.Request) -> web.StreamResponse:
    """The login form."""
    user = visitor(request).user
    if user is not None:
        return redirect(safe_next(request.query.get("next"), home_path(user)))
    next_url = request.query.get("next", "")
    return render(
        request,
        "login.html",
        {"email": "", "error": None, "next": "" if has_control_characters(next_url) else next_url},
    )


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check the password; a new session (and a new CSRF token) on success."""
    data = await form_data(request)
    v = visitor(request)
    core = core_of(request)
    next_url = data.get("next", "")
    if has_control_characters(next_url):
        # Refused before the password is checked: no session is opened for a bad request.
        return error_page(request, 400, N_("The page to return to after login is invalid."))
    try:
        result = await logins.login(
            core,
            email=data.get("email", ""),
            password=data.get("password", ""),
            ip=v.ip,
            user_agent=_user_agent(request),
        )
    except logins.LoginFailed as failure:
        if failure.locked:
            return redirect("/password/forgot?locked=1")
        error = (
            N_("Confirm your e-mail address first: we have sent you a new link.")
            if failure.unconfirmed
            else N_("Wrong e-mail address or password. Three wrong attempts lock the account.")
        )
        return render(
            request,
            "login.html",
            {"email": data.get("email", ""), "error": error, "next": next_url},
            400,
        )
    if v.loaded is not None:
        await logins.logout(core, v.loaded.token, v.ip)
    # The browser's zone (static/time_zone.js) until the user chooses one in the profile.
    if result.user.time_zone is None:
        await users.default_time_zone(core, result.user.id, data.get("time_zone", ""))
    response = redirect(safe_next(next_url, home_path(result.user)))
    set_session_cookie(request, response, result.token)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    v = visitor(request)
    response = flash_redirect(request, "/login", "logged_out")
    if v.loaded is not None:
        await logins.logout(core_of(request), v.loaded.token, v.ip)
    clear_session_cookie(request, response)
    return response


@routes.get("/password/forgot", allow_head=False)
async def forgot_form(request: web.Request) -> web.StreamResponse:
    """Ask for a reset link (after a lockout the page says why the visitor is here)."""
    return render(
        request,
        "forgot.html",
        {"locked": request.query.get("locked") == "1", "email": "", "errors": {}},
    )


@routes.post("/password/forgot")
async def forgot(request: web.Request) -> web.StreamResponse:
    """Send a reset link if the address has an account (the answer is the same)."""
    data = await form_data(request)
    try:
        await passwords.request_password_reset(
            core_of(request), email=data.get("email", ""), ip=visitor(request).ip
        )
    except ValidationFailed as err:
        return render(
            request,
            "forgot.html",
            {"locked": False, "email": data.get("email", ""), "errors": err.errors},
            400,
        )
    return redirect("/password/forgot/sent")


@routes.get("/password/forgot/sent", allow_head=False)
async def forgot_sent(request: web.Request) -> web.StreamResponse:
    """Tell the visitor to look in their mailbox."""
    return render(request, "message.html", {"kind": "reset_sent"})


@routes.get("/password/reset/{token}", allow_head=False)
async def reset_form(request: web.Request) -> web.StreamResponse:
    """The new-password form of a reset link."""
    token = request.match_info["token"]
    if not await links.token_is_valid(core_of(request), TokenKind.RESET, token):
        return render(request, "message.html", {"kind": "invalid_link"}, 404)
    return render(request, "reset.html", {"token": token, "errors": {}})


@routes.post("/password/reset/{token}")
async def reset(request: web.Request) -> web.StreamResponse:
    """Save the new password: unlocks the account, ends its sessions."""
    token = request.match_info["token"]
    data = await form_data(request)
    try:
        await passwords.reset_password(
            core_of(request),
            token=token,
            password=data.get("password", ""),
            password_confirm=data.get("password_confirm", ""),
            ip=visitor(request).ip,
            session_token=visitor(request).session_token,
        )
    except ValidationFailed as err:
        return render(request, "reset.html", {"token": token, "errors": err.errors}, 400)
    return flash_redirect(request, "/login", "password_reset")


@routes.get("/profile", allow_head=False)
@account_required
async def profile_form(request: web.Request) -> web.StreamResponse:
    """My profile: name, language and time zone; the address is shown, not editable."""
    user = current_user(request)
    values = {"name": user.name, "language": user.language, "time_zone": user.time_zone or ""}
    company = await users.company_name(core_of(request), user.company_id)
    return render(
        request,
        "profile.html",
        {"values": values, "errors": {}, "company_name": company, "time_zones": time_zones()},
    )


@routes.post("/profile")
@account_required
async def profile(request: web.Request) -> web.StreamResponse:
    """Save the profile."""
    data = await form_data(request)
    user = current_user(request)
    try:
        await users.update_profile(
            core_of(request),
            user.id,
            name=data.get("name", ""),
            language=data.get("language", ""),
            ip=visitor(request).ip,
            time_zone=data.get("time_zone", ""),
        )
    except ValidationFailed as err:
        values = {k: data.get(k, "") for k in ("name", "language", "time_zone")}
        company = await users.company_name(core_of(request), user.company_id)
        context = {
            "values": values,
            "errors": err.errors,
            "company_name": company,
            "time_zones": time_zones(),
        }
        return render(request, "profile.html", context, 400)
    return flash_redirect(request, "/profile", "profile_saved")


@routes.get("/access", allow_head=False)
@account_required
async def access_form(request: web.Request) -> web.StreamResponse:
    """My access data: change the password."""
    return render(request, "access.html", {"errors": {}})


@routes.post("/access")
@account_required
async def access(request: web.Request) -> web.StreamResponse:
    """Change the password; other sessions end."""
    data = await form_data(request)
    v = visitor(request)
    assert v.loaded is not None
    try:
        await passwords.change_password(
            core_of(request),
            v.loaded.user.id,
            current=data.get("current", ""),
            password=data.get("password", ""),
            password_confirm=data.get("password_confirm", ""),
            session_token=v.loaded.token,
            ip=v.ip,
        )
    except ValidationFailed as err:
        return render(request, "access.html", {"errors": err.errors}, 400)
    return flash_redirect(request, "/access", "password_changed")
