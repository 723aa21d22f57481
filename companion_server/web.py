"""The web layer shared by every area: the visitor, responses, role guards, template context.

The middlewares that set the visitor up are in ``middlewares``; error pages in
``error_pages``, streamed uploads in ``uploads``, the session and language cookies in
``session_cookies``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import functools
import logging
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from aiohttp import web
import aiohttp_jinja2

from companion_server.app_keys import CORE
from companion_server.errors import Forbidden, NotFound
from companion_server.i18n import LANGUAGE_NAMES, LANGUAGES, N_, negotiate, normalize, translator
from companion_server.parsing import is_safe_path, parse_id
from companion_server.security import csrf
from companion_server.security.tokens import new_token

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.models import User
    from companion_server.security.sessions import LoadedSession

LOGGER = logging.getLogger(__name__)

VISITOR = "companion_visitor"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

CSRF_MESSAGE = N_(
    "The form has expired or did not come from this site. "
    "Please go back, reload the page and try again."
)

# Flash messages: only ids from this set are shown (the cookie is also signed).
FLASHES = {
    "confirmed": N_("Your e-mail address is confirmed. You can log in now."),
    "logged_out": N_("You are logged out."),
    "password_reset": N_("Your new password is saved. You can log in now."),
    "profile_saved": N_("Your profile is saved."),
    "password_changed": N_("Your password is changed. Your other sessions have ended."),
    "invited": N_("The invitation is sent."),
    "invitation_revoked": N_("The invitation is withdrawn."),
    "member_deleted": N_("The collaborator is deleted and has lost access."),
    "promoted": N_("The collaborator is now an administrator."),
    "stepped_down": N_("You are no longer an administrator."),
    "assigned": N_("The installation is assigned."),
    "unassigned": N_("The assignment is removed."),
    "welcome": N_("Welcome! Your account is ready."),
    "session_expired": N_("Please log in to continue."),
    "box_registered": N_("The box is registered: the customer has been sent the validation code."),
    "code_resent": N_("A new validation code is sent; the previous one no longer works."),
    "monitoring_requested": N_("Serv-e-go is requested: the customer has been asked to validate."),
    "box_unlinked": N_("The box is unlinked; its Home Assistant can no longer connect."),
    "note_added": N_("The note is saved. Only your company sees it."),
    "alert_settings_saved": N_("The alert settings are saved."),
    "alert_acknowledged": N_("The alert is acknowledged."),
    "alert_assigned": N_("The alert's assignment is saved."),
    "remote_service_requested": N_(
        "Remote service is requested: the customer has been asked to validate."
    ),
    "remote_action_sent": N_("The action is sent to the customer's Home Assistant."),
    "pairing_mode_sent": N_(
        "Pairing mode is requested on the box: ask the customer to press PROG on the remote."
    ),
    "intervention_ended": N_("The intervention is ended; the customer is informed."),
    # The monitoring centre's console.
    "case_claimed": N_("You are handling this case: no other operator can record a step."),
    "case_released": N_("The case is back in the queue for any operator."),
    "case_handed_over": N_("The case is handed over."),
    "step_recorded": N_("The step is recorded."),
    "ticket_created": N_("The ticket is created. You can follow it here."),
    "ticket_status_changed": N_("The status is changed; the customer is informed by e-mail."),
    "ticket_assigned": N_("The ticket's assignee is saved."),
    "ticket_commented": N_("The comment is saved."),
    "customer_contacted": N_("The message is sent to the customer."),
    "place_saved": N_("The location is saved."),
    "sub_added": N_("The sub-installation is added."),
    "sub_deleted": N_("The sub-installation is removed; its devices stay on file."),
    "device_added": N_("The device is added."),
    "device_saved": N_("The device is saved."),
    "device_deleted": N_("The device is removed."),
    "document_uploaded": N_("The document is uploaded."),
    "document_deleted": N_("The document is deleted."),
    "warranty_saved": N_("The warranty table is saved."),
    "warranty_deleted": N_("The model is removed from the warranty table."),
    "credit_note_issued": N_("The credit note is issued."),
    "invoice_issued": N_("The invoice is issued."),
    "seller_saved": N_("The invoicing details are saved."),
    "payment_method_saved": N_("Your payment method is saved."),
    "advance_issued": N_("The advance invoice is issued and the customer has the payment link."),
    "advance_overridden": N_("Recorded: remote service can be requested before payment."),
    "card_saved": N_("Your card is saved for your next invoices."),
}


@dataclass(slots=True)
class Visitor:
    """Who is asking: client address, language, session and CSRF token."""

    ip: str
    secure: bool
    language: str
    csrf_seed: str
    csrf_token: str
    new_csrf_cookie: bool = False
    loaded: LoadedSession | None = None
    flash: tuple[str, str] | None = None
    flash_cookie_seen: bool = False
    cookie_updates: list[Callable[[web.StreamResponse], None]] = field(default_factory=list)

    @property
    def user(self) -> User | None:
        """The logged-in user, if any."""
        return self.loaded.user if self.loaded else None

    @property
    def session_token(self) -> str | None:
        """The current session's cookie token, if logged in."""
        return self.loaded.token if self.loaded else None


def core_of(request: web.Request) -> Core:
    """The portal core of a request."""
    return request.app[CORE]


def visitor(request: web.Request) -> Visitor:
    """The visitor of a request (set by :func:`visitor_middleware`)."""
    return cast("Visitor", request[VISITOR])


def current_user(request: web.Request) -> User:
    """The logged-in user (only inside :func:`login_required` handlers)."""
    user = visitor(request).user
    assert user is not None
    return user


