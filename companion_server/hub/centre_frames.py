"""The monitoring centre's frames from Home Assistant (``docs/protocol.md``, "Monitoring centre").

They flow under the centre's own consent (the subscription), not Serv-e-go's: none of them is
"monitoring only". Limits are the wire contract's; a password hash of any other shape than
the agreed scrypt string refuses the frame.
"""

from __future__ import annotations

import re
from typing import Any, Final

import voluptuous as vol

from companion_server.hub.frame_values import Bool, Int, Str, bounded_text, iso_time, uuid_string
from companion_server.security import scrypt_hashes

CASE_KINDS: Final = ("intrusion", "aggression", "tamper", "fire")
SUBSCRIPTION_STATES: Final = ("active", "stopped")
CONTACT_KINDS: Final = ("owner", "ha_user", "outside")
OWNER_ACTIONS: Final = ("owner_cancel", "owner_cancel_refused", "owner_duress")
MAX_CONTACTS: Final = 2
MAX_NAME: Final = 80
MAX_INSTRUCTIONS: Final = 2000
# E.164: "+", then 8 to 15 digits (ASCII only), the first not 0.
_E164: Final = re.compile(r"\+[1-9][0-9]{7,14}", re.ASCII)
_COUNTRY: Final = re.compile(r"[A-Z]{2}", re.ASCII)


def _matching(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> str:
        if type(value) is not str or pattern.fullmatch(value) is None:
            raise vol.Invalid(f"expected {what}")
        return value

    return check


def _password_hash(value: Any) -> str:
    if scrypt_hashes.parse(value) is None:
        raise vol.Invalid("expected an scrypt password hash")
    assert isinstance(value, str)
    return value


def _text(low: int, high: int) -> Any:
    return vol.All(Str, vol.Length(min=low, max=high))


CONTACT = vol.Schema(
    {
        vol.Required("kind"): vol.All(Str, vol.In(CONTACT_KINDS)),
        vol.Required("first_name"): _text(1, MAX_NAME),
        vol.Required("last_name"): _text(0, MAX_NAME),
        vol.Required("phone"): _matching(_E164, "an E.164 phone number"),
        vol.Required("password_hash"): _password_hash,
    },
    extra=vol.REMOVE_EXTRA,
)
ADDRESS = vol.Schema(
    {
        vol.Required("street"): _text(1, 200),
        vol.Required("postcode"): _text(1, 20),
        vol.Required("city"): _text(1, 100),
        vol.Required("country"): _matching(_COUNTRY, "an ISO 3166-1 alpha-2 code"),
    },
    extra=vol.REMOVE_EXTRA,
)
ON_SITE = vol.Schema(
    {
        vol.Required("guard_may_enter"): Bool,
        vol.Required("key_holder"): bounded_text(200),
        vol.Required("access_notes"): bounded_text(MAX_INSTRUCTIONS),
    },
    extra=vol.REMOVE_EXTRA,
)


def _positive(value: Any) -> int:
    number: int = Int(value)
    if number < 1:
        raise vol.Invalid("expected an id of at least 1")
    return number


CENTRE_PAYLOADS: Final[dict[str, vol.Schema]] = {
    "centre_subscription": vol.Schema(
        {
            vol.Required("status"): vol.All(Str, vol.In(SUBSCRIPTION_STATES)),
            vol.Required("complete"): Bool,
            vol.Required("contacts"): vol.All([CONTACT], vol.Length(max=MAX_CONTACTS)),
            vol.Required("address"): vol.Any(None, ADDRESS),
            vol.Required("instructions"): bounded_text(MAX_INSTRUCTIONS),
            vol.Required("on_site"): ON_SITE,
            vol.Required("updated_at"): iso_time,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "centre_alarm": vol.Schema(
        {
            vol.Required("alarm_id"): uuid_string,
            vol.Required("kind"): vol.All(Str, vol.In(CASE_KINDS)),
            vol.Required("active"): Bool,
            vol.Optional("device_url", default=None): vol.Any(None, bounded_text(300)),
            vol.Optional("device_label", default=None): vol.Any(None, bounded_text(200)),
            vol.Required("at"): iso_time,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "centre_owner": vol.Schema(
        {
            vol.Required("case_id"): vol.Any(None, _positive),
            vol.Required("action"): vol.All(Str, vol.In(OWNER_ACTIONS)),
            vol.Required("at"): iso_time,
        },
        extra=vol.REMOVE_EXTRA,
    ),
}
