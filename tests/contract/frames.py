"""Frames of protocol version 1 and what their receiver must do with them.

One table for both ends: ``tests/integration/test_contract.py`` runs every case through
Home Assistant's validator (``custom_components/somfy_pro/portal_frames.py``, plus the
request handler of ``installer_actions.py``) when Home Assistant receives that type, and through the
portal's (``companion_server/hub/protocol.py``) when the portal does. ``accepted`` is the
contract (``None``: whatever both decide, as long as they decide alike); a frame type both
ends receive must also give the same payload on both.

Limits are written here as numbers, not read from either side, so that changing a limit on
one side fails here until the other side and this table agree.

To cover a new frame type: add it to ``RECEIVERS`` and list its cases in ``PAYLOADS``.

Over 400 lines in one file: the corpus is one table, read whole by both ends' tests.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any, Final

HA: Final = "ha"
PORTAL: Final = "portal"

# Who receives each frame type.
RECEIVERS: Final[dict[str, frozenset[str]]] = {
    "hello": frozenset({PORTAL}),
    "snapshot": frozenset({PORTAL}),
    "device_update": frozenset({PORTAL}),
    "alert": frozenset({PORTAL}),
    "consent": frozenset({PORTAL}),
    "window": frozenset({PORTAL}),
    "action_result": frozenset({PORTAL}),
    "welcome": frozenset({HA}),
    "request_monitoring": frozenset({HA}),
    "request_remote_service": frozenset({HA}),
    "action": frozenset({HA}),
    "intervention_ended": frozenset({HA}),
    "unlinked": frozenset({HA, PORTAL}),
    "ack": frozenset({HA, PORTAL}),
    "error": frozenset({HA, PORTAL}),
    # The monitoring centre, as the portal reads and builds it (centre-portal).
    "centre_subscription": frozenset({PORTAL}),
    "centre_alarm": frozenset({PORTAL}),
    "centre_owner": frozenset({PORTAL}),
    "centre_case": frozenset({HA}),
    # The homeowner's tickets and their company's messages (the portal builds them).
    "tickets": frozenset({HA}),
    "customer_message": frozenset({HA}),
    # The homeowner's support plan and services (the portal builds them).
    "services": frozenset({HA}),
}

MAX_FRAME_BYTES: Final = 65536
MAX_SNAPSHOT_PART_DEVICES: Final = 250
MAX_SNAPSHOT_PARTS: Final = 64
FRAME_ID: Final = "6f1c8a0e-4b7d-4c1e-9a57-2f0c3d9e8b11"
OTHER_ID: Final = "0b9e2c44-1f6a-4e8b-8d3c-7a5e9f1b2c60"
AT: Final = "2026-11-28T05:00:00+00:00"


@dataclass(frozen=True, slots=True)
class FrameCase:
    """One text message and whether its receiver(s) accept it."""

    name: str
    type: str
    text: str
    accepted: bool | None

    @property
    def receivers(self) -> frozenset[str]:
        """Who the case is run through (both ends for an envelope case)."""
        return RECEIVERS.get(self.type, frozenset({HA, PORTAL}))


def text(frame_type: Any, payload: Any, /, **envelope: Any) -> str:
    """A frame as sent: the envelope fields given replace (or, as ``...``, drop) the usual."""
    frame = {"v": 1, "id": FRAME_ID, "type": frame_type, "payload": payload} | envelope
    return json.dumps({k: v for k, v in frame.items() if v is not ...}, ensure_ascii=False)


def _padded(size: int, char: str) -> str:
    """A valid ``ack`` frame of exactly ``size`` bytes in UTF-8, padded with ``char``."""
    bare = text("ack", {"id": OTHER_ID, "pad": ""})
    room = size - len(bare.encode())
    width = len(char.encode())
    pad = char * (room // width) + "a" * (room % width)
    return text("ack", {"id": OTHER_ID, "pad": pad})


def _nested(depth: int) -> str:
    inner = "[" * depth + "]" * depth
    return text("ack", {"id": OTHER_ID}).replace('"payload": {', f'"payload": {{"x": {inner}, ', 1)


ACK = {"id": OTHER_ID}

# The envelope, sent as an ``ack`` (both ends receive it).
ENVELOPE: Final[list[tuple[str, str, bool | None]]] = [
    ("valid", text("ack", ACK), True),
    ("extra-envelope-field", text("ack", ACK, seq=3), True),
    ("upper-case-id", text("ack", ACK, id=FRAME_ID.upper()), True),
    ("version-2", text("ack", ACK, v=2), False),
    ("version-text", text("ack", ACK, v="1"), False),
    ("version-true", text("ack", ACK, v=True), False),
    ("version-float", text("ack", ACK, v=1.0), False),
    ("version-missing", text("ack", ACK, v=...), False),
    ("id-not-uuid", text("ack", ACK, id="x"), False),
    ("id-uuid-without-dashes", text("ack", ACK, id=FRAME_ID.replace("-", "")), False),
    ("id-uuid-in-braces", text("ack", ACK, id="{" + FRAME_ID + "}"), False),
    ("id-number", text("ack", ACK, id=5), False),
    ("id-missing", text("ack", ACK, id=...), False),
    ("type-missing", text("ack", ACK, type=...), False),
    ("type-number", text(5, ACK), False),
    ("type-empty", text("", ACK), False),
    ("type-unknown", text("teleport", {}), False),
    ("type-long", text("x" * 65, {}), False),
    ("payload-missing", text("ack", ACK, payload=...), False),
    ("payload-null", text("ack", None), False),
    ("payload-list", text("ack", [OTHER_ID]), False),
    ("payload-text", text("ack", OTHER_ID), False),
    ("not-json", "not json", False),
    ("empty", "", False),
    ("json-array", "[1, 2]", False),
    ("json-text", '"ack"', False),
    ("nan", text("ack", ACK).replace("{", '{"x": NaN, ', 1), False),
    ("infinity", text("ack", ACK).replace("{", '{"x": -Infinity, ', 1), False),
    ("duplicate-key-last-wins", text("ack", ACK).replace('"v": 1', '"v": 1, "v": 2'), False),
    ("duplicate-key-valid-last", text("ack", ACK).replace('"v": 1', '"v": 2, "v": 1'), True),
    ("escaped-lone-surrogate", text("ack", ACK).replace("{", '{"x": "\\ud800", ', 1), True),
    ("nested-100", _nested(100), True),
    # As deep as 64 KiB allows: past the decoder's recursion limit on some Pythons.
    ("nested-30000", _nested(30000), None),
    ("size-at-limit", _padded(MAX_FRAME_BYTES, "a"), True),
    ("size-over-limit", _padded(MAX_FRAME_BYTES + 1, "a"), False),
    ("size-at-limit-multibyte", _padded(MAX_FRAME_BYTES, "é"), True),
    ("size-over-limit-multibyte", _padded(MAX_FRAME_BYTES + 1, "€"), False),
]

_DEVICE = {
    "url": "io://1234-5678-9012/12345678",
    "label": "Living room",
    "protocol": "io",
    "ui_class": "RollerShutter",
    "online": True,
    "rssi": 80,
    "rssi_level": "good",
    "battery": None,
    "defect": None,
    "position": 40,
    "editable": {
        "parameters": {"label": {"type": "string", "max_length": 64, "value": "Living room"}},
        "read_only_reason": None,
    },
}
# A value breaking its rule for every optional field of a device.
_BAD_FIELDS = {
    "label": "l" * 201,
    "protocol": 5,
    "ui_class": "u" * 101,
    "online": "yes",
    "rssi": -55,
    "rssi_level": "r" * 21,
    "battery": True,
    "defect": ["x"],
    "position": 50.0,
    "editable": {"a": {"b": {"c": {"d": {"e": 1}}}}},
}
_WINDOW = {"until": AT, "kinds": ["parameters", "reboot"]}
_HELLO = {
    "integration_version": "1.4.0",
    "pin": "1234-5678-9012",
    "monitoring": True,
    "window": None,
}
_ALERT = {
    "alert_id": OTHER_ID,
    "device_url": "io://1234-5678-9012/12345678",
    "device_label": "Front door",
    "type": "intrusion",
    "active": True,
    "at": AT,
}
_REQUEST = {"request_id": OTHER_ID, "installer": "Ann", "kinds": ["reboot"], "hours": 8}
_WELCOME = {"installation_id": 42, "company": {"id": 7, "name": "Acme"}, "pending": []}


# The monitoring centre (centre-portal).
_HASH = "$scrypt$ln=14,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "B" * 42 + "A"
_CONTACT = {
    "kind": "owner",
    "first_name": "Alice",
    "last_name": "Martin",
    "phone": "+33612345678",
    "password_hash": _HASH,
}
_ADDRESS = {"street": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"}
_ON_SITE = {"guard_may_enter": True, "key_holder": "", "access_notes": ""}
_SUBSCRIPTION = {
    "status": "active",
    "complete": True,
    "contacts": [_CONTACT],
    "address": _ADDRESS,
    "instructions": "",
    "on_site": _ON_SITE,
    "updated_at": AT,
}
_CENTRE_ALARM = {
    "alarm_id": OTHER_ID,
    "kind": "intrusion",
    "active": True,
    "device_url": "io://1234-5678-9012/2",
    "device_label": "Door sensor",
    "at": AT,
}
_CENTRE_CASE = {
    "case_id": 7,
    "seq": 0,
    "kind": "intrusion",
    "status": "open",
    "phase": "calling",
    "round": 1,
    "reached": None,
    "guard": "none",
    "outcome": None,
    "last_action": "new_alert",
    "actor": "home_assistant",
    "at": AT,
    "deadline": None,
}


def _contact(**changes: Any) -> dict[str, Any]:
    return {**_CONTACT, **changes}


def _device(**changes: Any) -> dict[str, Any]:
    return {"box": {}, "devices": [{**_DEVICE, **changes}]}


_PART = {"box": {}, "devices": [_DEVICE], "snapshot_id": OTHER_ID, "part": 0, "parts": 3}


def _part(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in (_PART | changes).items() if v is not ...}


def _sized_part(size: int) -> dict[str, Any]:
    """A snapshot part whose frame is exactly ``size`` bytes: the longest URLs, then labels."""
    payload: dict[str, Any] = _part(part=0, parts=1, devices=[])
    devices: list[dict[str, Any]] = payload["devices"]

    def room() -> int:
        return size - len(text("snapshot", payload).encode())

    while room() > 400:
        number = f"io://b/{len(devices)}/"
        devices.append({"url": number + "u" * (300 - len(number)), "label": ""})
    for device in devices:
        device["label"] = "l" * min(200, room())
    assert room() == 0
    return payload


# Payloads of each type: (name, payload, accepted).
PAYLOADS: Final[dict[str, list[tuple[str, Any, bool | None]]]] = {
    "ack": [
        ("valid", ACK, True),
        ("upper-case", {"id": OTHER_ID.upper()}, True),
        ("extra-field", {"id": OTHER_ID, "extra": 1}, True),
        ("not-uuid", {"id": "x"}, False),
        ("number", {"id": 5}, False),
        ("null", {"id": None}, False),
        ("missing", {}, False),
    ],
    "error": [
        ("full", {"code": "too_large", "message": "m", "ref": OTHER_ID}, True),
        ("without-ref", {"code": "too_large", "message": "m"}, True),
        ("ref-null", {"code": "too_large", "message": "m", "ref": None}, True),
        ("extra-field", {"code": "x", "message": "m", "detail": 1}, True),
        ("empty-code", {"code": "", "message": ""}, True),
        ("message-missing", {"code": "x"}, False),
        ("message-null", {"code": "x", "message": None}, False),
        ("message-at-limit", {"code": "x", "message": "m" * 1000}, True),
        ("message-over-limit", {"code": "x", "message": "m" * 1001}, False),
        ("code-at-limit", {"code": "x" * 100, "message": "m"}, True),
        ("code-over-limit", {"code": "x" * 101, "message": "m"}, False),
        ("code-number", {"code": 5, "message": "m"}, False),
        ("ref-at-limit", {"code": "x", "message": "m", "ref": "r" * 36}, True),
        ("ref-over-limit", {"code": "x", "message": "m", "ref": "r" * 37}, False),
        ("ref-number", {"code": "x", "message": "m", "ref": 5}, False),
    ],
    "unlinked": [
        ("empty", {}, True),
        ("extra-field", {"reason": "x"}, True),
    ],
    "hello": [
        ("no-window", _HELLO, True),
        ("window", {**_HELLO, "window": _WINDOW}, True),
        ("window-local-time", {**_HELLO, "window": {**_WINDOW, "until": AT[:19]}}, True),
        ("window-bad-time", {**_HELLO, "window": {**_WINDOW, "until": "tomorrow"}}, False),
        ("window-kinds-text", {**_HELLO, "window": {**_WINDOW, "kinds": "reboot"}}, False),
        ("window-kind-long", {**_HELLO, "window": {**_WINDOW, "kinds": ["k" * 41]}}, False),
        ("monitoring-number", {**_HELLO, "monitoring": 1}, False),
        ("monitoring-text", {**_HELLO, "monitoring": "true"}, False),
        ("pin-at-limit", {**_HELLO, "pin": "1" * 20}, True),
        ("pin-over-limit", {**_HELLO, "pin": "1" * 21}, False),
        ("pin-missing", {k: v for k, v in _HELLO.items() if k != "pin"}, False),
        ("version-over-limit", {**_HELLO, "integration_version": "1" * 41}, False),
    ],
    "snapshot": [
        ("empty", {"box": {}, "devices": []}, True),
        ("full", {"box": {"online": True, "firmware": "2025.3"}, **_device()}, True),
        ("box-missing", {"devices": []}, False),
        ("box-online-text", {"box": {"online": "yes"}, "devices": []}, False),
        ("firmware-at-limit", {"box": {"firmware": "f" * 100}, "devices": []}, True),
        ("firmware-over-limit", {"box": {"firmware": "f" * 101}, "devices": []}, False),
        ("devices-not-list", {"box": {}, "devices": {}}, False),
        ("device-extra-field", _device(colour="red"), True),
        ("device-url-missing", {"box": {}, "devices": [{"label": "x"}, _DEVICE]}, True),
        ("device-not-object", {"box": {}, "devices": [5, _DEVICE]}, True),
        ("url-at-limit", _device(url="u" * 300), True),
        ("url-over-limit", _device(url="u" * 301), True),
        ("label-at-limit", _device(label="l" * 200), True),
        ("label-over-limit", _device(label="l" * 201), True),
        ("protocol-over-limit", _device(protocol="p" * 21), True),
        ("ui-class-over-limit", _device(ui_class="u" * 101), True),
        (
            "rssi-at-bounds",
            {"box": {}, "devices": [_DEVICE | {"rssi": 0}, _DEVICE | {"rssi": 100}]},
            True,
        ),
        ("rssi-fraction", _device(rssi=50.5), True),
        ("rssi-decimals", _device(rssi=45.908), True),
        ("rssi-over-range", _device(rssi=101), True),
        ("rssi-negative", _device(rssi=-1), True),
        # dBm as some sensors report it: Home Assistant maps it to 0-100 before sending.
        ("rssi-dbm", _device(rssi=-55), True),
        ("rssi-text", _device(rssi="50"), True),
        ("rssi-unicode-digits", _device(rssi="\u0665\u0660"), True),
        ("rssi-boolean", _device(rssi=True), True),
        (
            "one-device-of-two-with-a-bad-value",
            {"box": {}, "devices": [_DEVICE | {"rssi": -55}, _DEVICE | {"url": "io://b/2"}]},
            True,
        ),
        ("invalid-fields-sent", _device(invalid_fields=["label"]), True),
        ("every-field-bad", _device(**_BAD_FIELDS), True),
        ("position-over-range", _device(position=101), True),
        ("position-fraction", _device(position=50.0), True),
        ("battery-number", _device(battery=85), True),
        ("battery-at-limit", _device(battery="b" * 40), True),
        ("battery-over-limit", _device(battery="b" * 41), True),
        ("defect-over-limit", _device(defect="d" * 41), True),
        ("rssi-level-over-limit", _device(rssi_level="r" * 21), True),
        ("online-text", _device(online="yes"), True),
        ("editable-too-deep", _device(editable={"a": {"b": {"c": {"d": {"e": 1}}}}}), True),
        ("editable-long-key", _device(editable={"k" * 101: 1}), True),
        (
            "devices-at-limit",
            {"box": {}, "devices": [{"url": f"io://b/{n}"} for n in range(250)]},
            True,
        ),
        (
            "devices-over-limit",
            {"box": {}, "devices": [{"url": f"io://b/{n}"} for n in range(251)]},
            False,
        ),
        # A snapshot in parts (docs/protocol.md): the three fields together, or none.
        ("part-first", _part(), True),
        ("part-last", _part(part=2), True),
        ("part-alone", _part(parts=1), True),
        ("part-at-limit", _part(part=63, parts=64), True),
        ("parts-over-limit", _part(part=0, parts=65), False),
        ("part-equal-parts", _part(part=3), False),
        ("part-past-parts", _part(part=5, parts=3), False),
        ("part-negative", _part(part=-1), False),
        ("parts-zero", _part(part=0, parts=0), False),
        ("part-text", _part(part="1"), False),
        ("part-boolean", _part(part=True), False),
        ("part-fraction", _part(part=1.0), False),
        ("part-missing", _part(part=...), False),
        ("parts-missing", _part(parts=...), False),
        ("snapshot-id-missing", _part(snapshot_id=...), False),
        ("snapshot-id-not-uuid", _part(snapshot_id="s-1"), False),
        ("part-size-at-limit", _sized_part(MAX_FRAME_BYTES), True),
        ("part-size-over-limit", _sized_part(MAX_FRAME_BYTES + 1), False),
    ],
    "device_update": [
        ("valid", {"url": _DEVICE["url"], "changes": {"rssi": 40}}, True),
        ("no-change", {"url": _DEVICE["url"], "changes": {}}, True),
        ("url-missing", {"changes": {}}, False),
        ("changes-not-object", {"url": _DEVICE["url"], "changes": []}, False),
        ("rssi-over-range", {"url": _DEVICE["url"], "changes": {"rssi": 101}}, True),
        ("rssi-dbm", {"url": _DEVICE["url"], "changes": {"rssi": -55, "online": True}}, True),
        ("label-over-limit", {"url": _DEVICE["url"], "changes": {"label": "l" * 201}}, True),
        ("every-field-bad", {"url": _DEVICE["url"], "changes": _BAD_FIELDS}, True),
        ("url-over-limit", {"url": "u" * 301, "changes": {"rssi": 40}}, False),
        ("url-number", {"url": 5, "changes": {"rssi": 40}}, False),
    ],
    "alert": [
        ("valid", _ALERT, True),
        ("box-alert", {**_ALERT, "device_url": None, "device_label": None}, True),
        ("time-in-utc-z", {**_ALERT, "at": "2026-11-28T05:00:00Z"}, True),
        ("time-local", {**_ALERT, "at": AT[:19]}, True),
        ("time-not-iso", {**_ALERT, "at": "yesterday"}, False),
        (
            "time-unicode-digits",
            {**_ALERT, "at": "\u0662\u0660\u0662\u0666-11-28T05:00:00+00:00"},
            False,
        ),
        ("time-missing", {k: v for k, v in _ALERT.items() if k != "at"}, False),
        ("alert-id-empty", {**_ALERT, "alert_id": ""}, False),
        ("alert-id-over-limit", {**_ALERT, "alert_id": "a" * 101}, False),
        ("type-empty", {**_ALERT, "type": ""}, False),
        ("type-over-limit", {**_ALERT, "type": "t" * 41}, False),
        ("active-text", {**_ALERT, "active": "true"}, False),
        ("label-over-limit", {**_ALERT, "device_label": "l" * 201}, False),
    ],
    "consent": [
        ("granted", {"request_id": OTHER_ID, "monitoring": "granted"}, True),
        ("revoked-without-request", {"request_id": None, "monitoring": "revoked"}, True),
        ("state-unknown", {"request_id": None, "monitoring": "expired"}, False),
        ("state-upper-case", {"request_id": None, "monitoring": "GRANTED"}, False),
        ("state-missing", {"request_id": None}, False),
        ("request-id-at-limit", {"request_id": "r" * 36, "monitoring": "granted"}, True),
        ("request-id-over-limit", {"request_id": "r" * 37, "monitoring": "granted"}, False),
    ],
    "window": [
        ("granted", {"request_id": OTHER_ID, "state": "granted", **_WINDOW}, True),
        (
            "declined",
            {"request_id": OTHER_ID, "state": "declined", "until": None, "kinds": []},
            True,
        ),
        ("expired", {"request_id": None, "state": "expired"}, True),
        ("state-unknown", {"request_id": None, "state": "ended"}, False),
        (
            "until-not-iso",
            {"request_id": None, "state": "granted", "until": "8h", "kinds": []},
            False,
        ),
        ("request-id-over-limit", {"request_id": "r" * 37, "state": "expired"}, False),
    ],
    "action_result": [
        ("done", {"action_id": OTHER_ID, "ok": True, "at": AT}, True),
        ("refused", {"action_id": OTHER_ID, "ok": False, "error": "window_closed", "at": AT}, True),
        (
            "without-action-id-value",
            {"action_id": "", "ok": False, "error": "invalid_action", "at": AT},
            True,
        ),
        (
            "error-over-limit",
            {"action_id": OTHER_ID, "ok": False, "error": "e" * 501, "at": AT},
            False,
        ),
        ("ok-number", {"action_id": OTHER_ID, "ok": 1, "at": AT}, False),
        ("action-id-over-limit", {"action_id": "a" * 37, "ok": True, "at": AT}, False),
        ("time-missing", {"action_id": OTHER_ID, "ok": True}, False),
    ],
    "welcome": [
        ("valid", _WELCOME, True),
        (
            "ids-as-text",
            {**_WELCOME, "installation_id": "42", "company": {"id": "7", "name": "A"}},
            True,
        ),
        ("pending-missing", {k: v for k, v in _WELCOME.items() if k != "pending"}, True),
        ("installation-id-boolean", {**_WELCOME, "installation_id": True}, False),
        ("installation-id-null", {**_WELCOME, "installation_id": None}, False),
        ("installation-id-empty", {**_WELCOME, "installation_id": ""}, False),
        ("company-missing", {k: v for k, v in _WELCOME.items() if k != "company"}, False),
        ("company-id-boolean", {**_WELCOME, "company": {"id": False, "name": "A"}}, False),
        ("company-name-number", {**_WELCOME, "company": {"id": 7, "name": 7}}, False),
        ("pending-not-list", {**_WELCOME, "pending": "x"}, False),
        ("pending-not-frames", {**_WELCOME, "pending": [5]}, False),
    ],
    "request_monitoring": [
        ("valid", {"request_id": OTHER_ID, "company": "Acme", "installer": "Ann", "at": AT}, True),
        ("parties-as-objects", {"request_id": OTHER_ID, "company": {"name": "Acme"}}, True),
        ("at-null", {"request_id": OTHER_ID, "at": None}, True),
        ("request-id-at-limit", {"request_id": "r" * 36}, True),
        # Home Assistant answers with ``consent``, whose request_id the portal takes up to 36.
        ("request-id-over-limit", {"request_id": "r" * 37}, False),
        ("request-id-empty", {"request_id": ""}, False),
        ("request-id-number", {"request_id": 5}, False),
        ("request-id-missing", {"company": "Acme"}, False),
        ("company-number", {"request_id": OTHER_ID, "company": 5}, False),
    ],
    "request_remote_service": [
        ("valid", _REQUEST, True),
        ("one-hour", {**_REQUEST, "hours": 1}, True),
        ("quarter-hour", {**_REQUEST, "hours": 0.25}, True),
        # Home Assistant caps the window to 8 hours.
        ("hundred-hours", {**_REQUEST, "hours": 100}, True),
        ("zero-hours", {**_REQUEST, "hours": 0}, False),
        ("negative-hours", {**_REQUEST, "hours": -5}, False),
        ("hours-text", {**_REQUEST, "hours": "8"}, False),
        ("hours-boolean", {**_REQUEST, "hours": True}, False),
        ("all-kinds-by-default", {k: v for k, v in _REQUEST.items() if k != "kinds"}, True),
        ("no-kind", {**_REQUEST, "kinds": []}, False),
        ("unknown-kind", {**_REQUEST, "kinds": ["teleport"]}, False),
        ("kinds-text", {**_REQUEST, "kinds": "reboot"}, False),
        ("request-id-over-limit", {**_REQUEST, "request_id": "r" * 37}, False),
        ("request-id-number", {**_REQUEST, "request_id": 5}, False),
        ("request-id-missing", {k: v for k, v in _REQUEST.items() if k != "request_id"}, False),
    ],
    "action": [
        ("reboot", {"action_id": OTHER_ID, "kind": "reboot"}, True),
        (
            "parameter",
            {
                "action_id": OTHER_ID,
                "kind": "parameters",
                "device_url": _DEVICE["url"],
                "parameter": "label",
                "value": "Salon",
            },
            True,
        ),
        # Refused in the action_result (invalid_action), not as a frame.
        ("unknown-kind", {"action_id": OTHER_ID, "kind": "teleport"}, True),
        ("action-id-missing", {"kind": "reboot"}, True),
        # The id comes back in action_result, which the portal takes up to 36 characters.
        ("action-id-over-limit", {"action_id": "a" * 37, "kind": "reboot"}, False),
        ("action-id-number", {"action_id": 5, "kind": "reboot"}, False),
    ],
    "intervention_ended": [
        ("valid", {"comment": "Replaced the remote.", "actions": [{"kind": "reboot"}]}, True),
        ("empty", {}, True),
    ],
    # The monitoring centre, as the portal reads and builds it (centre-portal).
    "centre_subscription": [
        ("active", _SUBSCRIPTION, True),
        (
            "stopped",
            {
                **_SUBSCRIPTION,
                "status": "stopped",
                "complete": False,
                "contacts": [],
                "address": None,
                "instructions": "",
            },
            True,
        ),
        ("active-incomplete", {**_SUBSCRIPTION, "complete": False, "contacts": []}, True),
        (
            "second-contact",
            {**_SUBSCRIPTION, "contacts": [_CONTACT, _contact(kind="outside")]},
            True,
        ),
        (
            "ha-user-without-last-name",
            {**_SUBSCRIPTION, "contacts": [_contact(kind="ha_user", last_name="")]},
            True,
        ),
        ("three-contacts", {**_SUBSCRIPTION, "contacts": [_CONTACT] * 3}, False),
        ("status-unknown", {**_SUBSCRIPTION, "status": "paused"}, False),
        ("complete-text", {**_SUBSCRIPTION, "complete": "true"}, False),
        ("contact-kind-unknown", {**_SUBSCRIPTION, "contacts": [_contact(kind="friend")]}, False),
        ("first-name-empty", {**_SUBSCRIPTION, "contacts": [_contact(first_name="")]}, False),
        (
            "first-name-at-limit",
            {**_SUBSCRIPTION, "contacts": [_contact(first_name="f" * 80)]},
            True,
        ),
        (
            "first-name-over-limit",
            {**_SUBSCRIPTION, "contacts": [_contact(first_name="f" * 81)]},
            False,
        ),
        ("phone-national", {**_SUBSCRIPTION, "contacts": [_contact(phone="0612345678")]}, False),
        (
            "phone-leading-zero",
            {**_SUBSCRIPTION, "contacts": [_contact(phone="+0612345678")]},
            False,
        ),
        ("phone-seven-digits", {**_SUBSCRIPTION, "contacts": [_contact(phone="+3361234")]}, False),
        (
            "phone-fifteen-digits",
            {**_SUBSCRIPTION, "contacts": [_contact(phone="+" + "3" * 15)]},
            True,
        ),
        (
            "phone-sixteen-digits",
            {**_SUBSCRIPTION, "contacts": [_contact(phone="+" + "3" * 16)]},
            False,
        ),
        (
            "phone-unicode-digits",
            {
                **_SUBSCRIPTION,
                "contacts": [
                    _contact(phone="+33612345\u0666\u0667\u0668".encode().decode("unicode_escape"))
                ],
            },
            False,
        ),
        (
            "hash-cost-17",
            {
                **_SUBSCRIPTION,
                "contacts": [_contact(password_hash=_HASH.replace("ln=14", "ln=17"))],
            },
            True,
        ),
        (
            "hash-cost-13",
            {
                **_SUBSCRIPTION,
                "contacts": [_contact(password_hash=_HASH.replace("ln=14", "ln=13"))],
            },
            False,
        ),
        (
            "hash-r-4",
            {**_SUBSCRIPTION, "contacts": [_contact(password_hash=_HASH.replace("r=8", "r=4"))]},
            False,
        ),
        (
            "hash-padded",
            {**_SUBSCRIPTION, "contacts": [_contact(password_hash=_HASH + "=")]},
            False,
        ),
        (
            "hash-short-salt",
            {
                **_SUBSCRIPTION,
                "contacts": [
                    _contact(
                        password_hash=_HASH.replace(
                            "$AAAAAAAAAAAAAAAAAAAAAA$", "$AAAAAAAAAAAAAAAAAAAA$"
                        )
                    )
                ],
            },
            False,
        ),
        (
            "address-country-lower-case",
            {**_SUBSCRIPTION, "address": {**_ADDRESS, "country": "fr"}},
            False,
        ),
        ("address-street-empty", {**_SUBSCRIPTION, "address": {**_ADDRESS, "street": ""}}, False),
        ("instructions-at-limit", {**_SUBSCRIPTION, "instructions": "i" * 2000}, True),
        ("instructions-over-limit", {**_SUBSCRIPTION, "instructions": "i" * 2001}, False),
        ("on-site-missing", {k: v for k, v in _SUBSCRIPTION.items() if k != "on_site"}, False),
        (
            "guard-may-enter-number",
            {**_SUBSCRIPTION, "on_site": {**_ON_SITE, "guard_may_enter": 1}},
            False,
        ),
        ("updated-at-not-iso", {**_SUBSCRIPTION, "updated_at": "now"}, False),
    ],
    "centre_alarm": [
        ("raised", _CENTRE_ALARM, True),
        ("restored", {**_CENTRE_ALARM, "active": False}, True),
        ("box-alarm", {**_CENTRE_ALARM, "device_url": None, "device_label": None}, True),
        ("kind-unknown", {**_CENTRE_ALARM, "kind": "flood"}, False),
        ("alarm-id-not-uuid", {**_CENTRE_ALARM, "alarm_id": "a-1"}, False),
        ("active-number", {**_CENTRE_ALARM, "active": 1}, False),
        ("device-url-over-limit", {**_CENTRE_ALARM, "device_url": "u" * 301}, False),
        ("time-missing", {k: v for k, v in _CENTRE_ALARM.items() if k != "at"}, False),
    ],
    "centre_owner": [
        ("cancel", {"case_id": 7, "action": "owner_cancel", "at": AT}, True),
        ("duress-without-case", {"case_id": None, "action": "owner_duress", "at": AT}, True),
        ("refused", {"case_id": 7, "action": "owner_cancel_refused", "at": AT}, True),
        ("case-id-zero", {"case_id": 0, "action": "owner_cancel", "at": AT}, False),
        ("case-id-text", {"case_id": "7", "action": "owner_cancel", "at": AT}, False),
        ("case-id-boolean", {"case_id": True, "action": "owner_cancel", "at": AT}, False),
        ("action-unknown", {"case_id": 7, "action": "identified", "at": AT}, False),
    ],
    "tickets": [],
    "customer_message": [],
    "services": [],
    "centre_case": [
        ("open", _CENTRE_CASE, True),
        (
            "closed",
            {
                **_CENTRE_CASE,
                "seq": 5,
                "status": "closed",
                "phase": "closed",
                "guard": "finished",
                "outcome": "guard_checked",
                "last_action": "guard_finished",
                "actor": "operator",
            },
            True,
        ),
    ],
}


# Frames taken with values left out: a device field that breaks its rule is left out and
# the rest of the frame kept (docs/protocol.md, "Values left out"). Case -> the fields left
# out of each device kept (a snapshot's devices, a device_update's changes); a case of these
# two types not listed here leaves nothing out.
LEFT_OUT: Final[dict[str, list[list[str]]]] = {
    "snapshot-device-url-missing": [[]],
    "snapshot-device-not-object": [[]],
    "snapshot-url-over-limit": [],
    "snapshot-label-over-limit": [["label"]],
    "snapshot-protocol-over-limit": [["protocol"]],
    "snapshot-ui-class-over-limit": [["ui_class"]],
    "snapshot-rssi-over-range": [["rssi"]],
    "snapshot-rssi-negative": [["rssi"]],
    "snapshot-rssi-dbm": [["rssi"]],
    "snapshot-rssi-text": [["rssi"]],
    "snapshot-rssi-unicode-digits": [["rssi"]],
    "snapshot-rssi-boolean": [["rssi"]],
    "snapshot-one-device-of-two-with-a-bad-value": [["rssi"], []],
    "snapshot-every-field-bad": [sorted(_BAD_FIELDS)],
    "snapshot-position-over-range": [["position"]],
    "snapshot-position-fraction": [["position"]],
    "snapshot-battery-over-limit": [["battery"]],
    "snapshot-defect-over-limit": [["defect"]],
    "snapshot-rssi-level-over-limit": [["rssi_level"]],
    "snapshot-online-text": [["online"]],
    "snapshot-editable-too-deep": [["editable"]],
    "snapshot-editable-long-key": [["editable"]],
    "device_update-rssi-over-range": [["rssi"]],
    "device_update-rssi-dbm": [["rssi"]],
    "device_update-label-over-limit": [["label"]],
    "device_update-every-field-bad": [sorted(_BAD_FIELDS)],
}
# Snapshot cases with devices left out whole (no valid url): case -> how many.
DEVICES_LEFT_OUT: Final[dict[str, int]] = {
    "snapshot-device-url-missing": 1,
    "snapshot-device-not-object": 1,
    "snapshot-url-over-limit": 1,
}


def cases() -> list[FrameCase]:
    """Every case: the envelope (sent as ``ack``), then each type's payloads."""
    table = [FrameCase(f"envelope-{name}", "*", raw, ok) for name, raw, ok in ENVELOPE]
    for frame_type, payloads in PAYLOADS.items():
        table += [
            FrameCase(f"{frame_type}-{name}", frame_type, text(frame_type, payload), ok)
            for name, payload, ok in payloads
        ]
    return table


