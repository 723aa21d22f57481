"""The io address of a remote control from its scanned QR code, as a 2D reader types it.

A USB/Bluetooth 2D reader is a keyboard: it types the code's characters by pressing the keys
that give them *in the layout it is set to*. Set to another layout than the PC's, it types
other characters (a QWERTY reader on an AZERTY PC types ``Q('F"è`` for ``A53F27``). The scan
is read as typed and, only when that gives no address, as each common layout mismatch would
have typed it: text that already reads as an address is never remapped (``IO-E53F27`` is
``E53F27``). A scan that gives no address, or different ones depending on the layout, is
unreadable.

Accepted (case-insensitive; whitespace and control characters typed by the reader, such as
its final Enter, separate fields):

- the address alone: 6 to 8 hexadecimal digits (``E53F27``, ``00E53F27``);
- or a field ``IO``, ``ADDR`` or ``ADDRESS`` followed by ``:``, ``=``, ``.``, ``-``, ``/`` or
  nothing and the address (``IO:E53F27``), among other fields separated by ``;``, ``|``,
  ``,``, ``&``, ``?`` or whitespace (``SOMFY;IO:E53F27;SN:1234``, ``https://x/r?io=E53F27``).

A prefixed field wins over bare hexadecimal fields; exactly one address must remain.
The installer portal reads scans the same way (the contract test holds both to one corpus).
"""

from __future__ import annotations

import re
from typing import Final

MAX_SCAN: Final = 500

_AZERTY_DIGITS: Final = "&é\"'(-è_çà"
_SHIFTED_QWERTY_DIGITS: Final = "!@#$%^&*()"
_DIGITS: Final = "1234567890"


def _table(pairs: dict[str, str], swaps: tuple[tuple[str, str], ...]) -> dict[int, str]:
    """Typed character -> intended character, letters swapped in both cases."""
    table = {ord(k): v for k, v in pairs.items()}
    for a, b in swaps:
        for x, y in ((a, b), (b, a)):
            table[ord(x.lower())] = y.lower()
            table[ord(x.upper())] = y.upper()
    return table


# Reader layout on PC layout: what the PC receives -> what the code says.
LAYOUTS: Final[dict[str, dict[int, str]]] = {
    # Digits are shifted on AZERTY (the PC sees !@#...), the unshifted digit keys are
    # &é"'(-è_çà, A/Q and Z/W are swapped, ":" lands on QWERTY ".".
    "azerty-on-qwerty": _table(
        {
            **dict(zip(_SHIFTED_QWERTY_DIGITS, _DIGITS, strict=True)),
            **dict(zip(_DIGITS, _AZERTY_DIGITS, strict=True)),
            ".": ":",
            "/": "=",
        },
        (("a", "q"), ("z", "w")),
    ),
    # The digit keys type &é"'(-è_çà unshifted on the AZERTY PC.
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
    # Y/Z swapped, ":" is shift+".", "=" shift+"0".
    "qwertz-on-qwerty": _table({">": ":", ")": "=", "/": "-", "&": "/"}, (("y", "z"),)),
    "qwerty-on-qwertz": _table(
        {"Ö": ":", "ö": ";", "ß": "-", "\u00b4": "=", "-": "/"}, (("y", "z"),)
    ),
}

_SEPARATORS: Final = re.compile(r"[;|,&?\s]+")
_PREFIXED: Final = re.compile(r"^(?:IO|ADDR|ADDRESS)[:=./\-]?([0-9A-F]{6,8})$")
_BARE: Final = re.compile(r"^([0-9A-F]{6,8})$")


class UnreadableCode(ValueError):
    """The scan gives no address, or different ones depending on the keyboard layout."""


def _addresses(text: str) -> set[str]:
    fields = [f for f in _SEPARATORS.split(text.upper()) if f]
    prefixed = {m.group(1) for f in fields if (m := _PREFIXED.match(f))}
    if prefixed:
        return prefixed
    return {m.group(1) for f in fields if (m := _BARE.match(f))}


def read_remote_code(typed: str) -> str:
    """The io address (upper-case hexadecimal) of a scanned code; raises UnreadableCode."""
    if len(typed) > MAX_SCAN:
        raise UnreadableCode("too long")
    text = "".join(c if c.isprintable() else " " for c in typed).strip()
    if not text:
        raise UnreadableCode("empty")
    found = _addresses(text)
    if len(found) == 1:
        return found.pop()
    if found:
        raise UnreadableCode("several addresses")
    candidates = set()
    for table in LAYOUTS.values():
        read = _addresses(text.translate(table))
        if len(read) == 1:
            candidates.add(read.pop())
    if len(candidates) == 1:
        return candidates.pop()
    raise UnreadableCode("no address" if not candidates else "ambiguous")
