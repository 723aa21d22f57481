"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
import aiohttp_jinja2
import jinja2
from sqlalchemy import delete, select

from companion_server import pages, retention
from companion_server.accounts import views as account_views
from companion_server.app_keys import (
    CENTRE_TIMER,
    CORE,
    FRAMES,
    LEAFLET,
    MAIL_WORKER,
    RETENTION_JOB,
    SIA_WORKER,
)
from companion_server.billing import (
    admin_views as billing_admin_views,
    handlers as billing_handlers,
    home_assistant as billing_home_assistant,
    renewals,
    views as billing_views,
)
from companion_server.centre import handlers as centre_handlers, timer, views as centre_views
from companion_server.centre.sia.worker import SiaWorker
from companion_server.centre_link import views as centre_link_views
from companion_server.core import Clock, Core, build_core
from companion_server.customers import api as customer_api, views as customer_views
from companion_server.db import migrate
from companion_server.help import views as help_views
from companion_server.hub import api as hub_api, channel_frames, metrics as hub_metrics
from companion_server.hub.dispatch import FrameRegistry
from companion_server.i18n import dates
from companion_server.installations import views as installation_views
from companion_server.interventions import (
    handlers as intervention_handlers,
    views as intervention_views,
)
from companion_server.invoicing import (
    advance_views as invoicing_advance_views,
    api as invoicing_api,
    company_views as invoicing_company_views,
    customer_views as invoicing_customer_views,
)
from companion_server.mail import worker
from companion_server.middlewares import (
    busy_middleware,
    csrf_middleware,
    error_middleware,
    headers_middleware,
    proxy_middleware,
    visitor_middleware,
)
from companion_server.models import Company, Invitation, User, UserToken
from companion_server.monitoring import (
    box_values,
    handlers as monitoring_handlers,
    views as monitoring_views,
)
from companion_server.records import (
    company_views as record_company_views,
    document_views,
    views as record_views,
)
from companion_server.registration import (
    api as registration_api,
    handlers as registration_handlers,
    views as registration_views,
)
from companion_server.security import ratelimit, sessions
from companion_server.team import views as team_views
from companion_server.tickets import (
    ha_api as ticket_api,
    handlers as ticket_handlers,
    installation_tab as ticket_tab,
    labels as ticket_labels,
    views as ticket_views,
)
from companion_server.tickets.inbound.endpoint import inbound_context

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from companion_server.settings import Settings

LOGGER = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).parent
MAINTENANCE_SECONDS = 600


