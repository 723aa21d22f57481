"""Actions of remote service: grant and revoke a window, read the audit log.

``somfy_pro.grant_remote_service`` opens a window for the linked installer (0.25 to 8 hours,
8 by default; kinds: all by default), ``somfy_pro.revoke_remote_service`` ends it at once
(even when the portal cannot be reached), ``somfy_pro.get_audit_log`` returns the audit log
with its verification. Each targets one box: ``config_entry_id`` or a device of the box; with
a single Somfy Pro box neither is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .const import DOMAIN
from .remote_service import (
    DEFAULT_HOURS,
    MAX_HOURS,
    MIN_HOURS,
    linked_installer,
    normalize_kinds,
    valid_hours,
)

if TYPE_CHECKING:  # pragma: no cover
    from .coordinator import SomfyProConfigEntry

SERVICE_GRANT: Final = "grant_remote_service"
SERVICE_REVOKE: Final = "revoke_remote_service"
SERVICE_AUDIT_LOG: Final = "get_audit_log"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_HOURS: Final = "hours"
ATTR_KINDS: Final = "kinds"
ATTR_LIMIT: Final = "limit"

_TARGET = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_DEVICE_ID): vol.Any(cv.string, [cv.string]),
}
# Ranges are checked in the handlers, so that the errors are translated.
GRANT_SCHEMA: Final = vol.Schema(
    {
        **_TARGET,
        vol.Optional(ATTR_HOURS, default=DEFAULT_HOURS): vol.Coerce(float),
        vol.Optional(ATTR_KINDS): vol.All(cv.ensure_list, [cv.string]),
    }
)
REVOKE_SCHEMA: Final = vol.Schema(_TARGET)
AUDIT_SCHEMA: Final = vol.Schema(
    {**_TARGET, vol.Optional(ATTR_LIMIT): vol.All(vol.Coerce(int), vol.Range(min=0))}
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _target_entry(hass: HomeAssistant, data: dict[str, Any]) -> SomfyProConfigEntry:
    """The loaded entry the call is about: its id, a device of it, or the only one."""
    entry_ids: set[str] = set()
    if ATTR_CONFIG_ENTRY_ID in data:
        entry_ids.add(data[ATTR_CONFIG_ENTRY_ID])
    devices = data.get(ATTR_DEVICE_ID)
    if devices:
        registry = dr.async_get(hass)
        for device_id in [devices] if isinstance(devices, str) else devices:
            device = registry.async_get(device_id)
            ours = [
                entry_id
                for entry_id in (device.config_entries if device else ())
                if (owner := hass.config_entries.async_get_entry(entry_id)) is not None
                and owner.domain == DOMAIN
            ]
            if not ours:
                raise _error("remote_unknown_target", target=device_id)
            entry_ids.update(ours)
    if not entry_ids:
        entries = hass.config_entries.async_entries(DOMAIN)
        if len(entries) != 1:
            raise _error("remote_target_required")
        entry_ids.add(entries[0].entry_id)
    if len(entry_ids) != 1:
        raise _error("remote_target_required")
    entry_id = entry_ids.pop()
    entry: SomfyProConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _error("remote_unknown_target", target=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _error("remote_entry_not_loaded", title=entry.title)
    return entry


async def _async_grant(call: ServiceCall) -> ServiceResponse:
    entry = _target_entry(call.hass, dict(call.data))
    installer = linked_installer(entry)
    if installer is None:
        raise _error("remote_not_linked", title=entry.title)
    hours: float = call.data[ATTR_HOURS]
    if not valid_hours(hours):
        raise _error(
            "remote_hours_invalid", hours=f"{hours:g}", min=f"{MIN_HOURS:g}", max=f"{MAX_HOURS:g}"
        )
    try:
        kinds = normalize_kinds(call.data.get(ATTR_KINDS))
    except ValueError as err:
        raise _error("remote_kind_unknown", kind=str(err)) from err
    window = entry.runtime_data.remote_service.async_grant(installer, hours, kinds)
    return window.as_dict() if call.return_response else None


async def _async_revoke(call: ServiceCall) -> None:
    entry = _target_entry(call.hass, dict(call.data))
    if not entry.runtime_data.remote_service.async_revoke():
        raise _error("remote_no_window", title=entry.title)


async def _async_audit_log(call: ServiceCall) -> ServiceResponse:
    entry = _target_entry(call.hass, dict(call.data))
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
