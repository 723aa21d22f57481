"""docs/protocol.md documents every frame type either end knows, and no other.

The frame types are read from the registries both ends validate with (the portal's
``hub/protocol.py``, Home Assistant's ``portal_frames.py``) and from the contract corpus,
not from the code that dispatches them, so handlers may move freely.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
import re

from companion_server.hub import protocol as portal
from custom_components.somfy_pro import portal_frames as ha
from tests.contract import frames as contract

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"
# One section per frame type: a heading that is the type alone, as code.
SECTION = re.compile(r"^#{2,6} `([a-z_]+)`\s*$", re.MULTILINE)
# One row per frame type in the summary table: its first cell is the type alone, as code.
ROW = re.compile(r"^\| `([a-z_]+)` \| (Home Assistant|portal|either) \| (yes|no) \|", re.MULTILINE)


def known_types() -> dict[str, set[str]]:
    """Every frame type, with where it is known."""
    sources = {
        "portal: FROM_HA": portal.FROM_HA,
        "portal: FROM_PORTAL": portal.FROM_PORTAL,
        "portal: PAYLOADS": set(portal.PAYLOADS),
        "portal: ACKED": portal.ACKED,
        "ha: INCOMING_PAYLOADS": set(ha.INCOMING_PAYLOADS),
        "ha: ACKED_TYPES": ha.ACKED_TYPES,
        "contract: RECEIVERS": set(contract.RECEIVERS),
    }
    known: dict[str, set[str]] = {}
    for source, types in sources.items():
        for frame_type in types:
            known.setdefault(frame_type, set()).add(source)
    return known


def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_frame_type_has_its_section() -> None:
    sections = Counter(SECTION.findall(text()))
    missing = {t: sorted(where) for t, where in known_types().items() if t not in sections}
    assert not missing, f"frame types without a section in docs/protocol.md: {missing}"
    assert [t for t, count in sections.items() if count > 1] == []


def test_every_frame_type_has_its_row() -> None:
    rows = Counter(row[0] for row in ROW.findall(text()))
    assert set(rows) >= set(known_types())
    assert [t for t, count in rows.items() if count > 1] == []


def test_every_documented_type_is_known_to_a_side() -> None:
    documented = set(SECTION.findall(text())) | {row[0] for row in ROW.findall(text())}
    assert documented - set(known_types()) == set()


def test_rows_say_direction_and_delivery_as_the_registries() -> None:
    for frame_type, sender, acked in ROW.findall(text()):
        senders = {
            "Home Assistant": frame_type in portal.FROM_HA,
            "portal": frame_type in portal.FROM_PORTAL,
        }
        expected = "either" if all(senders.values()) else next(k for k, v in senders.items() if v)
        assert sender == expected, frame_type
        assert (acked == "yes") == (frame_type in portal.ACKED), frame_type
        assert (acked == "yes") == (frame_type in ha.ACKED_TYPES), frame_type


def test_documented_limits_match_both_ends() -> None:
    doc = text()
    assert portal.MAX_FRAME_BYTES == ha.MAX_FRAME_BYTES == 64 * 1024
    assert "at most 64 KiB (65536 bytes" in doc
    assert f"at most {portal.MAX_SNAPSHOT_PART_DEVICES} devices" in doc
    assert f"`parts` | int | 1 to {portal.MAX_SNAPSHOT_PARTS} |" in doc
    assert f"| `code` | str | at most {portal.MAX_ERROR_CODE} " in doc
    assert f"| `message` | str | at most {portal.MAX_ERROR_MESSAGE}, " in doc