def frame_registry() -> FrameRegistry:
    """Every frame Home Assistant sends, with the area that handles it.

    The order of registration is the order in which the areas follow a ``hello``.
    """
    registry = FrameRegistry()
    channel_frames.register(registry)
    monitoring_handlers.register(registry)
    intervention_handlers.register(registry)
    registration_handlers.register(registry)
    centre_handlers.register(registry)
    ticket_handlers.register(registry)
    billing_handlers.register(registry)
    if missing := registry.missing():
        raise RuntimeError(f"no handler for the frames {sorted(missing)}")
    return registry


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the portal. ``settings.secret_key`` must be set (see ``ensure_secret_key``)."""
    if not settings.secret_key:
        raise ValueError("settings.secret_key is required")
    app = web.Application(
        middlewares=[
            proxy_middleware,
            headers_middleware,
            error_middleware,
            busy_middleware,
            visitor_middleware,
            csrf_middleware,
        ],
        client_max_size=256 * 1024,
    )
    app[CORE] = build_core(settings, clock)
    app[FRAMES] = frame_registry()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("companion_server", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        # The templates ship with the code, which a restart replaces: checking each one's
        # file for changes before every render cost 3 % of a list page.
        auto_reload=False,
    )
    aiohttp_jinja2.get_env(app).globals.update(
        {**dates.TEMPLATE_GLOBALS, **ticket_labels.TEMPLATE_GLOBALS}, box=box_values.box_text
    )
    app.add_routes(pages.routes)
    app.add_routes(account_views.routes)
    app.add_routes(team_views.routes)
    app.add_routes(centre_link_views.routes)
    app.add_routes(registration_views.routes)
    app.add_routes(installation_views.routes)
    app.add_routes(monitoring_views.routes)
    app.add_routes(intervention_views.routes)
    app.add_routes(centre_views.routes)
    app.add_routes(customer_views.routes)
    app.add_routes(billing_views.routes)
    app.add_routes(billing_admin_views.routes)
    app.add_routes(ticket_views.routes)
    app.add_routes(ticket_tab.routes)
    app.add_routes(help_views.routes)
    app.add_routes(record_views.routes)
    app.add_routes(document_views.routes)
    app.add_routes(record_company_views.routes)
    app.add_routes(invoicing_customer_views.routes)
    app.add_routes(invoicing_company_views.routes)
    app.add_routes(invoicing_advance_views.routes)
    app.add_routes(registration_api.routes)
    app.add_routes(invoicing_api.routes)
    app.add_routes(customer_api.routes)
    app.add_routes(ticket_api.routes)
    app.add_routes(hub_api.routes)
    app.add_routes(hub_metrics.routes)
    if settings.demo:
        app.add_routes(pages.demo_routes)
    leaflet = Path(settings.leaflet_dir)
    app[LEAFLET] = (leaflet / "leaflet.js").is_file()
    if app[LEAFLET]:
        # Debian's libjs-leaflet, served by the portal itself: maps need no CDN.
        app.router.add_static("/static/leaflet", leaflet, name="leaflet", append_version=False)
    app.router.add_static("/static", PACKAGE_DIR / "static", name="static", append_version=False)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(hub_api.hub_context)
    # aiohttp annotates its signals for aiosignal < 1.4, whose Signal took the callback type.
    app.on_shutdown.append(hub_api.release_hub)  # type: ignore[arg-type]
    if settings.mail_worker:
        app.cleanup_ctx.append(_mail_worker)
    if settings.sia_worker:
        app.cleanup_ctx.append(_sia_worker)
    if settings.inbound_smtp:
        app.cleanup_ctx.append(inbound_context)
    app.cleanup_ctx.append(_maintenance)
    app.cleanup_ctx.append(_centre_timer)
    if settings.retention_interval_minutes:
        app.cleanup_ctx.append(_retention)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    core = app[CORE]
    if core.settings.auto_migrate:
        await migrate(core.engine)
    yield
    await core.close()


async def _mail_worker(app: web.Application) -> AsyncIterator[None]:
    core = app[CORE]
    if not core.settings.smtp_configured:
        LOGGER.warning("SMTP is not configured: e-mail is kept in the outbox, not delivered")
        yield
        return
    task = asyncio.create_task(worker.run(core), name="mail-worker")
    app[MAIL_WORKER] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _centre_timer(app: web.Application) -> AsyncIterator[None]:
    """The monitoring centre's call-back waits end on every instance's sweep."""
    task = asyncio.create_task(timer.run(app[CORE]), name="centre-timer")
    app[CENTRE_TIMER] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sia_worker(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(SiaWorker(app[CORE]).run(), name="sia-worker")
    app[SIA_WORKER] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _retention(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(retention.run(app[CORE]), name="retention")
    app[RETENTION_JOB] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def purge_expired(core: Core) -> None:
    """Delete expired sessions, rate-limit windows and long-dead links."""
    now = core.now()
    async with core.tx() as db:
        await sessions.purge(db, core)
        await ratelimit.purge(db, now)
        await db.execute(delete(UserToken).where(UserToken.expires_at < now - timedelta(days=30)))
        await db.execute(delete(Invitation).where(Invitation.expires_at < now - timedelta(days=30)))
        # Sign-ups never confirmed, and the companies they leave empty.
        stale = now - timedelta(hours=core.settings.confirm_token_hours) - timedelta(days=7)
        unconfirmed = (User.email_confirmed_at.is_(None), User.created_at < stale)
        companies = set(await db.scalars(select(User.company_id).where(*unconfirmed)))
        if companies:
            await db.execute(delete(User).where(*unconfirmed))
            await db.execute(
                delete(Company).where(
                    Company.id.in_(companies),
                    ~select(User.id).where(User.company_id == Company.id).exists(),
                )
            )


async def _maintenance(app: web.Application) -> AsyncIterator[None]:
    core = app[CORE]

    async def loop() -> None:
        while True:
            try:
                await purge_expired(core)
                await billing_home_assistant.queue_period_ends(core)
                await renewals.invoice_renewals(core)
            except Exception:
                LOGGER.exception("Maintenance failed")
            await asyncio.sleep(MAINTENANCE_SECONDS)

    task = asyncio.create_task(loop(), name="maintenance")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
