"""Actions of the integration: revoke the installer's monitoring, cancel a centre's alarm."""

from __future__ import annotations

from typing import Final

from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .centre import RESULT_NOT_CONFIGURED, RESULT_RATE_LIMITED, RESULT_REFUSED
from .const import DOMAIN
from .portal_monitoring import MONITORING_REVOKED
from .service_target import ATTR_CONFIG_ENTRY_ID, MONITORING_ERRORS, service_error, target_entry

SERVICE_REVOKE_MONITORING: Final = "revoke_monitoring"
SERVICE_CANCEL_ALARM: Final = "cancel_alarm"

_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
_CANCEL_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Required(CONF_PASSWORD): cv.string}
)
# What a refused word says: a duress is answered like a cancel, so nothing here tells them apart.
_CANCEL_ERRORS: Final = {
    RESULT_REFUSED: "cancel_wrong_password",
    RESULT_RATE_LIMITED: "cancel_rate_limited",
    RESULT_NOT_CONFIGURED: "centre_not_configured",
}


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


async def _async_cancel_alarm(call: ServiceCall) -> None:
    """The homeowner's password: cancels the centre's case (or, under duress, seems to)."""
    entry = target_entry(call.hass, dict(call.data), MONITORING_ERRORS)
    if entry.runtime_data.portal.link is None:
        raise service_error(MONITORING_ERRORS.not_linked, title=entry.title)
    result = await entry.runtime_data.centre.async_owner_word(call.data[CONF_PASSWORD])
    if result in _CANCEL_ERRORS:
        raise service_error(_CANCEL_ERRORS[result])


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_REVOKE_MONITORING, _async_revoke_monitoring, schema=_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_ALARM, _async_cancel_alarm, schema=_CANCEL_SCHEMA
    )
