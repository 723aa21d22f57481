"""Actions of the integration: revoke the monitoring granted to the linked installer."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN
from .portal_monitoring import MONITORING_REVOKED
from .service_target import ATTR_CONFIG_ENTRY_ID, MONITORING_ERRORS, service_error, target_entry

SERVICE_REVOKE_MONITORING: Final = "revoke_monitoring"

_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


async def _async_revoke_monitoring(call: ServiceCall) -> None:
    """Stop streaming to the installer now; the portal is told when it can be reached."""
    entry = target_entry(call.hass, dict(call.data), MONITORING_ERRORS)
    channel = entry.runtime_data.portal
    monitoring = entry.runtime_data.monitoring
    if channel.link is None:
        raise service_error(MONITORING_ERRORS.not_linked, title=entry.title)
    if not monitoring.granted:
        raise service_error("monitoring_not_granted", company=channel.company_name or "")
    await monitoring.async_set_monitoring(MONITORING_REVOKED)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_REVOKE_MONITORING, _async_revoke_monitoring, schema=_SCHEMA
    )
