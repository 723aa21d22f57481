"""Actions of remote service: grant and revoke a window, read the audit log.

``somfy_pro.grant_remote_service`` opens a window for the linked installer (0.25 to 8 hours,
8 by default; kinds: all by default), ``somfy_pro.revoke_remote_service`` ends it at once
(even when the portal cannot be reached), ``somfy_pro.get_audit_log`` returns the audit log
with its verification. Each targets one box: ``config_entry_id`` or a device of the box; with
a single Somfy Pro box neither is needed.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN
from .remote_window import (
    DEFAULT_HOURS,
    MAX_HOURS,
    MIN_HOURS,
    linked_installer,
    normalize_kinds,
    valid_hours,
)
from .service_target import REMOTE_ERRORS, TARGET_FIELDS, service_error, target_entry

SERVICE_GRANT: Final = "grant_remote_service"
SERVICE_REVOKE: Final = "revoke_remote_service"
SERVICE_AUDIT_LOG: Final = "get_audit_log"
ATTR_HOURS: Final = "hours"
ATTR_KINDS: Final = "kinds"
ATTR_LIMIT: Final = "limit"

# Ranges are checked in the handlers, so that the errors are translated.
GRANT_SCHEMA: Final = vol.Schema(
    {
        **TARGET_FIELDS,
        vol.Optional(ATTR_HOURS, default=DEFAULT_HOURS): vol.Coerce(float),
        vol.Optional(ATTR_KINDS): vol.All(cv.ensure_list, [cv.string]),
    }
)
REVOKE_SCHEMA: Final = vol.Schema(TARGET_FIELDS)
AUDIT_SCHEMA: Final = vol.Schema(
    {**TARGET_FIELDS, vol.Optional(ATTR_LIMIT): vol.All(vol.Coerce(int), vol.Range(min=0))}
)


async def _async_grant(call: ServiceCall) -> ServiceResponse:
    entry = target_entry(call.hass, dict(call.data), REMOTE_ERRORS)
    installer = linked_installer(entry)
    if installer is None:
        raise service_error(REMOTE_ERRORS.not_linked, title=entry.title)
    hours: float = call.data[ATTR_HOURS]
    if not valid_hours(hours):
        raise service_error(
            "remote_hours_invalid", hours=f"{hours:g}", min=f"{MIN_HOURS:g}", max=f"{MAX_HOURS:g}"
        )
    try:
        kinds = normalize_kinds(call.data.get(ATTR_KINDS))
    except ValueError as err:
        raise service_error("remote_kind_unknown", kind=str(err)) from err
    window = entry.runtime_data.remote_service.async_grant(installer, hours, kinds)
    return window.as_dict() if call.return_response else None


async def _async_revoke(call: ServiceCall) -> None:
    entry = target_entry(call.hass, dict(call.data), REMOTE_ERRORS)
    if not entry.runtime_data.remote_service.async_revoke():
        raise service_error("remote_no_window", title=entry.title)


async def _async_audit_log(call: ServiceCall) -> ServiceResponse:
    entry = target_entry(call.hass, dict(call.data), REMOTE_ERRORS)
    exported: dict[str, Any] = entry.runtime_data.remote_service.audit.export(
        call.data.get(ATTR_LIMIT)
    )
    return exported


@callback
def async_setup_window_services(hass: HomeAssistant) -> None:
    """Register the remote-service actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GRANT,
        _async_grant,
        schema=GRANT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_REVOKE, _async_revoke, schema=REVOKE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_AUDIT_LOG,
        _async_audit_log,
        schema=AUDIT_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
