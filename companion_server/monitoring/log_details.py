"""The details column of the interventions log, in the reader's language and time zone.

Entries keep codes (action kinds, alert types) and UTC times, never words of one language:
the log is read by people of several languages, long after it was written.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import TYPE_CHECKING, Any

import jinja2

from companion_server.i18n.dates import format_when
from companion_server.interventions.rules import KIND_LABELS
from companion_server.monitoring.labels import alert_label

if TYPE_CHECKING:
    from companion_server.models import InterventionEntry

# How window entries write their end (``interventions.handlers``).
UNTIL_FORMAT = "%Y-%m-%d %H:%M UTC"


def _kinds(_: Any, text: str) -> str:
    return ", ".join(_(KIND_LABELS[k]) if k in KIND_LABELS else k for k in text.split(", ") if k)


def _alert(_: Any, detail: str) -> str | None:
    try:
        data = json.loads(detail)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    alert = _(alert_label(str(data.get("alert", ""))))
    device = str(data.get("device") or "") or _("the box")
    if "to" not in data:
        return str(_("{alert} ({device})", alert=alert, device=device))
    if data["to"]:
        return str(_("{alert} ({device}) to {name}", alert=alert, device=device, name=data["to"]))
    return str(_("{alert} ({device}) to nobody", alert=alert, device=device))


@jinja2.pass_context
def log_detail(context: Any, entry: InterventionEntry) -> str:
    """Template global: an entry's details, translated where they hold codes."""
    detail = entry.detail or ""
    _ = context["_"]
    if entry.kind in ("alert_acknowledged", "alert_assigned"):
        return _alert(_, detail) or detail
    if entry.kind == "window_requested":
        return _kinds(_, detail)
    if entry.kind == "window_granted" and "; until " in detail:
        kinds, _sep, until = detail.partition("; until ")
        try:
            end = datetime.strptime(until, UNTIL_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return detail
        user = context.get("user")
        time = format_when(end, context["lang"], getattr(user, "time_zone", None), "short")
        return str(_("{kinds}; until {time}", kinds=_kinds(_, kinds), time=time))
    return detail
