"""Options steps of professional monitoring: subscribe, contacts, address, on site, stop.

Each step saves at once (the entry's ``centre`` option), which sends the whole state to the
portal. Phone numbers are kept in E.164, passwords only as scrypt hashes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_PASSWORD
from homeassistant.helpers import translation
from homeassistant.helpers.selector import (
    BooleanSelector,
    CountrySelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from . import centre_values as cv
from .centre import CONF_CENTRE
from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.auth.models import User

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PHONE = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
_MULTILINE = TextSelector(TextSelectorConfig(multiline=True))
_SECOND_KINDS = [cv.CONTACT_OWNER, cv.CONTACT_HA_USER, cv.CONTACT_OUTSIDE, cv.CONTACT_NONE]


def _users_selector(users: list[User]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[SelectOptionDict(value=user.id, label=user.name or user.id) for user in users],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


class CentreOptionsSteps(OptionsFlow):
    """The steps of the "Professional monitoring" menu."""

    _second_kind: str = cv.CONTACT_NONE

    def _company(self) -> dict[str, str]:
        return {"company": self.config_entry.runtime_data.portal.company_name or ""}

    async def _missing_text(self, lacking: list[str]) -> str:
        """What is missing, in words: the titles of the repair issues that say it."""
        if not lacking:
            return "-"
        titles = await translation.async_get_translations(
            self.hass, self.hass.config.language, "issues", [DOMAIN]
        )
        prefix = f"component.{DOMAIN}.issues.centre_"
        return "; ".join(titles.get(f"{prefix}{item}.title", item) for item in lacking)

    def _centre(self) -> dict[str, Any]:
        return dict(self.config_entry.options.get(CONF_CENTRE) or {})

    def _save(self, **changes: Any) -> ConfigFlowResult:
        config = {**self._centre(), **changes, "updated_at": dt_util.utcnow().isoformat()}
        return self.async_create_entry(data={**self.config_entry.options, CONF_CENTRE: config})

    async def _users(self, *, admins_only: bool, exclude: str | None) -> list[User]:
        """Active people of Home Assistant (owners and administrators when ``admins_only``)."""
        users = await self.hass.auth.async_get_users()
        return [
            user
            for user in users
            if user.is_active
            and not user.system_generated
            and user.id != exclude
            and (not admins_only or user.is_owner or user.is_admin)
        ]

    # -- the menu --------------------------------------------------------------------------

    async def async_step_centre(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Benefits when not subscribed (M12); otherwise the configuration and what is missing."""
        config = self._centre()
        if config.get("status") != cv.STATUS_ACTIVE:
            return self.async_show_menu(
                step_id="centre",
                menu_options=["centre_subscribe"],
                description_placeholders=self._company(),
            )
        missing = await self._missing_text(cv.missing(config))
        return self.async_show_menu(
            step_id="centre_configure",
            menu_options=[
                "centre_first_contact",
                "centre_second_contact",
                "centre_address",
                "centre_instructions",
                "centre_on_site",
                "centre_duress",
                "centre_stop",
            ],
            description_placeholders={"missing": missing},
        )

    # The menu of a subscription shows under its own title; it is the same step.
    async_step_centre_configure = async_step_centre

    async def async_step_centre_subscribe(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Subscribe: no commitment, no fee (M1)."""
        if user_input is not None:
            return self._save(status=cv.STATUS_ACTIVE)
        return self.async_show_form(
            step_id="centre_subscribe",
            data_schema=vol.Schema({}),
            description_placeholders=self._company(),
        )

    async def async_step_centre_stop(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Stop at any time, with a confirmation (M1)."""
        if user_input is not None:
            return self._save(status=cv.STATUS_STOPPED)
        return self.async_show_form(
            step_id="centre_stop",
            data_schema=vol.Schema({}),
            description_placeholders=self._company(),
        )

    # -- contacts ----------------------------------------------------------------------------

    async def _check_contact(
        self, user_input: dict[str, Any], existing: dict[str, Any] | None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Phone and password of a contact: the errors, or the phone and hash to keep."""
        errors: dict[str, str] = {}
        phone = cv.normalize_phone(str(user_input.get("phone", "")), self.hass.config.country)
        if phone is None:
            errors["phone"] = "invalid_phone"
        password = str(user_input.get(CONF_PASSWORD) or "").strip()
        kept_hash: str | None = (existing or {}).get("password_hash")
        if not password and not kept_hash:
            errors[CONF_PASSWORD] = "password_required"
        elif password and not cv.MIN_PASSWORD <= len(password) <= cv.MAX_PASSWORD:
            errors[CONF_PASSWORD] = "password_length"
        elif password:
            duress: bool = await self.hass.async_add_executor_job(
                cv.verify_password, password, self._centre().get("duress_hash")
            )
            if duress:
                errors[CONF_PASSWORD] = "password_is_duress"
        if errors:
            return errors, {}
        if password:
            kept_hash = await self.hass.async_add_executor_job(cv.hash_password, password)
        return {}, {"phone": phone, "password_hash": kept_hash}

    def _contact_schema(self, users: list[User] | None, outside: bool) -> vol.Schema:
        fields: dict[Any, Any] = {}
        if users is not None:
            fields[vol.Required("user")] = _users_selector(users)
        if outside:
            fields[vol.Required("first_name")] = str
            fields[vol.Required("last_name")] = str
        fields[vol.Required("phone")] = _PHONE
        fields[vol.Optional(CONF_PASSWORD)] = _PASSWORD
        return vol.Schema(fields)

    async def async_step_centre_first_contact(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The first contact: one of the owners and administrators only (M8)."""
        contacts = list(self._centre().get("contacts") or [])
        first = contacts[0] if contacts else None
        second = contacts[1] if len(contacts) > 1 else None
        users = await self._users(admins_only=True, exclude=None)
        errors: dict[str, str] = {}
        if user_input is not None:
            user = next((u for u in users if u.id == user_input["user"]), None)
            same = first is not None and first.get("user_id") == user_input["user"]
            if user is None:
                errors["user"] = "user_not_allowed"
            elif second is not None and second.get("user_id") == user_input["user"]:
                errors["user"] = "same_contact"
            else:
                errors, kept = await self._check_contact(user_input, first if same else None)
                if not errors:
                    first_name, last_name = cv.split_name(user.name)
                    contact = {
                        "kind": cv.CONTACT_OWNER,
                        "user_id": user.id,
                        "first_name": first_name,
                        "last_name": last_name,
                        **kept,
                    }
                    return self._save(contacts=[contact, *contacts[1:2]])
        suggested = user_input or (
            {"user": first.get("user_id"), "phone": first.get("phone")} if first else None
        )
        return self.async_show_form(
            step_id="centre_first_contact",
            data_schema=self.add_suggested_values_to_schema(
                self._contact_schema(users, outside=False), suggested
            ),
            errors=errors,
        )

    async def async_step_centre_second_contact(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Who the second contact is: another owner, an HA user, someone outside, nobody."""
        contacts = list(self._centre().get("contacts") or [])
        if not contacts:
            return self.async_abort(reason="first_contact_first")
        if user_input is not None:
            self._second_kind = user_input["kind"]
            if self._second_kind == cv.CONTACT_NONE:
                return self._save(contacts=contacts[:1])
            return await self.async_step_centre_second_details()
        return self.async_show_form(
            step_id="centre_second_contact",
            data_schema=vol.Schema(
                {
                    vol.Required("kind"): SelectSelector(
                        SelectSelectorConfig(
                            options=_SECOND_KINDS,
                            translation_key="centre_second_kind",
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )

    async def async_step_centre_second_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The second contact's name (someone outside) or account, phone and password (M9)."""
        contacts = list(self._centre().get("contacts") or [])
        first_user = contacts[0].get("user_id") if contacts else None
        second = contacts[1] if len(contacts) > 1 else None
        kind = self._second_kind
        users = None
        if kind != cv.CONTACT_OUTSIDE:
            users = await self._users(admins_only=kind == cv.CONTACT_OWNER, exclude=first_user)
        errors: dict[str, str] = {}
        if user_input is not None:
            contact: dict[str, Any] = {"kind": kind}
            if users is not None:
                user = next((u for u in users if u.id == user_input["user"]), None)
                if user is None:
                    errors["user"] = "user_not_allowed"
                else:
                    first_name, last_name = cv.split_name(user.name)
                    contact |= {"user_id": user.id, "first_name": first_name}
                    contact["last_name"] = last_name
            else:
                for field in ("first_name", "last_name"):
                    value = str(user_input.get(field, "")).strip()
                    if not 1 <= len(value) <= cv.MAX_NAME:
                        errors[field] = "name_required"
                    contact[field] = value
            if not errors:
                same = (
                    second is not None
                    and second.get("kind") == kind
                    and second.get("user_id") == contact.get("user_id")
                    and second.get("last_name") == contact.get("last_name")
                )
                errors, kept = await self._check_contact(user_input, second if same else None)
                if not errors:
                    return self._save(contacts=[*contacts[:1], {**contact, **kept}])
        return self.async_show_form(
            step_id="centre_second_details",
            data_schema=self.add_suggested_values_to_schema(
                self._contact_schema(users, outside=users is None), user_input
            ),
            errors=errors,
        )

    # -- where, and what to do there ---------------------------------------------------------

    async def async_step_centre_address(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The postal address the centre sends a guard to (M8)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            address = {
                key: str(user_input.get(key, "")).strip()
                for key in ("street", "postcode", "city", "country")
            }
            address["country"] = address["country"].upper()
            limits = {"street": cv.MAX_STREET, "postcode": cv.MAX_POSTCODE, "city": cv.MAX_CITY}
            for key, limit in limits.items():
                if not address[key]:
                    errors[key] = "field_required"
                elif len(address[key]) > limit:
                    errors[key] = "too_long"
            if not errors and not cv.valid_address(address):
                errors["country"] = "invalid_country"
            if not errors:
                return self._save(address=address)
        current = self._centre().get("address") or {"country": self.hass.config.country}
        schema = vol.Schema(
            {
                vol.Required("street"): str,
                vol.Required("postcode"): str,
                vol.Required("city"): str,
                vol.Required("country"): CountrySelector(),
            }
        )
        return self.async_show_form(
            step_id="centre_address",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
        )

    async def async_step_centre_instructions(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Free text for whoever comes on site in the owner's absence (M10)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get("instructions") or "").strip()
            if len(text) > cv.MAX_INSTRUCTIONS:
                errors["instructions"] = "too_long"
            else:
                return self._save(instructions=text)
        schema = vol.Schema({vol.Optional("instructions"): _MULTILINE})
        return self.async_show_form(
            step_id="centre_instructions",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {"instructions": self._centre().get("instructions", "")}
            ),
            errors=errors,
        )

    async def async_step_centre_on_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """May a guard enter, who holds a key, how to get in (M11)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            key_holder = str(user_input.get("key_holder") or "").strip()
            notes = str(user_input.get("access_notes") or "").strip()
            if len(key_holder) > cv.MAX_KEY_HOLDER:
                errors["key_holder"] = "too_long"
            if len(notes) > cv.MAX_ACCESS_NOTES:
                errors["access_notes"] = "too_long"
            if not errors:
                return self._save(
                    on_site={
                        "guard_may_enter": bool(user_input.get("guard_may_enter", False)),
                        "key_holder": key_holder,
                        "access_notes": notes,
                    }
                )
        schema = vol.Schema(
            {
                vol.Required("guard_may_enter", default=False): BooleanSelector(),
                vol.Optional("key_holder"): str,
                vol.Optional("access_notes"): _MULTILINE,
            }
        )
        return self.async_show_form(
            step_id="centre_on_site",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or self._centre().get("on_site") or {}
            ),
            errors=errors,
        )

    async def async_step_centre_duress(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The installation's duress password: looks like a cancel, confirms the alarm."""
        errors: dict[str, str] = {}
        if user_input is not None:
            password = str(user_input.get(CONF_PASSWORD) or "").strip()
            hashes = [c.get("password_hash") for c in self._centre().get("contacts") or []]
            if not cv.MIN_PASSWORD <= len(password) <= cv.MAX_PASSWORD:
                errors[CONF_PASSWORD] = "password_length"
            elif await self.hass.async_add_executor_job(_matches_any, password, hashes):
                errors[CONF_PASSWORD] = "duress_is_contact"
            else:
                duress_hash = await self.hass.async_add_executor_job(cv.hash_password, password)
                return self._save(duress_hash=duress_hash)
        return self.async_show_form(
            step_id="centre_duress",
            data_schema=vol.Schema({vol.Required(CONF_PASSWORD): _PASSWORD}),
            errors=errors,
        )


def _matches_any(password: str, hashes: list[Any]) -> bool:
    return any(cv.verify_password(password, phc) for phc in hashes)
