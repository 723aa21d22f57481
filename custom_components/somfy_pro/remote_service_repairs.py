"""Repair flow of a remote-service request: approve (duration and kinds) or decline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)
import voluptuous as vol

from .remote_window import KINDS, MAX_HOURS, MIN_HOURS, linked_installer, normalize_kinds

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.data_entry_flow import FlowResult

    from .models import SomfyProConfigEntry


class RemoteServiceRequestFlow(RepairsFlow):
    """An installer asks for a remote-service window: the homeowner answers."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Remember the request (stored in the issue's data)."""
        self._entry_id = str(data.get("entry_id"))
        request_id = data.get("request_id")
        self._request_id = None if request_id is None else str(request_id)
        installer = data.get("installer")
        self._installer = None if installer is None else str(installer)
        kinds = str(data.get("kinds") or "").split(",")
        self._kinds = [kind for kind in KINDS if kind in kinds] or list(KINDS)
        try:
            hours = float(data.get("hours") or MAX_HOURS)
        except (TypeError, ValueError):
            hours = MAX_HOURS
        self._hours = min(max(hours, MIN_HOURS), MAX_HOURS)

    def _entry(self) -> SomfyProConfigEntry | None:
        entry: SomfyProConfigEntry | None = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        if linked_installer(entry) is None:
            return None
        return entry

    def _placeholders(self, entry: SomfyProConfigEntry) -> dict[str, str]:
        installer = linked_installer(entry)
        company = installer.company if installer else ""
        return {
            "company": company,
            "installer": self._installer or company,
            "title": entry.title,
            "hours": f"{self._hours:g}",
            "kinds": ", ".join(self._kinds),
        }

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Approve or decline."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="request_gone")
        return self.async_show_menu(
            step_id="init",
            menu_options=["approve", "decline"],
            description_placeholders=self._placeholders(entry),
        )

    async def async_step_approve(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Choose the duration and the kinds; open the window."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="request_gone")
        errors: dict[str, str] = {}
        if user_input is not None:
            kinds = [kind for kind in user_input.get("kinds", []) if kind in KINDS]
            if not kinds:
                errors["kinds"] = "no_kind"
            else:
                installer = linked_installer(entry)
                assert installer is not None  # checked by _entry
                hours = min(max(float(user_input["hours"]), MIN_HOURS), MAX_HOURS)
                entry.runtime_data.remote_service.async_grant(
                    installer,
                    hours,
                    normalize_kinds(kinds),
                    request_id=self._request_id,
                    installer_name=self._installer,
                )
                return self.async_create_entry(data={})
        schema = vol.Schema(
            {
                vol.Required("hours", default=self._hours): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_HOURS,
                        max=MAX_HOURS,
                        step=0.25,
                        unit_of_measurement="h",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required("kinds", default=self._kinds): SelectSelector(
                    SelectSelectorConfig(
                        options=list(KINDS), multiple=True, translation_key="kinds"
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="approve",
            data_schema=schema,
            errors=errors,
            description_placeholders=self._placeholders(entry),
        )

    async def async_step_decline(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Decline: the portal is told, nothing is opened."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="request_gone")
        installer = linked_installer(entry)
        entry.runtime_data.remote_service.async_decline(
            self._request_id,
            {
                "company": installer.company if installer else None,
                "company_id": installer.company_id if installer else None,
                "name": self._installer,
            },
        )
        return self.async_create_entry(data={})
