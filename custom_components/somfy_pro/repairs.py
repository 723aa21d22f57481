"""Repair flows: the homeowner approves or declines an installer's monitoring request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState

from .installer_actions import REQUEST_ISSUE_PREFIX
from .portal_monitoring import MONITORING_DECLINED, MONITORING_GRANTED
from .remote_service_repairs import RemoteServiceRequestFlow

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.core import HomeAssistant
    from homeassistant.data_entry_flow import FlowResult

    from .models import SomfyProConfigEntry


class MonitoringRequestFlow(RepairsFlow):
    """Serv-e-go: grant the linked installer monitoring of the box, or decline."""

    def __init__(self, entry_id: str, request_id: str | None) -> None:
        """Remember which entry and request the issue is about."""
        self._entry_id = entry_id
        self._request_id = request_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Approve or decline."""
        entry = self._entry()
        if entry is None or entry.runtime_data.monitoring.request is None:
            return self.async_abort(reason="request_gone")
        request = entry.runtime_data.monitoring.request or {}
        return self.async_show_menu(
            step_id="init",
            menu_options=["approve", "decline"],
            description_placeholders={
                "company": str(
                    request.get("company") or entry.runtime_data.portal.company_name or ""
                ),
                "installer": str(request.get("installer") or ""),
                "title": entry.title,
            },
        )

    async def async_step_approve(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Grant monitoring: the box state, products, radio levels and alerts stream."""
        return await self._async_answer(MONITORING_GRANTED)

    async def async_step_decline(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Decline: nothing is sent to the installer."""
        return await self._async_answer(MONITORING_DECLINED)

    async def _async_answer(self, state: str) -> FlowResult:
        entry = self._entry()
        if entry is None or entry.runtime_data.portal.link is None:
            return self.async_abort(reason="request_gone")
        await entry.runtime_data.monitoring.async_set_monitoring(state, self._request_id)
        return self.async_create_entry(data={})

    def _entry(self) -> SomfyProConfigEntry | None:
        entry: SomfyProConfigEntry | None = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of a monitoring or remote-service request issue."""
    data = data or {}
    if issue_id.startswith(REQUEST_ISSUE_PREFIX):
        return RemoteServiceRequestFlow(dict(data))
    request_id = data.get("request_id")
    return MonitoringRequestFlow(
        str(data.get("entry_id")), None if request_id is None else str(request_id)
    )