# What Home Assistant refuses in a ``centre_case`` (centre-ha), beside the cases above.
PAYLOADS["centre_case"] += [
    ("a later step", {**_CENTRE_CASE, "seq": 3, "reached": "second", "round": 2}, True),
    (
        "a deadline",
        {**_CENTRE_CASE, "phase": "waiting", "deadline": "2026-11-28T05:10:00+00:00"},
        True,
    ),
    ("an unknown phase", {**_CENTRE_CASE, "phase": "dancing"}, False),
    ("case id 0", {**_CENTRE_CASE, "case_id": 0}, False),
    ("case id a boolean", {**_CENTRE_CASE, "case_id": True}, False),
    ("case id a text", {**_CENTRE_CASE, "case_id": "7"}, False),
    ("negative seq", {**_CENTRE_CASE, "seq": -1}, False),
    ("round 3", {**_CENTRE_CASE, "round": 3}, False),
    ("a third contact", {**_CENTRE_CASE, "reached": "third"}, False),
    ("an unknown guard", {**_CENTRE_CASE, "guard": "maybe"}, False),
    ("an unknown outcome", {**_CENTRE_CASE, "outcome": "fine"}, False),
    ("an unknown action", {**_CENTRE_CASE, "last_action": "shrug"}, False),
    ("an operator's name", {**_CENTRE_CASE, "actor": "Olivia"}, False),
    ("an unknown kind", {**_CENTRE_CASE, "kind": "flood"}, False),
    ("no deadline field", {k: v for k, v in _CENTRE_CASE.items() if k != "deadline"}, False),
    ("no time", {**_CENTRE_CASE, "at": None}, False),
]


