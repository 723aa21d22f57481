"""A company's link to its alarm receiving centre, checked as a form would submit it."""

from __future__ import annotations

from dataclasses import dataclass, field
import ipaddress
import re
from typing import TYPE_CHECKING, Final

import voluptuous as vol

from companion_server.centre.sia.crypto import KEY_LENGTHS
from companion_server.centre.sia.events import MessageFormat
from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.parsing import has_control_characters, parse_int

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_ACCOUNT = re.compile(r"[0-9A-Fa-f]{3,16}")
_PREFIX = re.compile(r"[0-9A-Fa-f]{1,6}")
_KEY = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")

# One message per field: whatever is wrong with it, the fix is what the message says.
MESSAGES: Final = {
    "host": N_("Enter the host name or IP address of the receiving centre."),
    "port": N_("Enter a port number between 1 and 65535."),
    "account": N_("The account number has 3 to 16 hexadecimal digits (0-9, A-F)."),
    "receiver": N_("The receiver number has 1 to 6 hexadecimal digits (0-9, A-F)."),
    "line": N_("The line number has 1 to 6 hexadecimal digits (0-9, A-F)."),
    "key": N_(
        "The encryption key has 32, 48 or 64 hexadecimal digits (AES-128, 192 or 256); "
        "leave it empty to send unencrypted."
    ),
    "message_format": N_("Choose SIA DCS or Contact ID."),
}


@dataclass(frozen=True, slots=True)
class CentreSettings:
    """Where and as whom a company's alarms go (DC-09 ``R<receiver>L<line>#<account>``)."""

    host: str
    port: int
    account: str
    receiver: str
    line: str
    message_format: MessageFormat
    # None: unencrypted. Kept out of repr so that logs never show it.
    key: bytes | None = field(default=None, repr=False)


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise vol.Invalid("not text")
    return raw.strip()


def _host(raw: object) -> str:
    text = _text(raw)
    if len(text) > 253 or has_control_characters(text):
        raise vol.Invalid("bad host")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not all(_LABEL.fullmatch(label) for label in text.rstrip(".").split(".")):
        raise vol.Invalid("bad host")
    return text.rstrip(".").lower()


def _port(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    port = parse_int(_text(raw), 1, 65535)
    if port is None:
        raise vol.Invalid("bad port")
    return port


def _hex(pattern: re.Pattern[str]) -> Callable[[object], str]:
    def check(raw: object) -> str:
        text = _text(raw)
        if not pattern.fullmatch(text):
            raise vol.Invalid("bad hex")
        return text.upper()

    return check


def _key(raw: object) -> bytes | None:
    text = "" if raw is None else _text(raw)
    if not text:
        return None
    if not _KEY.fullmatch(text) or len(text) // 2 not in KEY_LENGTHS:
        raise vol.Invalid("bad key")
    return bytes.fromhex(text)


def _format(raw: object) -> MessageFormat:
    try:
        return MessageFormat(_text(raw))
    except ValueError as err:
        raise vol.Invalid("bad format") from err


SCHEMA: Final = vol.Schema(
    {
        vol.Required("host"): _host,
        vol.Required("port"): _port,
        vol.Required("account"): _hex(_ACCOUNT),
        vol.Optional("receiver", default="0"): _hex(_PREFIX),
        vol.Optional("line", default="0"): _hex(_PREFIX),
        vol.Optional("key", default=None): _key,
        vol.Optional("message_format", default=MessageFormat.SIA_DCS.value): _format,
    },
    extra=vol.REMOVE_EXTRA,
)


def parse_centre_settings(raw: Mapping[str, object]) -> CentreSettings:
    """The settings from form values; :class:`ValidationFailed` names every wrong field."""
    try:
        values = SCHEMA(dict(raw))
    except vol.MultipleInvalid as err:
        raise ValidationFailed(
            {str(error.path[0]): MESSAGES[str(error.path[0])] for error in err.errors}
        ) from err
    return CentreSettings(**values)
