"""The digest of the snapshot Home Assistant would send now, kept up to date change by change.

The portal keeps the digest of the snapshot whose state it holds (docs/protocol.md,
"snapshot"), and each ``device_update`` names the digests it leads from and to. Encoding the
whole snapshot for each change would cost a box whose products all change at once the square
of its products; each product's encoding is kept instead, so a change encodes one product.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .portal_frames import MAX_SNAPSHOT_PART_DEVICES, part_budget


def _canonical(value: Any) -> str:
    """JSON as the portal digests it: keys sorted, no spaces, non-ASCII text as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def snapshot_digest(payload: dict[str, Any]) -> str:
    """The portal's digest of a snapshot payload: its fields but ``snapshot_id``."""
    return _sha256(_canonical({key: v for key, v in payload.items() if key != "snapshot_id"}))


class SnapshotDigest:
    """The digest of a one-frame snapshot of the box and products last given; None if unknown."""

    def __init__(self) -> None:
        """Nothing known: no snapshot sent yet."""
        self._box = ""
        self._budget = 0
        self._devices: dict[str, str] = {}  # url -> the product's canonical encoding
        self._used = 0  # the encoded products' bytes, each with its comma
        self.value: str | None = None

    def reset(self, box: dict[str, Any], devices: list[dict[str, Any]]) -> str | None:
        """A snapshot of this box and these products (in this order) is sent."""
        self._box = _canonical(box)
        self._budget = part_budget(box)
        self._devices = {device["url"]: _canonical(device) for device in devices}
        self._used = sum(_size(text) + 1 for text in self._devices.values())
        self.value = self._digest()
        return self.value

    def forget(self) -> None:
        """What the portal holds is unknown until the next snapshot."""
        self._devices = {}
        self._used = 0
        self.value = None

    def change(self, device: dict[str, Any]) -> str | None:
        """One product's new values are sent; the digest after it (None: unknown)."""
        if self.value is None or device["url"] not in self._devices:
            self.forget()
            return None
        text = _canonical(device)
        self._used += _size(text) - _size(self._devices[device["url"]])
        self._devices[device["url"]] = text
        self.value = self._digest()
        return self.value

    def _digest(self) -> str | None:
        # In one frame as ``portal_frames.snapshot_frames`` fills parts: the first product
        # always, the others while the encoded products (and their commas) fit the budget.
        texts = list(self._devices.values())
        if len(texts) > MAX_SNAPSHOT_PART_DEVICES:
            return None
        if len(texts) > 1 and self._used > self._budget:
            return None
        # The payload's keys in sorted order: box, devices, part, parts (the snapshot_id is
        # not digested).
        text = '{"box":' + self._box + ',"devices":[' + ",".join(texts) + '],"part":0,"parts":1}'
        return _sha256(text)
