"""Options: the installer link, monitoring, and the homeowner's customer account.

Link the box to an installer's portal, unlink it, revoke monitoring, and have the portal
e-mail the homeowner an invitation to a customer account.

Professional monitoring with the linked company's centre has its own steps (``centre_flow``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .centre_flow import CentreOptionsSteps
from .const import LOGGER
from .portal_client import (
    InvalidCodeError,
    PortalError,
    RateLimitedError,
    async_link,
    normalize_url,
)
from .portal_monitoring import MONITORING_REVOKED
from .portal_tickets_api import PortalRefusedError, async_invite_customer

if TYPE_CHECKING:  # pragma: no cover
    from .models import SomfyProConfigEntry, SomfyProRuntimeData

CONF_URL: Final = "url"
CONF_CODE: Final = "code"

_LINK_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Required(CONF_CODE): str,
    }
)


class SomfyProOptionsFlow(CentreOptionsSteps, OptionsFlow):
    """Installer link of one box, and its professional monitoring."""

    config_entry: SomfyProConfigEntry

    def _runtime(self) -> SomfyProRuntimeData | None:
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return None
        return self.config_entry.runtime_data

    def _done(self) -> ConfigFlowResult:
        return self.async_create_entry(data=dict(self.config_entry.options))

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Link when not linked; otherwise what can be done with the link."""
        runtime = self._runtime()
        if runtime is None:
            return self.async_abort(reason="not_loaded")
        if runtime.portal.link is None:
            return await self.async_step_link()
        options = ["customer_account", "centre", "unlink"]
        if runtime.monitoring.granted:
            options.insert(0, "revoke_monitoring")
        return self.async_show_menu(
            step_id="init",
            menu_options=options,
            description_placeholders={"company": runtime.portal.company_name or ""},
        )

    async def async_step_link(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Portal address and the code the installer's e-mail gave."""
        runtime = self._runtime()
        if runtime is None:
            return self.async_abort(reason="not_loaded")
        if runtime.portal.link is not None:
            return self.async_abort(reason="already_linked")
        errors: dict[str, str] = {}
        if user_input is not None:
            url = normalize_url(user_input[CONF_URL])
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors[CONF_URL] = "invalid_url"
            else:
                errors = await self._async_link(runtime, url, user_input[CONF_CODE])
                if not errors:
                    return self._done()
        return self.async_show_form(
            step_id="link",
            data_schema=self.add_suggested_values_to_schema(_LINK_SCHEMA, user_input),
            errors=errors,
        )

    async def _async_link(
        self, runtime: SomfyProRuntimeData, url: str, code: str
    ) -> dict[str, str]:
        pin = self.config_entry.unique_id or runtime.coordinator.data.gateway.id
        instance = await instance_id.async_get(self.hass)
        try:
            result = await async_link(
                async_get_clientsession(self.hass),
                url,
                code,
                pin,
                instance,
                self.hass.config.location_name,
            )
        except InvalidCodeError:
            return {CONF_CODE: "invalid_code"}
        except RateLimitedError:
            return {CONF_CODE: "rate_limited"}
        except PortalError as err:
            LOGGER.debug("Cannot link to the portal at %s: %s", url, err)
            return {CONF_URL: "cannot_connect"}
        await runtime.portal.async_set_link(result, url, instance)
        return {}

    async def async_step_unlink(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Unlink (the portal is told when it answers; the link is forgotten anyway)."""
        runtime = self._runtime()
        if runtime is None or runtime.portal.link is None:
            return self.async_abort(reason="not_linked")
        if user_input is not None:
            await runtime.portal.async_unlink()
            return self._done()
        return self.async_show_form(
            step_id="unlink",
            data_schema=vol.Schema({}),
            description_placeholders={"company": runtime.portal.company_name or ""},
        )

    async def async_step_revoke_monitoring(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Stop streaming to the installer (the portal is told when it can be reached)."""
        runtime = self._runtime()
        if runtime is None or not runtime.monitoring.granted:
            return self.async_abort(reason="not_granted")
        if user_input is not None:
            await runtime.monitoring.async_set_monitoring(MONITORING_REVOKED)
            return self._done()
        return self.async_show_form(
            step_id="revoke_monitoring",
            data_schema=vol.Schema({}),
            description_placeholders={"company": runtime.portal.company_name or ""},
        )

    async def async_step_customer_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Have the portal e-mail the link's address an invitation to a customer account."""
        runtime = self._runtime()
        if runtime is None or runtime.portal.link is None:
            return self.async_abort(reason="not_linked")
        company = runtime.portal.company_name or ""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                result = await async_invite_customer(
                    async_get_clientsession(self.hass), runtime.portal.link
                )
            except PortalRefusedError as err:
                errors["base"] = f"invitation_{err.reason}"
            except PortalError as err:
                LOGGER.debug("Cannot ask the portal for a customer account: %s", err)
                errors["base"] = "cannot_connect"
            else:
                return self.async_abort(
                    reason=f"invitation_{result}", description_placeholders={"company": company}
                )
        return self.async_show_form(
            step_id="customer_account",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders={"company": company},
        )
