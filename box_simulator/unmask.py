"""Masked identifiers of a shared dump, replaced by valid ones.

Dumps attached to reports hide what identifies the home: the PIN as ``****-****-3293``
(``GET setup`` dumps masked by hand or by tools), ``**REDACTED**`` (this integration's
diagnostics put it wherever the PIN was), ``****`` or ``**MAC-1**`` in device URLs. A box
must have a PIN of the form ``1234-5678-9012`` that its device URLs repeat, so each mask is
replaced by a valid value, and the same mask by the same value everywhere in the file (a
device URL and the state or label that repeats its address still point at each other):

- a PIN with masked digits keeps its visible digits; the hidden ones are filled from a
  counter (``****-****-3293`` becomes ``0000-0001-3293``, the next masked PIN
  ``0000-0002-...``);
- a mask standing where a PIN stands (a gateway id, the host part of a device URL), such as
  ``**REDACTED**`` or ``****``, becomes a whole PIN (``0000-0000-0001``, ...);
- ``**MAC-n**`` becomes the 16 hex digits ``02000000000000nn`` (a locally administered
  address, as zigbee and Hue URL segments are);
- any other run of three or more ``*`` becomes as many digits.

Other placeholders (``**VALUE-1**`` in place of a Wi-Fi name) are plain text and stay.
"""

from __future__ import annotations

import re
from typing import Any

_PIN = re.compile(r"^\d{4}-\d{4}-\d{4}$")
_MASK = re.compile(
    r"\*\*REDACTED\*\*|\*\*MAC-(\d+)\*\*|(?<![\d*])[\d*]{4}-[\d*]{4}-[\d*]{4}(?![\d*])|\*{3,}"
)


class Unmasker:
    """Replaces the masks of one dump; one instance per file keeps replacements consistent."""

    def __init__(self) -> None:
        """No mask seen yet."""
        self._replacements: dict[str, str] = {}
        self._counter = 0

    def _next(self, width: int) -> str:
        self._counter += 1
        return f"{self._counter:0{width}d}"[-width:]

    def pin(self, masked: str) -> str:
        """The PIN standing for ``masked`` (a gateway id or the host of a device URL)."""
        if _PIN.match(masked):
            return masked
        if masked not in self._replacements:
            if re.fullmatch(r"[\d*]{4}-[\d*]{4}-[\d*]{4}", masked):
                self._replacements[masked] = self._fill(masked)
            else:
                self._replacements[masked] = _dashed(self._next(12))
        return self._replacements[masked]

    def _fill(self, masked: str) -> str:
        digits = iter(self._next(masked.count("*")))
        return "".join(next(digits) if c == "*" else c for c in masked)

    def _replace(self, match: re.Match[str]) -> str:
        mask = match.group(0)
        if "*" not in mask:
            return mask  # a real PIN
        if mask not in self._replacements:
            if match.group(1) is not None:
                self._replacements[mask] = f"02{int(match.group(1)):014x}"
            elif "-" in mask:
                self._replacements[mask] = self._fill(mask)
            elif mask == "**REDACTED**":
                self._replacements[mask] = _dashed(self._next(12))
            else:
                self._replacements[mask] = self._next(len(mask))
        return self._replacements[mask]

    def text(self, value: str) -> str:
        """A string with every mask replaced."""
        return _MASK.sub(self._replace, value)

    def anything(self, value: Any) -> Any:
        """Any JSON value, keys of objects included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.anything(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.anything(item) for item in value]
        return value


def _dashed(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def url_host(url: str) -> str:
    """The gateway part of a device URL (``io://HOST/address``)."""
    return url.partition("://")[2].partition("/")[0]


def unmask_setup(setup: dict[str, Any]) -> dict[str, Any]:
    """The setup with valid identifiers in place of masks, consistently."""
    unmasker = Unmasker()
    # Masks where a PIN stands first, so that they become PINs wherever else they appear.
    for gateway in setup.get("gateways") or []:
        if isinstance(gateway, dict) and isinstance(gateway.get("gatewayId"), str):
            unmasker.pin(gateway["gatewayId"])
    for device in setup.get("devices") or []:
        if isinstance(device, dict) and isinstance(device.get("deviceURL"), str):
            unmasker.pin(url_host(device["deviceURL"]))
    result: dict[str, Any] = unmasker.anything(setup)
    return result
