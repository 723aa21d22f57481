"""Reading a remote control's QR code as a USB/Bluetooth 2D reader types it (P21).

A 2D reader is a keyboard: it types the code's characters by pressing the keys that give
them *in the layout it is set to*. Set to another layout than the PC's, it types other
characters (an AZERTY reader on a QWERTY PC types ``Q%#F@&`` for ``A53F27``). The portal
reads the scan as typed and, when that gives no address, as each common layout mismatch
would have typed it; a scan that gives no address, or different addresses depending on
the layout, is unreadable (the installer scans again).

Accepted payload (case-insensitive, whitespace and control characters typed by the reader,
such as its final Enter, ignored):

- the remote's io address alone: 6 to 8 hexadecimal digits (``E53F27``, ``00E53F27``);
- or the address as a field ``IO``, ``ADDR`` or ``ADDRESS`` followed by ``:``, ``=``, ``.``,
  ``-``, ``/`` or nothing (``IO:E53F27``), among other fields separated by ``;``, ``|``,
  ``,``, ``&``, ``?`` or spaces (``SOMFY;IO:E53F27;SN:1234``, ``https://x/r?io=E53F27``).

A prefixed field wins over bare hexadecimal fields; exactly one address must remain.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Final

# Typed character -> intended character, for a reader set to one layout on a PC using another.
_AZERTY_DIGITS: Final = "&é\"'(-è_çà"
_SHIFTED_QWERTY_DIGITS: Final = "!@#$%^&*()"
_DIGITS: Final = "1234567890"


def _table(pairs: dict[str, str], swaps: tuple[tuple[str, str], ...]) -> dict[int, str]:
    table = {ord(k): v for k, v in pairs.items()}
    for a, b in swaps:
        for x, y in ((a, b), (b, a)):
            table[ord(x.lower())] = y.lower()
            table[ord(x.upper())] = y.upper()
    return table


LAYOUTS: Final[dict[str, dict[int, str]]] = {
    # An AZERTY reader on a QWERTY PC: digits are shifted on AZERTY (the PC sees !@#...),
    # the unshifted digit keys are &é"'(-è_çà, A/Q and Z/W are swapped, ":" is QWERTY ".".
    "azerty-on-qwerty": _table(
        {
            **dict(zip(_SHIFTED_QWERTY_DIGITS, _DIGITS, strict=True)),
            **dict(zip(_DIGITS, _AZERTY_DIGITS, strict=True)),
            ".": ":",
            "/": "=",
        },
        (("a", "q"), ("z", "w")),
    ),
    # A QWERTY reader on an AZERTY PC: the digit keys type &é"'(-è_çà unshifted.
    "qwerty-on-azerty": _table(
        {
            **dict(zip(_AZERTY_DIGITS, _DIGITS, strict=True)),
            **dict(zip(_DIGITS, _SHIFTED_QWERTY_DIGITS, strict=True)),
            "M": ":",
            "m": ";",
            ")": "-",
        },
        (("a", "q"), ("z", "w")),
    ),
    # A QWERTZ reader on a QWERTY PC: Y/Z swapped, ":" is shift+".", "=" shift+"0".
    "qwertz-on-qwerty": _table({">": ":", ")": "=", "/": "-", "&": "/"}, (("y", "z"),)),
    # A QWERTY reader on a QWERTZ PC.
    "qwerty-on-qwertz": _table(
        {"Ö": ":", "ö": ";", "ß": "-", "\u00b4": "=", "-": "/"}, (("y", "z"),)
    ),
}

_SEPARATORS: Final = re.compile(r"[;|,&?\s]+")
_PREFIXED: Final = re.compile(r"^(?:IO|ADDR|ADDRESS)[:=./\-]?([0-9A-F]{6,8})$")
_BARE: Final = re.compile(r"^([0-9A-F]{6,8})$")
MAX_SCAN: Final = 500


@dataclass(frozen=True, slots=True)
class Scan:
    """A readable scan: the remote's io address and the layout it was typed in."""

    address: str
    layout: str | None  # None: typed in the PC's layout


class UnreadableCode(ValueError):
    """The scan gives no address, or different ones depending on the keyboard layout."""


def _addresses(text: str) -> set[str]:
    fields = [f for f in _SEPARATORS.split(text.upper()) if f]
    prefixed = {m.group(1) for f in fields if (m := _PREFIXED.match(f))}
    if prefixed:
        return prefixed
    return {m.group(1) for f in fields if (m := _BARE.match(f))}


def parse_scan(typed: str) -> Scan:
    """The address of a scanned code (raises :class:`UnreadableCode`)."""
    if len(typed) > MAX_SCAN:
        raise UnreadableCode("too long")
    text = "".join(c if c.isprintable() else " " for c in typed).strip()
    if not text:
        raise UnreadableCode("empty")
    found = _addresses(text)
    if len(found) == 1:
        return Scan(found.pop(), None)
    if found:
        raise UnreadableCode("several addresses")
    candidates: dict[str, str] = {}
    for name, table in LAYOUTS.items():
        read = _addresses(text.translate(table))
        if len(read) == 1:
            candidates.setdefault(read.pop(), name)
    if len(candidates) == 1:
        address, layout = candidates.popitem()
        return Scan(address, layout)
    raise UnreadableCode("no address" if not candidates else "ambiguous")
