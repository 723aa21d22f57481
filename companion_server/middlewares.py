"""The portal's middlewares, outermost first (the app factory installs them in this order).

Trusted-proxy handling, security headers, error pages, the database-busy answer, the
visitor (session, language, CSRF seed, flash) and the CSRF check of every state change.
"""

from __future__ import annotations

from http import HTTPStatus
import ipaddress
import logging
from typing import Final

from aiohttp import web

from companion_server.db import is_busy
from companion_server.error_pages import error_page, error_response
from companion_server.errors import ServiceError
from companion_server.i18n import N_
from companion_server.security import csrf
from companion_server.security.audit import Event, record
from companion_server.security.sessions import load_session
from companion_server.security.tokens import new_token
from companion_server.session_cookies import clear_session_cookie
from companion_server.uploads import is_streamed_upload
from companion_server.web import (
    FLASHES,
    SAFE_METHODS,
    VISITOR,
    Handler,
    Visitor,
    anonymous_visitor,
    cookie_name,
    core_of,
    secure_headers,
    visitor,
)

LOGGER = logging.getLogger(__name__)

# Seconds a client is asked to wait when the database stays busy past its bound.
BUSY_RETRY_AFTER: Final = 5


def _trusted(settings_proxies: tuple[str, ...], address: str | None) -> bool:
    if not address or not settings_proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in settings_proxies)


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Behind a trusted TLS proxy: client address and scheme from X-Forwarded-*."""
    proxies = core_of(request).settings.trusted_proxies
    if not _trusted(proxies, request.remote):
        return await handler(request)
    remote = request.remote or ""
    forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([p for p in forwarded if p]):
        remote = hop
        if not _trusted(proxies, hop):
            break
    scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    if scheme not in ("http", "https"):
        scheme = request.scheme
    return await handler(request.clone(remote=remote, scheme=scheme))


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; HTML is never cached."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        secure_headers(request, exc)
        raise
    secure_headers(request, response)
    return response


LIVE_UPDATE_HEADER: Final = "X-Live-Update"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors become translated pages; service errors their HTTP status."""
    try:
        response = await handler(request)
    except Exception as err:
        error = error_response(request, err)
        if error is None:
            raise
        response = error
    if request.headers.get(LIVE_UPDATE_HEADER) and 400 <= response.status < 500:
        # A live page the visitor may no longer see (window closed, access ended): its
        # script leaves it for the installation's page, which says why.
        return web.Response(status=HTTPStatus.NO_CONTENT)
    return response


@web.middleware
async def busy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A database still busy after its short bound answers 503 and Retry-After, not a 500."""
    try:
        return await handler(request)
    except Exception as err:
        if not is_busy(err):
            raise
        LOGGER.warning("Database busy: %s %s answered 503", request.method, request.path)
    headers = {"Retry-After": str(BUSY_RETRY_AFTER)}
    if request.path.startswith("/api/") or request.path == "/healthz":
        return web.json_response({"error": "busy"}, status=503, headers=headers)
    response = error_page(request, 503)
    response.headers.update(headers)
    return response


@web.middleware
async def visitor_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session, pick the language, prepare the CSRF token and the flash message."""
    if request.path.startswith(("/static/", "/api/")) or request.path in ("/healthz", "/metrics"):
        return await handler(request)
    core = core_of(request)
    v = anonymous_visitor(request)
    token = request.cookies.get(cookie_name(v.secure, "portal_session"))
    if token:
        v.loaded = await load_session(core, token)
        if v.loaded is None:
            v.cookie_updates.append(lambda r: clear_session_cookie(request, r))
    if v.loaded is not None:
        v.language = v.loaded.user.language
        v.csrf_seed = v.loaded.token
        v.csrf_token = csrf.make_token(core.settings.secret_key, v.loaded.token)
    flash_cookie = request.cookies.get(cookie_name(v.secure, "portal_flash"))
    if flash_cookie:
        v.flash_cookie_seen = True
        key = csrf.unsign(core.settings.secret_key, flash_cookie)
        if key in FLASHES:
            v.flash = ("ok", FLASHES[key])
    request[VISITOR] = v
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            _finish_cookies(request, v, exc)
            raise
        converted = error_response(request, exc)
        response = exc if converted is None else converted
    except ServiceError as err:
        converted = error_response(request, err)
        response = error_page(request, 400) if converted is None else converted
    _finish_cookies(request, v, response)
    return response


def _finish_cookies(request: web.Request, v: Visitor, response: web.StreamResponse) -> None:
    if v.new_csrf_cookie:
        response.set_cookie(
            cookie_name(v.secure, "portal_csrf"),
            v.csrf_seed if v.loaded is None else new_token()[0],
            httponly=True,
            samesite="Lax",
            secure=v.secure,
            path="/",
        )
    if v.flash_cookie_seen and response.status == 200:
        response.del_cookie(cookie_name(v.secure, "portal_flash"), path="/")
    for update in v.cookie_updates:
        update(response)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse every state-changing request without the visitor's CSRF token."""
    if request.method in SAFE_METHODS or VISITOR not in request or is_streamed_upload(request):
        # A streamed upload checks the token in its first part (``uploads.multipart_form``).
        return await handler(request)
    v = visitor(request)
    core = core_of(request)
    candidate = request.headers.get(csrf.HEADER)
    if candidate is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        value = (await request.post()).get(csrf.FIELD)
        candidate = value if isinstance(value, str) else None
    if not csrf.check_token(core.settings.secret_key, v.csrf_seed, candidate):
        async with core.tx() as db:
            await record(
                db, core.now(), Event.CSRF_REJECTED, actor=v.user, ip=v.ip, detail=request.path
            )
        return error_page(
            request,
            403,
            N_(
                "The form has expired or did not come from this site. "
                "Please go back, reload the page and try again."
            ),
        )
    return await handler(request)
