"""Config flow: discovered or typed-in box, token, reauthentication, reconfiguration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .box_api import (
    BoxAuthenticationError,
    BoxClient,
    BoxConnectionError,
    BoxError,
    Gateway,
    host_is_ip_address,
    normalize_host,
)
from .const import DEFAULT_VERIFY_SSL, DOMAIN, LOGGER
from .options_flow import SomfyProOptionsFlow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .models import SomfyProConfigEntry

_TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _title(gateway: Gateway) -> str:
    return f"{gateway.model or 'Somfy box'} {gateway.id}"


class SomfyProConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Somfy box."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: SomfyProConfigEntry) -> SomfyProOptionsFlow:
        """Link the box to an installer, unlink it, revoke monitoring."""
        return SomfyProOptionsFlow()

    def __init__(self) -> None:
        """Nothing discovered yet."""
        self._host: str | None = None
        self._pin: str | None = None

    async def _async_validate(
        self, host: str, token: str, verify_ssl: bool
    ) -> tuple[Gateway | None, dict[str, str]]:
        """Ask the box; return its gateway, or errors keyed by the field to fix."""
        client = BoxClient(
            async_get_clientsession(self.hass, verify_ssl=verify_ssl), host, token, verify_ssl
        )
        try:
            gateway = await client.get_gateway()
        except BoxConnectionError:
            return None, {CONF_HOST: "cannot_connect"}
        except BoxAuthenticationError:
            return None, {CONF_TOKEN: "invalid_auth"}
        except BoxError:
            LOGGER.exception("The box answered with an unexpected error")
            return None, {"base": "unknown"}
        except Exception:
            LOGGER.exception("Unexpected error while connecting to the box")
            return None, {"base": "unknown"}
        return gateway, {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host and token typed in by the user."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = normalize_host(user_input[CONF_HOST])
            gateway, errors = await self._async_validate(
                host, user_input[CONF_TOKEN], user_input[CONF_VERIFY_SSL]
            )
            if gateway is not None:
                await self.async_set_unique_id(gateway.id, raise_on_progress=False)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_title(gateway),
                    data={
                        CONF_HOST: host,
                        CONF_TOKEN: user_input[CONF_TOKEN],
                        CONF_VERIFY_SSL: user_input[CONF_VERIFY_SSL],
                    },
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): str,
                        vol.Required(CONF_TOKEN): _TOKEN_SELECTOR,
                        vol.Required(CONF_VERIFY_SSL, default=DEFAULT_VERIFY_SSL): bool,
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A box announced itself: its PIN identifies it, its address may have changed."""
        pin = discovery_info.properties.get("gateway_pin")
        if not pin or discovery_info.ip_address.version != 4:
            return self.async_abort(reason="not_supported")
        host = normalize_host(str(discovery_info.ip_address), discovery_info.port)
        await self.async_set_unique_id(pin)
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, pin)
        if entry is not None and not host_is_ip_address(entry.data[CONF_HOST]):
            # Configured by name (gateway-PIN.local, maybe with certificate checks): keep it.
            self._abort_if_unique_id_configured()
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        self._host = host
        self._pin = pin
        self.context["title_placeholders"] = {"pin": pin}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the token of the discovered box."""
        assert self._host is not None
        assert self._pin is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            gateway, errors = await self._async_validate(
                self._host, user_input[CONF_TOKEN], user_input[CONF_VERIFY_SSL]
            )
            if gateway is not None:
                if gateway.id != self._pin:
                    return self.async_abort(reason="wrong_device")
                return self.async_create_entry(
                    title=_title(gateway),
                    data={
                        CONF_HOST: self._host,
                        CONF_TOKEN: user_input[CONF_TOKEN],
                        CONF_VERIFY_SSL: user_input[CONF_VERIFY_SSL],
                    },
                )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_TOKEN): _TOKEN_SELECTOR,
                    # A discovered box is reached by IP address, which its certificate
                    # does not name: verification is off unless the user turns it on.
                    vol.Required(CONF_VERIFY_SSL, default=False): bool,
                }
            ),
            description_placeholders={"pin": self._pin, "host": self._host},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The box rejected the token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            gateway, errors = await self._async_validate(
                entry.data[CONF_HOST], user_input[CONF_TOKEN], entry.data[CONF_VERIFY_SSL]
            )
            if gateway is not None:
                await self.async_set_unique_id(gateway.id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR}),
            description_placeholders={"host": entry.data[CONF_HOST]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or the token of the box."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = normalize_host(user_input[CONF_HOST])
            gateway, errors = await self._async_validate(
                host, user_input[CONF_TOKEN], user_input[CONF_VERIFY_SSL]
            )
            if gateway is not None:
                await self.async_set_unique_id(gateway.id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_HOST: host,
                        CONF_TOKEN: user_input[CONF_TOKEN],
                        CONF_VERIFY_SSL: user_input[CONF_VERIFY_SSL],
                    },
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): str,
                        vol.Required(CONF_TOKEN): _TOKEN_SELECTOR,
                        vol.Required(CONF_VERIFY_SSL): bool,
                    }
                ),
                user_input or entry.data,
            ),
            errors=errors,
        )
