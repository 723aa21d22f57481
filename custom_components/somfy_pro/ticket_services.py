"""The ``create_ticket`` action: the homeowner asks their installer for help (D8, O15).

Home Assistant attaches the box PIN, the product's URL and serial when one is chosen, and,
only when the homeowner ticks it, a diagnostics snapshot: the active alerts and the box's
last failed executions (no names, no addresses). The portal opens the ticket as the
customer who owns the box and answers its number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from .const import DOMAIN
from .portal_client import PortalConnectionError, PortalLink
from .portal_frames import TICKET_KINDS
from .portal_tickets_api import REFUSED_TOKEN, PortalRefusedError, async_create_ticket
from .service_target import TARGET_FIELDS, TargetErrors, service_error, target_entry

if TYPE_CHECKING:  # pragma: no cover
    from .models import SomfyProConfigEntry

SERVICE_CREATE_TICKET: Final = "create_ticket"
ATTR_DESCRIPTION: Final = "description"
ATTR_KIND: Final = "kind"
ATTR_INCLUDE_DIAGNOSTICS: Final = "include_diagnostics"
MAX_DESCRIPTION: Final = 4000

TICKET_ERRORS: Final = TargetErrors(
    unknown="ticket_unknown_target",
    not_loaded="ticket_entry_not_loaded",
    not_linked="ticket_not_linked",
    ambiguous="ticket_target_required",
)
# What each refusal of the portal tells the homeowner.
_REFUSALS: Final = {
    "no_customer": "ticket_no_customer",
    "wrong_box": "ticket_wrong_box",
    "rate_limited": "ticket_rate_limited",
    REFUSED_TOKEN: "ticket_not_linked",
}

_FIELDS: dict[Any, Any] = {
    **TARGET_FIELDS,
    vol.Required(ATTR_DESCRIPTION): vol.All(
        cv.string, vol.Strip, vol.Length(min=1, max=MAX_DESCRIPTION)
    ),
    vol.Optional(ATTR_KIND, default="contact"): vol.In(TICKET_KINDS),
    vol.Optional(ATTR_INCLUDE_DIAGNOSTICS, default=False): cv.boolean,
}
_SCHEMA: Final = vol.Schema(_FIELDS)


def _chosen_device(
    hass: HomeAssistant, entry: SomfyProConfigEntry, data: dict[str, Any]
) -> dict[str, str] | None:
    """The product the ticket is about (a device of this box other than the box itself)."""
    device_ids = data.get(ATTR_DEVICE_ID) or []
    registry = dr.async_get(hass)
    box = entry.runtime_data.coordinator.data
    for device_id in [device_ids] if isinstance(device_ids, str) else device_ids:
        device = registry.async_get(device_id)
        identifiers = {i for d, i in (device.identifiers if device else ()) if d == DOMAIN}
        for base_url in identifiers - {box.gateway.id}:
            product = box.devices.get(base_url)
            if product is None:
                continue
            return {
                "url": base_url,
                # The product's address on the box: what the installer reads on its label.
                "serial": base_url.rpartition("/")[2],
                "label": product.label,
                "model": product.controllable_name,
            }
    return None


def diagnostics(entry: SomfyProConfigEntry) -> dict[str, Any]:
    """What the homeowner agrees to send: the box's state, active alerts, failed executions."""
    runtime = entry.runtime_data
    gateway = runtime.coordinator.data.gateway
    return {
        "box": {
            "online": runtime.coordinator.last_update_success,
            "firmware": gateway.firmware,
            "up_to_date": gateway.up_to_date,
            "products": len(runtime.coordinator.data.devices),
        },
        "alerts": runtime.alerts.as_diagnostics(),
        "failed_executions": list(runtime.coordinator.failed_executions),
    }


async def _async_create_ticket(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    data = dict(call.data)
    entry = target_entry(hass, data, TICKET_ERRORS)
    link = PortalLink.from_entry(entry)
    if link is None:
        raise service_error(TICKET_ERRORS.not_linked, title=entry.title)
    device = _chosen_device(hass, entry, data)
    if data[ATTR_KIND] == "replacement" and device is None:
        raise service_error("ticket_device_required")
    body: dict[str, Any] = {
        "description": data[ATTR_DESCRIPTION],
        "kind": data[ATTR_KIND],
        "pin": entry.unique_id or entry.runtime_data.coordinator.data.gateway.id,
        "device": device,
        "diagnostics": diagnostics(entry) if data[ATTR_INCLUDE_DIAGNOSTICS] else None,
    }
    try:
        number, url = await async_create_ticket(async_get_clientsession(hass), link, body)
    except PortalRefusedError as err:
        key = _REFUSALS.get(err.reason, "ticket_refused")
        raise service_error(key, title=entry.title, reason=err.reason) from err
    except PortalConnectionError as err:
        raise service_error("ticket_portal_unreachable", company=link.company_name) from err
    return {"number": number, "url": url}


def async_setup_ticket_services(hass: HomeAssistant) -> None:
    """Register ``create_ticket`` (once, for every entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_TICKET,
        _async_create_ticket,
        schema=_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
