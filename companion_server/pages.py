"""Pages that belong to no area: home, language choice, health, audit log, demo outbox."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from companion_server.accounts.users import set_language
from companion_server.i18n import normalize
from companion_server.mail.outbox import recent
from companion_server.security.audit import EVENT_LABELS, company_events
from companion_server.session_cookies import set_language_cookie
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    form_data,
    home_path,
    redirect,
    render,
    safe_next,
    visitor,
)

routes = web.RouteTableDef()
demo_routes = web.RouteTableDef()


@routes.get("/", allow_head=False)
async def home(request: web.Request) -> web.StreamResponse:
    """Logged in: where the user's pages start; otherwise the login page."""
    user = visitor(request).user
    return redirect(home_path(user) if user else "/login")


@routes.post("/language")
async def language(request: web.Request) -> web.StreamResponse:
    """Choose the language (kept in the profile, or in a cookie when anonymous)."""
    data = await form_data(request)
    chosen = normalize(data.get("language"))
    response = redirect(safe_next(data.get("next"), "/"))
    if chosen:
        user = visitor(request).user
        if user is not None:
            await set_language(core_of(request), user.id, chosen)
        set_language_cookie(request, response, chosen)
    return response


@routes.get("/healthz", allow_head=False)
async def healthz(request: web.Request) -> web.StreamResponse:
    """Load-balancer check: the process answers and the database too."""
    async with core_of(request).tx() as db:
        await db.execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


@routes.get("/audit", allow_head=False)
@admin_required
async def audit(request: web.Request) -> web.StreamResponse:
    """The company's security events (administrators)."""
    after = request.query.get("after") or None
    async with core_of(request).tx() as db:
        events, next_after = await company_events(db, current_user(request).company_id, after)
    return render(
        request,
        "audit.html",
        {"events": events, "labels": EVENT_LABELS, "after": after, "next_after": next_after},
    )


@demo_routes.get("/demo/outbox", allow_head=False)
async def outbox(request: web.Request) -> web.StreamResponse:
    """Demo mode only: every e-mail the portal wrote, with its links."""
    async with core_of(request).tx() as db:
        messages = await recent(db)
    return render(request, "outbox.html", {"messages": messages})