MAX_TICKETS: Final = 50
_TICKET = {
    "number": "T-000012",
    "kind": "contact",
    "status": "in_progress",
    "description": "The living-room shutter stops half-way.",
    "assignee": "Ivan Installer",
    "comment": {"id": 3, "author": "Ivan Installer", "text": "I come on Monday.", "at": AT},
    "updated_at": AT,
    "url": "https://portal.example/customer/tickets/12",
}
_TICKETS = {"at": AT, "tickets": [_TICKET]}
_MESSAGE = {"message_id": 4, "sender": "Ada Admin", "body": "Your warranty ends soon.", "at": AT}


def _ticket(**changes: Any) -> dict[str, Any]:
    return {"at": AT, "tickets": [{**_TICKET, **changes}]}


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


PAYLOADS["tickets"] += [
    ("valid", _TICKETS, True),
    ("empty-list", {"at": AT, "tickets": []}, True),
    ("at-limit", {"at": AT, "tickets": [_TICKET] * MAX_TICKETS}, True),
    ("over-limit", {"at": AT, "tickets": [_TICKET] * (MAX_TICKETS + 1)}, False),
    ("omitted", {**_TICKETS, "omitted": 3}, True),
    ("omitted-negative", {**_TICKETS, "omitted": -1}, False),
    ("no-comment-no-assignee", _ticket(comment=None, assignee=None), True),
    ("no-url", {"at": AT, "tickets": [_without(_TICKET, "url")]}, True),
    ("replacement", _ticket(kind="replacement"), True),
    (
        "every-status",
        {
            "at": AT,
            "tickets": [
                {**_TICKET, "status": status}
                for status in ("new", "in_progress", "waiting", "resolved", "closed")
            ],
        },
        True,
    ),
    ("unknown-status", _ticket(status="lost"), False),
    ("unknown-kind", _ticket(kind="complaint"), False),
    ("number-empty", _ticket(number=""), False),
    ("number-over-limit", _ticket(number="T" * 21), False),
    ("description-at-limit", _ticket(description="d" * 200), True),
    ("description-over-limit", _ticket(description="d" * 201), False),
    ("assignee-over-limit", _ticket(assignee="a" * 201), False),
    ("comment-at-limit", _ticket(comment={**_TICKET["comment"], "text": "c" * 1000}), True),
    ("comment-over-limit", _ticket(comment={**_TICKET["comment"], "text": "c" * 1001}), False),
    ("comment-id-zero", _ticket(comment={**_TICKET["comment"], "id": 0}), False),
    ("comment-id-boolean", _ticket(comment={**_TICKET["comment"], "id": True}), False),
    ("comment-without-author", _ticket(comment=_without(_TICKET["comment"], "author")), False),
    ("url-over-limit", _ticket(url="u" * 301), False),
    ("ticket-not-object", {"at": AT, "tickets": ["T-000012"]}, False),
    ("tickets-not-list", {"at": AT, "tickets": _TICKET}, False),
    ("no-at", {"tickets": [_TICKET]}, False),
    ("no-updated-at", {"at": AT, "tickets": [_without(_TICKET, "updated_at")]}, False),
]
PAYLOADS["customer_message"] += [
    ("valid", _MESSAGE, True),
    ("body-at-limit", {**_MESSAGE, "body": "b" * 4000}, True),
    ("body-over-limit", {**_MESSAGE, "body": "b" * 4001}, False),
    ("body-empty", {**_MESSAGE, "body": ""}, False),
    ("sender-over-limit", {**_MESSAGE, "sender": "s" * 201}, False),
    ("id-zero", {**_MESSAGE, "message_id": 0}, False),
    ("id-text", {**_MESSAGE, "message_id": "4"}, False),
    ("no-at", _without(_MESSAGE, "at"), False),
]

