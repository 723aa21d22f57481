"""The end of an intervention, told to the homeowner: audit record, event and notification.

The notification's texts are translated from the integration's ``common`` strings (the
category hassfest accepts for texts that are neither errors nor entities).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.helpers import translation
from homeassistant.util import dt as dt_util

from .action_checks import WEB_APP_COMMANDS
from .audit import RECORD_INTERVENTION_ENDED
from .const import DOMAIN
from .parameters import PARAMETERS
from .remote_window import KIND_PAIR_REMOTE, KIND_PARAMETERS, KIND_WEB_APP

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .audit import AuditLog

EVENT_INTERVENTION_ENDED: Final = "somfy_pro_intervention_ended"
# The translation category of the notification's texts.
CATEGORY: Final = "common"
# Every key of that category the notification may use.
NOTIFICATION_KEYS: Final = frozenset(
    {
        "intervention_ended_title",
        "intervention_ended_message",
        "intervention_no_action",
        "action_line_parameters",
        "action_line_pair_remote",
        "action_line_pairing_mode",
        "action_line_reboot",
        "action_line_web_app",
        "action_line_web_app_command",
    }
    | {f"parameter_{parameter.key}" for parameter in PARAMETERS}
    | {f"command_{command}" for command in WEB_APP_COMMANDS}
)


async def async_notify_intervention_ended(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    audit: AuditLog,
    who: dict[str, Any],
    comment: str,
    portal_actions: Any,
    done: list[dict[str, Any]],
) -> None:
    """Record the end, fire ``somfy_pro_intervention_ended`` and notify the homeowner.

    ``done``: the audit records of the actions made in the window.
    """
    audit.async_append(
        RECORD_INTERVENTION_ENDED,
        installer=who,
        comment=comment,
        portal_actions=portal_actions if isinstance(portal_actions, list) else [],
        actions=[record["seq"] for record in done],
    )
    strings = await translation.async_get_translations(
        hass, hass.config.language, CATEGORY, {DOMAIN}
    )

    def text(key: str, **values: Any) -> str:
        template = strings.get(f"component.{DOMAIN}.{CATEGORY}.{key}", key)
        return template.format(**values)

    summary = [_summary_line(record, text) for record in done]
    hass.bus.async_fire(
        EVENT_INTERVENTION_ENDED,
        {
            "config_entry_id": entry.entry_id,
            "company": who.get("company"),
            "installer": who.get("name"),
            "comment": comment,
            "actions": summary,
        },
    )
    company = who.get("company") or ""
    persistent_notification.async_create(
        hass,
        text(
            "intervention_ended_message",
            company=company,
            title=entry.title,
            comment=comment,
            actions="\n".join(f"- {line}" for line in summary) or text("intervention_no_action"),
        ),
        title=text("intervention_ended_title", company=company),
        notification_id=f"{DOMAIN}_intervention_{entry.entry_id}",
    )


def _summary_line(record: dict[str, Any], text: Callable[..., str]) -> str:
    """One action, for the homeowner, in their language: time and what was done."""
    time = dt_util.parse_datetime(str(record.get("time", "")))
    when = dt_util.as_local(time).strftime("%H:%M") if time else ""
    kind = record.get("kind")
    device = record.get("device")
    if kind == KIND_PARAMETERS:
        return text(
            "action_line_parameters",
            time=when,
            device=device,
            parameter=text(f"parameter_{record.get('parameter')}"),
            value=record.get("value"),
        )
    if kind == KIND_PAIR_REMOTE and record.get("remote_address") is None:
        return text("action_line_pairing_mode", time=when)
    if kind == KIND_PAIR_REMOTE:
        return text(
            "action_line_pair_remote",
            time=when,
            remote=record.get("remote_address"),
            devices=", ".join(str(label) for label in record.get("device_labels", [])),
        )
    if kind == KIND_WEB_APP and record.get("command"):
        return text(
            "action_line_web_app_command",
            time=when,
            device=device,
            command=text(f"command_{record.get('command')}"),
        )
    if kind == KIND_WEB_APP:
        return text("action_line_web_app", time=when)
    return text("action_line_reboot", time=when)
