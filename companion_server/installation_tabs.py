"""The frame every tab of an installation's pages shares (the overview, the remote banner)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion_server.interventions import templating
from companion_server.interventions.windows import status as remote_status
from companion_server.monitoring import services
from companion_server.monitoring.announcements import active_alerts
from companion_server.monitoring.box_values import PROBLEM_LABELS, device_problems
from companion_server.monitoring.labels import (
    ALERT_LABELS,
    LOG_LABELS,
    MONITORING_LABELS,
    alert_label,
    log_label,
)
from companion_server.monitoring.log_details import log_detail
from companion_server.web import core_of, current_user, int_param

if TYPE_CHECKING:
    from aiohttp import web


async def tab_context(request: web.Request, tab: str) -> dict[str, Any]:
    """What every tab of an installation shows (raises NotFound when not visible)."""
    core = core_of(request)
    overview = await services.overview(
        core, current_user(request).id, int_param(request, "installation_id")
    )
    granted = overview.granted
    return {
        "ov": overview,
        "active_alerts": await active_alerts(core, overview.installation.id) if granted else [],
        "installation": overview.installation,
        "remote": await remote_status(core, current_user(request).id, overview.installation.id),
        "tab": tab,
        "now": core.now(),
        "minutes_since": services.since,
        "alert_label": alert_label,
        "log_label": log_label,
        "monitoring_labels": MONITORING_LABELS,
        "alert_labels": ALERT_LABELS,
        "log_labels": LOG_LABELS,
        "device_problems": device_problems,
        "problem_labels": PROBLEM_LABELS,
        "log_detail": log_detail,
        **templating.HELPERS,
    }
