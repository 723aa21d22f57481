"""The box an action (service call) is about, and the errors that say why there is none.

Every action of the integration resolves its target here: a config entry id, a device of a
box, or the only box. The errors are translated (``exceptions`` in strings.json); the
monitoring action and the remote-service actions word them each in their own way, so each
passes its set of keys, both kept in this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.core import HomeAssistant

    from .models import SomfyProConfigEntry

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# The target fields of an action that may name a box by its entry or one of its devices.
TARGET_FIELDS: Final = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_DEVICE_ID): vol.Any(cv.string, [cv.string]),
}


@dataclass(frozen=True, slots=True)
class TargetErrors:
    """Translation keys of the target errors: ``{target}``, ``{title}``, ``{title}``, none."""

    unknown: str
    not_loaded: str
    not_linked: str
    ambiguous: str


# Revoking monitoring names its box by entry id.
MONITORING_ERRORS: Final = TargetErrors(
    unknown="entry_not_found",
    not_loaded="entry_not_loaded",
    not_linked="not_linked",
    ambiguous="remote_target_required",
)
# The remote-service actions name a box by entry, by device, or not at all (a single box).
REMOTE_ERRORS: Final = TargetErrors(
    unknown="remote_unknown_target",
    not_loaded="remote_entry_not_loaded",
    not_linked="remote_not_linked",
    ambiguous="remote_target_required",
)


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error of an action."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def target_entry(
    hass: HomeAssistant, data: dict[str, Any], errors: TargetErrors
) -> SomfyProConfigEntry:
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
                raise service_error(errors.unknown, target=device_id)
            entry_ids.update(ours)
    if not entry_ids:
        entries = hass.config_entries.async_entries(DOMAIN)
        if len(entries) != 1:
            raise service_error(errors.ambiguous)
        entry_ids.add(entries[0].entry_id)
    if len(entry_ids) != 1:
        raise service_error(errors.ambiguous)
    entry_id = entry_ids.pop()
    entry: SomfyProConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise service_error(errors.unknown, target=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise service_error(errors.not_loaded, title=entry.title)
    return entry