def cookie_name(secure: bool, name: str) -> str:
    """``__Host-`` prefixed names over HTTPS (no Domain, Path=/, Secure)."""
    return f"__Host-{name}" if secure else name


# -- responses ----------------------------------------------------------------------------


def redirect(location: str) -> web.Response:
    """A 303 See Other (the browser follows with GET)."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None, default: str = "/installations") -> str:
    """A local path to go to after login (never another site)."""
    return target if target and is_safe_path(target) else default


def set_flash(request: web.Request, response: web.StreamResponse, key: str) -> None:
    """Show a message on the next page (post/redirect/get)."""
    assert key in FLASHES
    v = visitor(request)
    secret = core_of(request).settings.secret_key
    response.set_cookie(
        cookie_name(v.secure, "portal_flash"),
        csrf.sign(secret, key),
        httponly=True,
        samesite="Lax",
        secure=v.secure,
        path="/",
        max_age=300,
    )


def flash_redirect(request: web.Request, location: str, key: str) -> web.Response:
    """Redirect and show a message there."""
    response = redirect(location)
    set_flash(request, response, key)
    return response


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render a page of the base layout."""
    full = template_context(request)
    full.update(context or {})
    return aiohttp_jinja2.render_template(template, request, full, status=status)


async def form_data(request: web.Request) -> dict[str, str]:
    """The submitted form fields (text only)."""
    data = await request.post()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def int_param(request: web.Request, name: str) -> int:
    """An integer from the route (anything else is a 404)."""
    value = parse_id(request.match_info.get(name))
    if value is None:
        raise NotFound()
    return value


def login_url(request: web.Request) -> str:
    """The login page, coming back here afterwards."""
    target = request.path_qs if request.method in SAFE_METHODS else "/installations"
    return "/login?next=" + quote(target, safe="")


CONSOLE = "/centre"


def home_path(user: User) -> str:
    """Where a logged-in user's pages start."""
    if user.is_customer:
        return "/customer"
    if user.is_support:
        return "/tickets"
    if user.is_operator:
        return CONSOLE
    return "/installations"


def _role_required(allowed: Callable[[User], bool], handler: Handler) -> Handler:
    """Anonymous visitors go to the login page; other roles are sent home (GET) or refused."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = visitor(request).user
        if user is None:
            return redirect(login_url(request))
        if not allowed(user):
            if request.method in SAFE_METHODS:
                return redirect(home_path(user))
            raise Forbidden()
        return await handler(request)

    return wrapper


def login_required(handler: Handler) -> Handler:
    """Pages of an installer company's staff (administrators and installers).

    Customers and support staff have their own areas: a page of the company's staff sends
    them home, so no staff page has to check the role again.
    """
    return _role_required(lambda user: user.is_staff, handler)


def account_required(handler: Handler) -> Handler:
    """Pages of every logged-in user (profile, password)."""
    return _role_required(lambda user: True, handler)


def customer_required(handler: Handler) -> Handler:
    """Pages of the customer area."""
    return _role_required(lambda user: user.is_customer, handler)


def desk_required(handler: Handler) -> Handler:
    """Ticket tracking: a company's staff and the manufacturer's support."""
    return _role_required(lambda user: user.is_staff or user.is_support, handler)


def support_required(handler: Handler) -> Handler:
    """Pages of the manufacturer's support staff only."""
    return _role_required(lambda user: user.is_support, handler)


def console_required(handler: Handler) -> Handler:
    """Operators and administrators (the monitoring centre's console); installers get 403."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = visitor(request).user
        if user is None:
            return redirect(login_url(request))
        if not (user.is_operator or user.is_admin):
            raise Forbidden(N_("Only operators and administrators handle alarm cases."))
        return await handler(request)

    return wrapper


def admin_required(handler: Handler) -> Handler:
    """Only administrators (installers get 403, anonymous visitors the login page).

    Customers and support staff are sent home, as on every page of a company's staff.
    """

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = visitor(request).user
        if user is None:
            return redirect(login_url(request))
        if not user.is_staff and request.method in SAFE_METHODS:
            return redirect(home_path(user))
        if not user.is_admin:
            raise Forbidden("Only administrators can do this.")
        return await handler(request)

    return wrapper


# -- middlewares ------------------------------------------------------------------------


def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Put the security headers on a response (a stream sets them itself before it starts)."""
    if response.prepared:  # streams (WebSocket, events) set theirs before starting
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = "companion-server"
    if core_of(request).settings.is_https:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        response.headers.setdefault("Cache-Control", "no-store")


def anonymous_visitor(request: web.Request) -> Visitor:
    """The visitor before any session is loaded: address, language, CSRF seed."""
    core = core_of(request)
    secure = request.secure or core.settings.is_https
    seed = request.cookies.get(cookie_name(secure, "portal_csrf")) or ""
    new_cookie = len(seed) < 32
    if new_cookie:
        seed = new_token()[0]
    language = normalize(request.cookies.get(cookie_name(secure, "portal_lang"))) or negotiate(
        request.headers.get("Accept-Language")
    )
    return Visitor(
        ip=request.remote or "unknown",
        secure=secure,
        language=language,
        csrf_seed=seed,
        csrf_token=csrf.make_token(core.settings.secret_key, seed),
        new_csrf_cookie=new_cookie,
    )


def template_context(request: web.Request) -> dict[str, Any]:
    """What every template sees: translation, user, CSRF token, languages, flash."""
    v = visitor(request)
    return {
        "_": translator(v.language),
        "lang": v.language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "user": v.user,
        "csrf_token": v.csrf_token,
        "flash": v.flash,
        "path": request.path,
        "path_qs": request.path_qs,
        "demo": core_of(request).settings.demo,
    }