MAX_SERVICES: Final = 20
_PLAN = {
    "code": "plan_smart",
    "state": "active",
    "period_end": "2026-12-28",
    "ends_on": None,
    "monthly_price_cents": 1900,
    "discount_basis_points": 1000,
    "priority": 1,
}
_BASIC = {**_PLAN, "code": "plan_basic", "period_end": None, "monthly_price_cents": 0}
_SERVICE = {
    "code": "recording_7d",
    "state": "ending",
    "started_on": "2026-11-28",
    "period_end": "2026-12-28",
    "ends_on": "2026-12-28",
    "quantity": 2,
    "monthly_price_cents": 998,
}
_SERVICES = {"at": AT, "plan": _PLAN, "services": [_SERVICE]}


def _service(**changes: Any) -> dict[str, Any]:
    return {**_SERVICES, "services": [{**_SERVICE, **changes}]}


def _plan(**changes: Any) -> dict[str, Any]:
    return {**_SERVICES, "plan": {**_PLAN, **changes}}


PAYLOADS["services"] += [
    ("valid", _SERVICES, True),
    ("basic-nothing-else", {"at": AT, "plan": _BASIC, "services": []}, True),
    ("at-limit", {**_SERVICES, "services": [_SERVICE] * MAX_SERVICES}, True),
    ("over-limit", {**_SERVICES, "services": [_SERVICE] * (MAX_SERVICES + 1)}, False),
    ("unknown-code-kept", _service(code="drone_patrol"), True),
    ("code-not-a-code", _service(code="Drone patrol"), False),
    ("code-empty", _service(code=""), False),
    ("state-ended", _service(state="ended"), False),
    ("ends-on-not-a-date", _service(ends_on="2026-13-01"), False),
    ("period-end-missing", {**_SERVICES, "services": [_without(_SERVICE, "period_end")]}, False),
    ("quantity-zero", _service(quantity=0), False),
    ("price-negative", _service(monthly_price_cents=-1), False),
    ("price-boolean", _service(monthly_price_cents=True), False),
    ("price-at-limit", _service(monthly_price_cents=100_000_000), True),
    ("price-over-limit", _service(monthly_price_cents=100_000_001), False),
    ("discount-over-limit", _plan(discount_basis_points=10_001), False),
    ("priority-over-limit", _plan(priority=10), False),
    ("plan-missing", _without(_SERVICES, "plan"), False),
    ("services-not-list", {**_SERVICES, "services": _SERVICE}, False),
    ("no-at", _without(_SERVICES, "at"), False),
]
