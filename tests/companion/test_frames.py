"""The frame parser: every input either parses into a valid frame or raises FrameError.

Property-based (hypothesis): arbitrary text, arbitrary JSON, well-formed frames with
mutated fields. Nothing else may ever escape the parser, and what it accepts is well-typed.
"""

from __future__ import annotations

from datetime import datetime
import json
import tempfile
from typing import Any
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
import pytest

from companion_server.hub.protocol import (
    FROM_HA,
    MAX_FRAME_BYTES,
    Frame,
    FrameError,
    encode,
    parse_frame,
)
from tests.companion import ha as sim

# No .hypothesis folder in the working tree: examples are not kept between runs.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="portal-hypothesis-"))
SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

VALID = [
    sim.hello(),
    sim.snapshot(),
    sim.alert(),
    sim.consent("granted", str(uuid.uuid4())),
    sim.frame("device_update", {"url": "io://x/1", "changes": {"rssi": 12, "online": False}}),
    sim.frame("device_update", {"url": "io://x/1", "changes": {"position": 35}}),
    sim.frame("ack", {"id": str(uuid.uuid4())}),
    sim.frame("error", {"code": "x", "message": "y"}),
    sim.frame("unlinked", {}),
    sim.frame("window", {"request_id": None, "state": "expired", "until": None, "kinds": []}),
    sim.frame("action_result", {"action_id": "a", "ok": True, "at": "2026-03-02T08:00:00+00:00"}),
]


def _check(text: str | bytes) -> Frame | None:
    try:
        frame = parse_frame(text)
    except FrameError as err:
        assert err.code and err.message
        assert err.ref is None or len(err.ref) <= 36
        return None
    assert frame.type in FROM_HA
    assert isinstance(frame.payload, dict)
    assert str(uuid.UUID(frame.id)) == frame.id.lower()
    return frame


@pytest.mark.parametrize("data", VALID, ids=lambda d: d["type"])
def test_valid_frames_parse(data: dict[str, Any]) -> None:
    frame = parse_frame(json.dumps(data))
    assert (frame.id, frame.type) == (data["id"], data["type"])


@pytest.mark.parametrize("position", [0, 100, None])
def test_cover_position_in_snapshot_and_update(position: int | None) -> None:
    snapshot = sim.snapshot()
    snapshot["payload"]["devices"][0]["position"] = position
    [shutter, _] = parse_frame(json.dumps(snapshot)).payload["devices"]
    assert shutter["position"] == position
    update = sim.frame("device_update", {"url": "io://x/1", "changes": {"position": position}})
    assert parse_frame(json.dumps(update)).payload["changes"] == {"position": position}


@pytest.mark.parametrize("position", [True, 35.0, "35", -1, 101, [35]])
def test_cover_position_is_an_integer_percentage(position: Any) -> None:
    """Anything else is left out and named; the device's other values are kept."""
    snapshot = sim.snapshot()
    snapshot["payload"]["devices"][0]["position"] = position
    [shutter, sensor] = parse_frame(json.dumps(snapshot)).payload["devices"]
    assert "position" not in shutter
    assert shutter["invalid_fields"] == ["position"]
    assert shutter["label"] == "Living room shutter"
    assert "invalid_fields" not in sensor
    changes = {"position": position, "online": False}
    update = sim.frame("device_update", {"url": "io://x/1", "changes": changes})
    payload = parse_frame(json.dumps(update)).payload
    assert payload["changes"] == {"online": False, "invalid_fields": ["position"]}


def test_alert_time_is_parsed_and_naive_times_are_utc() -> None:
    data = sim.alert()
    data["payload"]["at"] = "2026-03-02T08:05:00"
    frame = parse_frame(json.dumps(data))
    assert isinstance(frame.payload["at"], datetime)
    assert frame.payload["at"].utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_size_limit_counts_bytes() -> None:
    data = sim.frame("error", {"code": "x", "message": "é" * (MAX_FRAME_BYTES // 2)})
    with pytest.raises(FrameError) as err:
        parse_frame(json.dumps(data, ensure_ascii=False))
    assert err.value.code == "too_large"


def test_portal_frames_encode() -> None:
    text = encode("welcome", {"pending": []})
    data = json.loads(text)
    assert data["v"] == 1 and data["type"] == "welcome" and uuid.UUID(data["id"])


@SETTINGS
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_any_text_is_parsed_or_refused(text: str | bytes) -> None:
    _check(text)


@SETTINGS
@given(json_values)
def test_any_json_is_parsed_or_refused(value: Any) -> None:
    _check(json.dumps(value))


@SETTINGS
@given(
    st.sampled_from(VALID),
    st.sampled_from(["v", "id", "type", "payload"]),
    json_values,
)
def test_mutated_envelopes(frame: dict[str, Any], key: str, value: Any) -> None:
    mutated = {**frame, key: value}
    _check(json.dumps(mutated))


@SETTINGS
@given(st.sampled_from(VALID), st.data())
def test_mutated_payload_fields(frame: dict[str, Any], data: st.DataObject) -> None:
    payload = dict(frame["payload"])
    if payload:
        key = data.draw(st.sampled_from(sorted(payload)))
        if data.draw(st.booleans()):
            payload[key] = data.draw(json_values)
        else:
            del payload[key]
    else:
        payload[data.draw(st.text(max_size=5))] = data.draw(json_values)
    parsed = _check(json.dumps({**frame, "payload": payload}))
    if parsed is not None and parsed.type == "alert":
        assert isinstance(parsed.payload["active"], bool)
        assert isinstance(parsed.payload["at"], datetime)


@SETTINGS
@given(st.sampled_from(VALID), st.text(max_size=40))
def test_unknown_types_are_refused(frame: dict[str, Any], kind: str) -> None:
    parsed = _check(json.dumps({**frame, "type": kind}))
    if parsed is not None:
        assert kind in FROM_HA


def test_deeply_nested_json_is_refused() -> None:
    text = "[" * 30_000 + "]" * 30_000  # under the size limit: the nesting is refused
    with pytest.raises(FrameError):
        parse_frame(text)
