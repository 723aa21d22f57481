"""``GET /metrics``: this instance's figures in Prometheus' text format.

Not a page: no session, no language. Off (404) unless a bearer token
(``COMPANION_METRICS_TOKEN``) or addresses (``COMPANION_METRICS_ADDRESSES``) are configured;
then a request must carry the token or come from one of the addresses (as the trusted-proxy
middleware sees the client), else it is answered 401.

Gauges and counters of this process (live connections, handshakes, frames received) and of
the database every instance shares (frames waiting for Home Assistant, mail waiting to go):
a scrape of any instance gives the shared ones, summing the process ones across instances
gives the whole.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from companion_server.app_keys import HUB
from companion_server.hub.auth import bearer
from companion_server.models import OutboxMessage, PortalFrame
from companion_server.web import core_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from companion_server.hub.hub import Hub
    from companion_server.settings import Settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

routes = web.RouteTableDef()


class _Figures(Collector):
    """The figures of one scrape, read before the registry asks for them."""

    def __init__(self, hub: Hub, outbox: int, mail: int) -> None:
        self.hub, self.outbox, self.mail = hub, outbox, mail

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        yield GaugeMetricFamily(
            "somfy_pro_ha_connections",
            "Home Assistant channels connected to this instance",
            value=len(hub.connections),
        )
        yield GaugeMetricFamily(
            "somfy_pro_ha_handshakes",
            "Home Assistant handshakes in progress on this instance (accept budget)",
            value=hub.admission.handshakes,
        )
        yield GaugeMetricFamily(
            "somfy_pro_ha_handshakes_waiting",
            "Home Assistant handshakes waiting in line for a place on this instance",
            value=hub.admission.waiting,
        )
        yield CounterMetricFamily(
            "somfy_pro_ha_refused",
            "Home Assistant connections refused with 503 and Retry-After by this instance",
            value=hub.admission.refused,
        )
        yield CounterMetricFamily(
            "somfy_pro_frames_received",
            "Frames received from Home Assistant by this instance",
            value=hub.frames_received,
        )
        yield CounterMetricFamily(
            "somfy_pro_snapshots_unchanged",
            "Snapshots skipped by this instance: what the installation's devices held already",
            value=hub.snapshots_unchanged,
        )
        yield GaugeMetricFamily(
            "somfy_pro_telemetry_queue",
            "Device updates waiting for this instance's telemetry writer",
            value=hub.telemetry.queue.qsize(),
        )
        yield GaugeMetricFamily(
            "somfy_pro_outbox_frames",
            "Frames for Home Assistant not yet acknowledged (all instances)",
            value=self.outbox,
        )
        yield GaugeMetricFamily(
            "somfy_pro_mail_backlog",
            "E-mails waiting for delivery (all instances)",
            value=self.mail,
        )


def allowed(settings: Settings, request: web.Request) -> bool:
    """Whether ``request`` may read the metrics (the token, or one of the addresses)."""
    token = bearer(request)
    if settings.metrics_token and hmac.compare_digest(
        token.encode(), settings.metrics_token.encode()
    ):
        return True
    try:
        remote = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    return any(
        remote in ipaddress.ip_network(network, strict=False)
        for network in settings.metrics_addresses
    )


@routes.get("/metrics", allow_head=False)
async def metrics(request: web.Request) -> web.StreamResponse:
    """The figures, for Prometheus."""
    core = core_of(request)
    settings = core.settings
    if not settings.metrics_token and not settings.metrics_addresses:
        raise web.HTTPNotFound
    if not allowed(settings, request):
        return web.Response(
            status=401, text="unauthorized\n", headers={"WWW-Authenticate": "Bearer"}
        )
    async with core.tx() as db:
        outbox = await db.scalar(
            select(func.count()).select_from(PortalFrame).where(PortalFrame.acked_at.is_(None))
        )
        mail = await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(request.app[HUB], int(outbox or 0), int(mail or 0)))
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})
