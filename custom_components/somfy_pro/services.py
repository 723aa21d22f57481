"""Actions of the integration: revoke the monitoring granted to the linked installer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN
from .portal import MONITORING_REVOKED

if TYPE_CHECKING:  # pragma: no cover
    from .coordinator import SomfyProConfigEntry

SERVICE_REVOKE_MONITORING: Final = "revoke_monitoring"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> SomfyProConfigEntry:
    entry: SomfyProConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _async_revoke_monitoring(call: ServiceCall) -> None:
    """Stop streaming to the installer now; the portal is told when it can be reached."""
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    manager = entry.runtime_data.portal
    if manager.link is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_linked",
            translation_placeholders={"title": entry.title},
        )
    if not manager.granted:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="monitoring_not_granted",
            translation_placeholders={"company": manager.company_name or ""},
        )
    await manager.async_set_monitoring(MONITORING_REVOKED)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_REVOKE_MONITORING, _async_revoke_monitoring, schema=_SCHEMA
    )
