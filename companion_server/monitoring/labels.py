"""What the pages and e-mails call alert types, consent states and log entries."""

from __future__ import annotations

from companion_server.i18n import N_

ALERT_LABELS: dict[str, str] = {
    "intrusion": N_("Intrusion"),
    "tamper": N_("Tamper"),
    "fire": N_("Fire or smoke"),
    "battery_low": N_("Low battery"),
    "sensor_defect": N_("Sensor defect"),
    "device_offline": N_("Product offline"),
    "box_offline": N_("Box offline"),
}

# Worst first: how the installations list orders an installation's active alerts.
ALERT_SEVERITY: tuple[str, ...] = (
    "fire",
    "intrusion",
    "tamper",
    "box_offline",
    "device_offline",
    "sensor_defect",
    "battery_low",
)

MONITORING_LABELS: dict[str, str] = {
    "none": N_("Not requested"),
    "requested": N_("Requested, waiting for the customer"),
    "granted": N_("Granted"),
    "declined": N_("Declined by the customer"),
    "revoked": N_("Revoked by the customer"),
}

LOG_LABELS: dict[str, str] = {
    "registered": N_("Box registered, validation code sent"),
    "code_resent": N_("Validation code sent again"),
    "linked": N_("Linked with Home Assistant"),
    "unlinked_by_home_assistant": N_("Unlinked in Home Assistant"),
    "unlinked_by_installer": N_("Unlinked in the portal"),
    "monitoring_requested": N_("Serv-e-go requested"),
    "monitoring_granted": N_("Serv-e-go granted by the customer"),
    "monitoring_declined": N_("Serv-e-go declined by the customer"),
    "monitoring_revoked": N_("Serv-e-go revoked by the customer"),
    "window_requested": N_("Remote service requested"),
    "window_granted": N_("Remote service granted"),
    "window_declined": N_("Remote service declined"),
    "window_revoked": N_("Remote service revoked"),
    "window_expired": N_("Remote service ended"),
    "action_result": N_("Remote action result"),
    "action_parameters": N_("Remote action: io parameter"),
    "action_reboot": N_("Remote action: box reboot"),
    "action_pair_remote": N_("Remote action: add a remote control"),
    "action_web_app": N_("Remote action: customer's web app"),
    "intervention_ended": N_("Remote intervention ended"),
    "advance_invoiced": N_("Advance invoice sent to the customer"),
    "advance_override": N_("Work allowed before the advance is paid"),
    "note": N_("Private note"),
    "alert_acknowledged": N_("Alert acknowledged"),
    "alert_assigned": N_("Alert assigned"),
}


def alert_label(kind: str) -> str:
    """The message id of an alert type (unknown types are shown as they come)."""
    return ALERT_LABELS.get(kind, kind)


def log_label(kind: str) -> str:
    """The message id of a log entry kind."""
    return LOG_LABELS.get(kind, kind)


def severity(kind: str) -> int:
    """The rank of an alert type, 0 the worst (types nobody ranked yet come last)."""
    return ALERT_SEVERITY.index(kind) if kind in ALERT_SEVERITY else len(ALERT_SEVERITY)
