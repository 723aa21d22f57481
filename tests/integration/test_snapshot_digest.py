"""Home Assistant's running snapshot digest equals the portal's digest of the frame it sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from companion_server.hub import protocol
from custom_components.somfy_pro import portal_frames as frames
from custom_components.somfy_pro.snapshot_digest import SnapshotDigest

BOX = {"online": True, "activated": True, "up_to_date": False, "firmware": "2025.1 «é»"}


def device(n: int, label: str = "Store", rssi: Any = 70) -> dict[str, Any]:
    return {
        "url": f"io://1234-5678-9012/{n}",
        "label": f"{label} {n}",
        "protocol": "io",
        "ui_class": "RollerShutter",
        "online": True,
        "rssi": rssi,
        "rssi_level": "good",
        "battery": None,
        "defect": None,
        "position": 40,
        "editable": {"parameters": {"speed": {"type": "int", "min": 1}}},
    }


def portal_digest(box: dict[str, Any], devices: list[dict[str, Any]]) -> str | None:
    """What the portal stores for this snapshot as Home Assistant sends it (None: in parts)."""
    parts = frames.snapshot_frames(box, devices)
    if len(parts) > 1:
        return None
    received = json.loads(frames.encode(parts[0]))
    return protocol.snapshot_digest(received["payload"])


def test_a_snapshot_and_its_changes_digest_as_the_portal_does() -> None:
    devices = [device(1, "Salon «é»"), device(2, rssi=45.908), device(3)]
    digest = SnapshotDigest()
    assert digest.reset(BOX, devices) == portal_digest(BOX, devices)
    for index, changed in enumerate(
        [device(2, rssi=12), device(1, "Chambre"), device(3) | {"position": None}]
    ):
        devices[[1, 0, 2][index]] = changed
        assert digest.change(changed) == portal_digest(BOX, devices)
        assert digest.value == portal_digest(BOX, devices)


def test_nothing_is_known_before_a_snapshot_nor_after_an_unknown_product() -> None:
    digest = SnapshotDigest()
    assert digest.change(device(1)) is None
    digest.reset(BOX, [device(1)])
    assert digest.change(device(9)) is None  # not in the snapshot: a new one is due
    assert digest.change(device(1, rssi=5)) is None
    digest.reset(BOX, [device(1)])
    digest.forget()
    assert digest.value is None


@pytest.mark.parametrize(
    ("count", "whole", "whole_after"),
    [(0, True, True), (1, True, True), (229, True, True), (230, True, False), (232, False, False)],
)
def test_no_digest_exactly_when_the_snapshot_goes_in_parts(
    count: int, whole: bool, whole_after: bool
) -> None:
    """Around the frame limit (231 of these products fit); past it, parts and no digest."""
    devices = [device(n, "x" * 40) for n in range(count)]
    digest = SnapshotDigest()
    assert digest.reset(BOX, devices) == portal_digest(BOX, devices)
    assert (digest.value is not None) is whole
    if count:
        # Longer: the snapshot may no longer fit in one frame.
        devices[0] = device(0, "y" * 200) | {"editable": {"values": ["v" * 100] * 5}}
        assert digest.change(devices[0]) == portal_digest(BOX, devices)
        assert (digest.value is not None) is (whole and whole_after)


def test_a_single_product_larger_than_a_part_still_goes_in_one_frame() -> None:
    huge = device(1, "z" * 200) | {"editable": {"values": ["v" * 100] * 700}}
    assert len(frames.snapshot_frames(BOX, [huge])) == 1
    assert SnapshotDigest().reset(BOX, [huge]) == portal_digest(BOX, [huge])
