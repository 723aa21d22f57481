"""What identifies a home, taken out of a diagnostics download.

A diagnostics file is attached to public issues, so it must not say where the home is, which
networks it uses or how to reach or pair with its equipment. It must still explain a problem:
the structure, the value types and every technical value stay, and one identifier is always
replaced by the same placeholder, so a device URL and the state that repeats its address still
point at each other.

Redacted (``**REDACTED**``, or a numbered placeholder where consistency matters):

- the token, passwords and user names of the entry; the box PIN wherever it appears (box id,
  device URLs, labels); e-mail addresses in any text;
- the home's Wi-Fi names: ``internal:CurrentInfraConfigState`` (the SSID the box is joined to,
  a plain string on most firmware, a JSON object or a list of SSIDs on some), and any state
  whose name mentions an SSID or an infrastructure configuration (``core:SSIDState``);
- the mobile network: states naming a GSM/cellular provider or operator, IMEI, IMSI, ICCID or
  phone number (TaHoma boxes with a GSM backup, alarm sirens);
- network addresses: MAC addresses, zigbee IEEE (EUI-64) addresses, IPv4/IPv6 address states
  (``core:NetworkMacState``, ``core:LocalIPv4AddressState``, ...), and MAC/EUI-64 addresses
  inside any text, including the path of device URLs (``zigbee://PIN/00158d00012a3b4c/1``,
  ``hue://PIN/001788fffe4b5c6d``): each address becomes ``**MAC-1**``, ``**MAC-2**``, ...
  everywhere it appears;
- HomeKit pairing secrets (``homekit:SetupCode``, ``homekit:SetupPayload``), Hue bridge ids
  (``hue:BridgeIdState``, an EUI-64 like the URL segment) and serial numbers;
- the home's position: latitude/longitude states and keys (numbers become ``**REDACTED**``).

Inside JSON objects carried as state values, keys with these meanings (``ssid``, ``mac``,
``ip``, ``operator``, ``provider``, ``latitude``, ...) are redacted wherever they are nested;
a personal state's whole value is redacted leaf by leaf (strings become placeholders, numbers
and booleans such as a signal level or a channel are kept, except for the position).

Kept on purpose: product labels and ``core:NameState``. They are the names the homeowner gave
to products and sees on the entities; without them a report cannot be matched to the entities
it is about. E-mail addresses inside them are still removed. Radio levels
(``internal:SignalStrengthState``), modes and firmware versions are not personal and stay.
The setup's ``location`` block (address, latitude, longitude) is never read by the integration,
so it is not in the download at all.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "**REDACTED**"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Colon or dash separated MAC (6 bytes) or EUI-64 (8 bytes).
_SEPARATED_MAC = re.compile(
    r"(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}"
    r"(?:[0-9A-Fa-f]{2}\1[0-9A-Fa-f]{2}\1)?[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"
)
# Bare 12 or 16 hex digits as a whole device URL path segment (zigbee IEEE, Hue bridge id).
_URL_SEGMENT_MAC = re.compile(r"(?<=/)(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{12})(?=[/#]|$)")

_BARE_MAC = re.compile(r"[0-9A-Fa-f]{16}|[0-9A-Fa-f]{12}")

# State names whose whole value is personal, by what the name says.
_PERSONAL_STATE = re.compile(
    r"ssid|infraconfig|gsm|cellular|operator|provider|imei|imsi|iccid|phonenumber"
    r"|macaddress|networkmac|ieee|eui64|ipaddress|ipv4|ipv6"
    r"|bridgeid|latitude|longitude|setupcode|setuppayload|serialnumber",
    re.IGNORECASE,
)
_POSITION = re.compile(r"latitude|longitude|^lat$|^lon$|^lng$", re.IGNORECASE)
# Keys of nested JSON objects whose value is personal.
_PERSONAL_KEY = re.compile(
    r"ssid|^mac$|macaddress|^ieee|eui64|^ip$|ipaddress|ipv4|ipv6|operator|provider|imei|imsi"
    r"|iccid|phonenumber|password|passphrase|psk|setupcode|setuppayload|serial|bridgeid"
    r"|latitude|longitude|^lat$|^lon$|^lng$",
    re.IGNORECASE,
)


class Redactor:
    """Redacts one download: the same identifier always gets the same placeholder."""

    def __init__(self, pin: str) -> None:
        """Redact ``pin`` (the box id) wherever it appears."""
        self._pin = pin
        self._placeholders: dict[str, str] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        """The stable placeholder of ``value`` (case and separators ignored for addresses)."""
        key = f"{kind}:{value.lower()}"
        if key not in self._placeholders:
            count = sum(1 for known in self._placeholders if known.startswith(f"{kind}:"))
            self._placeholders[key] = f"**{kind}-{count + 1}**"
        return self._placeholders[key]

    def _mac(self, match: re.Match[str]) -> str:
        address = re.sub(r"[:-]", "", match.group(0))
        return self._placeholder("MAC", address)

    def text(self, value: str) -> str:
        """Any text: the PIN, e-mail addresses and MAC/EUI-64 addresses out."""
        if self._pin:
            value = value.replace(self._pin, REDACTED)
        value = _EMAIL.sub(REDACTED, value)
        value = _SEPARATED_MAC.sub(self._mac, value)
        return _URL_SEGMENT_MAC.sub(self._mac, value)

    def anything(self, value: Any) -> Any:
        """A value of any shape, every string (and dict key) through ``text``."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.anything(key): self.anything(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.anything(item) for item in value]
        return value

    def _personal(self, value: Any, position: bool) -> Any:
        """A personal value, leaf by leaf: strings become placeholders, structure stays."""
        if isinstance(value, str):
            if _SEPARATED_MAC.fullmatch(value) or _BARE_MAC.fullmatch(value):
                return self._placeholder("MAC", re.sub(r"[:-]", "", value))
            return self._placeholder("VALUE", value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return REDACTED if position else value
        if isinstance(value, dict):
            return {self.text(k): self._personal(item, position) for k, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._personal(item, position) for item in value]
        return REDACTED

    def _nested(self, value: Any) -> Any:
        """A non-personal value: personal keys of nested JSON objects are redacted."""
        if isinstance(value, dict):
            return {
                self.text(key): (
                    self._personal(item, bool(_POSITION.search(key)))
                    if _PERSONAL_KEY.search(key)
                    else self._nested(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self._nested(item) for item in value]
        return self.anything(value)

    def states(self, states: dict[str, Any]) -> dict[str, Any]:
        """A device's states or attributes, keyed by their Overkiz name."""
        return {
            name: (
                self._personal(value, bool(_POSITION.search(name)))
                if _PERSONAL_STATE.search(name)
                else self._nested(value)
            )
            for name, value in states.items()
        }
