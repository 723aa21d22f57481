"""The Home Assistant <-> portal frames (protocol version 1, ``docs/protocol.md``).

Every text message is parsed by :func:`parse_frame`: JSON, at most 64 KiB, the envelope
``{"v": 1, "id": "<uuid>", "type": ..., "payload": {...}}`` and a voluptuous schema per
type. Anything else raises :class:`FrameError`, which the hub answers with an ``error`` frame.
Values are checked strictly: ``true`` is not a number, ``1`` is not a boolean. A device's
fields are checked one by one: a field that breaks its rule is left out (and named in the
payload's ``INVALID_FIELDS``), a device of a snapshot without a valid URL is left out (and
counted in ``DROPPED_DEVICES``); the rest of the frame is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import json
import re
from typing import Any, Final
import uuid

import voluptuous as vol

from companion_server.hub.centre_frames import CENTRE_PAYLOADS
from companion_server.hub.frame_values import (
    DROPPED_DEVICES,
    Bool,
    Int,
    Str,
    bounded_text,
    device_values,
    finite_number,
    iso_time,
    json_value,
    uuid_string,
)

VERSION: Final = 1
MAX_FRAME_BYTES: Final = 64 * 1024

# Who sends what (the portal refuses frames of the other direction).
FROM_HA: Final = frozenset(
    {
        "hello",
        "snapshot",
        "device_update",
        "alert",
        "consent",
        "window",
        "action_result",
        "unlinked",
        "ack",
        "error",
        "centre_subscription",
        "centre_alarm",
        "centre_owner",
    }
)
FROM_PORTAL: Final = frozenset(
    {
        "welcome",
        "request_monitoring",
        "request_remote_service",
        "action",
        "intervention_ended",
        "unlinked",
        "ack",
        "error",
        "centre_case",
        "tickets",
        "customer_message",
        "services",
    }
)
# Frames delivered at least once: acknowledged by the receiver, recorded once by id.
ACKED: Final = frozenset(
    {
        "alert",
        "consent",
        "request_monitoring",
        "request_remote_service",
        "window",
        "action",
        "action_result",
        "intervention_ended",
        "centre_subscription",
        "centre_alarm",
        "centre_owner",
        "centre_case",
        "tickets",
        "customer_message",
        "services",
    }
)
# Frames that carry box data: accepted only while monitoring is granted.
MONITORING_ONLY: Final = frozenset({"snapshot", "device_update", "alert"})
CONSENT_STATES: Final = ("granted", "declined", "revoked")
WINDOW_STATES: Final = ("granted", "declined", "revoked", "expired")
# A snapshot goes in parts that each fit in a frame (docs/protocol.md, "snapshot"): at
# most this many devices in a part, and this many parts in one snapshot.
MAX_SNAPSHOT_PART_DEVICES: Final = 250
MAX_SNAPSHOT_PARTS: Final = 64
# Limits both ends hold to (Home Assistant's validator has the same; the contract test checks).
MAX_ID_LENGTH: Final = 36
MAX_ERROR_CODE: Final = 100
MAX_ERROR_MESSAGE: Final = 1000


class FrameError(Exception):
    """A frame the portal cannot accept; ``code`` goes into the ``error`` frame."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        """Keep the error code, a human-readable message and the frame id if known."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Frame:
    """A validated frame."""

    id: str
    type: str
    payload: dict[str, Any]
    # A snapshot's: the digest of what it says (:func:`snapshot_digest`), and whether that is
    # the snapshot the connection said was applied last (then it was not validated again).
    digest: str | None = None
    unchanged: bool = False


def _part_in_range(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("part", 0) >= payload.get("parts", 1):
        raise vol.Invalid("part must be less than parts")
    return payload


# The longest texts of a device the portal takes (Home Assistant cuts longer ones).
DEVICE_TEXT_LIMITS: Final = {
    "url": 300,
    "label": 200,
    "protocol": 20,
    "ui_class": 100,
    "rssi_level": 20,
    "battery": 40,
    "defect": 40,
    "firmware": 100,
}
OPT_BOOL = vol.Any(None, Bool)
OPT_TEXT = vol.Any(None, bounded_text(DEVICE_TEXT_LIMITS["label"]))


def _opt_text(field: str) -> Any:
    return vol.Any(None, bounded_text(DEVICE_TEXT_LIMITS[field]))


DEVICE_FIELDS: dict[str, Any] = {
    "label": OPT_TEXT,
    "protocol": _opt_text("protocol"),
    "ui_class": _opt_text("ui_class"),
    "online": OPT_BOOL,
    "rssi": vol.Any(None, vol.All(finite_number, vol.Range(min=0, max=100))),
    "rssi_level": _opt_text("rssi_level"),
    "battery": vol.Any(None, bounded_text(DEVICE_TEXT_LIMITS["battery"]), finite_number),
    "defect": _opt_text("defect"),
    # A cover's closure in percent (0 open, 100 closed).
    "position": vol.Any(None, vol.All(Int, vol.Range(min=0, max=100))),
    "editable": json_value(),
}
DEVICE_URL = bounded_text(DEVICE_TEXT_LIMITS["url"])
DEVICE = device_values(DEVICE_FIELDS, DEVICE_URL)
CHANGES = device_values(DEVICE_FIELDS)


def _known_devices(payload: dict[str, Any]) -> dict[str, Any]:
    """The devices of a snapshot with a valid URL; the others are counted, not refused."""
    devices = []
    for item in payload["devices"]:
        try:
            devices.append(DEVICE(item))
        except vol.Invalid:
            continue
    dropped = len(payload["devices"]) - len(devices)
    payload = {**payload, "devices": devices}
    if dropped:
        payload[DROPPED_DEVICES] = dropped
    return payload


BOX = vol.Schema(
    {
        vol.Optional("online"): OPT_BOOL,
        vol.Optional("activated"): OPT_BOOL,
        vol.Optional("up_to_date"): OPT_BOOL,
        vol.Optional("firmware"): _opt_text("firmware"),
    },
    extra=vol.REMOVE_EXTRA,
)
WINDOW = vol.Schema(
    {vol.Required("until"): iso_time, vol.Required("kinds"): [bounded_text(40)]},
    extra=vol.REMOVE_EXTRA,
)

_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(value: str | None) -> bool:
    """A snapshot's digest, not a connection's mark (``pending:...``) nor nothing."""
    return value is not None and _DIGEST.fullmatch(value) is not None


def _digest_step(value: Any) -> dict[str, str] | None:
    """A ``device_update``'s snapshot digests before and after it; None if not both valid.

    An odd value costs only the digest (the next snapshot is applied), never the change.
    """
    if type(value) is not dict:
        return None
    before, after = value.get("from"), value.get("to")
    if type(before) is not str or type(after) is not str:
        return None
    if not (is_digest(before) and is_digest(after)):
        return None
    return {"from": before, "to": after}


def next_digest(known: str | None, payload: dict[str, Any]) -> str | None:
    """The snapshot digest that holds once a ``device_update`` is applied.

    Home Assistant names the snapshot its change leads from and to. The portal holds the
    state ``to`` describes only if it held ``from``'s: a frame lost, refused or applied out of
    order in between breaks the chain, and the next snapshot is applied whole.
    """
    step = payload.get("digest")
    if known is None or step is None or step["from"] != known:
        return None
    return str(step["to"])


PAYLOADS: dict[str, vol.Schema] = {
    "hello": vol.Schema(
        {
            vol.Required("integration_version"): bounded_text(40),
            vol.Required("pin"): bounded_text(20),
            vol.Required("monitoring"): Bool,
            vol.Optional("window"): vol.Any(None, WINDOW),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "snapshot": vol.Schema(
        vol.All(
            vol.Schema(
                {
                    vol.Required("box"): BOX,
                    vol.Required("devices"): vol.All(
                        list, vol.Length(max=MAX_SNAPSHOT_PART_DEVICES)
                    ),
                    # A snapshot in parts: all three, or none for a snapshot in one frame.
                    vol.Inclusive("snapshot_id", "parts"): uuid_string,
                    vol.Inclusive("part", "parts"): vol.All(
                        Int, vol.Range(min=0, max=MAX_SNAPSHOT_PARTS - 1)
                    ),
                    vol.Inclusive("parts", "parts"): vol.All(
                        Int, vol.Range(min=1, max=MAX_SNAPSHOT_PARTS)
                    ),
                },
                extra=vol.REMOVE_EXTRA,
            ),
            _part_in_range,
            _known_devices,
        )
    ),
    "device_update": vol.Schema(
        {
            vol.Required("url"): DEVICE_URL,
            vol.Required("changes"): CHANGES,
            vol.Optional("digest"): _digest_step,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "alert": vol.Schema(
        {
            vol.Required("alert_id"): vol.All(Str, vol.Length(min=1, max=100)),
            vol.Optional("device_url"): _opt_text("url"),
            vol.Optional("device_label"): OPT_TEXT,
            vol.Required("type"): vol.All(Str, vol.Length(min=1, max=40)),
            vol.Required("active"): Bool,
            vol.Required("at"): iso_time,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "consent": vol.Schema(
        {
            vol.Optional("request_id"): vol.Any(None, bounded_text(36)),
            vol.Required("monitoring"): vol.All(Str, vol.In(CONSENT_STATES)),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "window": vol.Schema(
        {
            vol.Optional("request_id"): vol.Any(None, bounded_text(36)),
            vol.Required("state"): vol.All(Str, vol.In(WINDOW_STATES)),
            vol.Optional("until"): vol.Any(None, iso_time),
            vol.Optional("kinds"): vol.Any(None, [bounded_text(40)]),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "action_result": vol.Schema(
        {
            vol.Required("action_id"): bounded_text(36),
            vol.Required("ok"): Bool,
            vol.Optional("error"): vol.Any(None, bounded_text(500)),
            vol.Required("at"): iso_time,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    "unlinked": vol.Schema({}, extra=vol.REMOVE_EXTRA),
    "ack": vol.Schema({vol.Required("id"): uuid_string}, extra=vol.REMOVE_EXTRA),
    "error": vol.Schema(
        {
            vol.Required("code"): bounded_text(MAX_ERROR_CODE),
            vol.Required("message"): bounded_text(MAX_ERROR_MESSAGE),
            vol.Optional("ref"): vol.Any(None, bounded_text(MAX_ID_LENGTH)),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    **CENTRE_PAYLOADS,
}


def _no_constant(name: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (RFC 8259), whatever Python's decoder allows."""
    raise ValueError(f"{name} is not JSON")


def snapshot_digest(payload: dict[str, Any]) -> str:
    """What a snapshot says, as a digest: its fields but the id shared by its parts.

    Computed on the payload as received, before validation: equal digests are equal frames,
    so a snapshot equal to one validated and applied already needs neither again.
    """
    said = {key: value for key, value in payload.items() if key != "snapshot_id"}
    text = json.dumps(said, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_frame(text: str | bytes, known_snapshot: str | None = None) -> Frame:
    """Validate one text message from Home Assistant (raises :class:`FrameError`).

    ``known_snapshot``: the digest of the snapshot last applied for the connection's
    installation; a snapshot saying the same comes back ``unchanged``, unvalidated.
    """
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        raise FrameError("too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise FrameError("invalid_json", "the frame is not JSON") from err
    if type(data) is not dict:
        raise FrameError("invalid_frame", "the frame must be a JSON object")
    ref = data.get("id") if type(data.get("id")) is str else None
    ref = ref[:36] if ref else None
    if type(data.get("v")) is not int or data["v"] != VERSION:
        raise FrameError("unsupported_version", f"only protocol version {VERSION}", ref)
    try:
        frame_id = uuid_string(data.get("id"))
    except vol.Invalid as err:
        raise FrameError("invalid_frame", "the frame id must be a UUID", None) from err
    kind = data.get("type")
    if type(kind) is not str:
        raise FrameError("invalid_frame", "the frame type must be a string", frame_id)
    if kind not in FROM_HA:
        code = "unexpected_type" if kind in FROM_PORTAL else "unknown_type"
        raise FrameError(code, f"frame type {kind[:40]!r} is not accepted here", frame_id)
    payload = data.get("payload")
    if type(payload) is not dict:
        raise FrameError("invalid_payload", "the payload must be a JSON object", frame_id)
    digest = None
    if kind == "snapshot":
        digest = snapshot_digest(payload)
        if digest == known_snapshot:
            return Frame(frame_id, kind, payload, digest, unchanged=True)
    try:
        validated = PAYLOADS[kind](payload)
    except vol.Invalid as err:
        raise FrameError(
            "invalid_payload", f"invalid {kind} payload: {err}"[:500], frame_id
        ) from err
    return Frame(frame_id, kind, validated, digest)


def new_frame_id() -> str:
    """A fresh frame id."""
    return str(uuid.uuid4())


def encode(kind: str, payload: dict[str, Any], frame_id: str | None = None) -> str:
    """One frame of the portal as JSON text."""
    return json.dumps(
        {"v": VERSION, "id": frame_id or new_frame_id(), "type": kind, "payload": payload},
        separators=(",", ":"),
        default=str,
    )


def bounded_list(
    kind: str, payload: dict[str, Any], key: str, limit: int = MAX_FRAME_BYTES
) -> dict[str, Any]:
    """``payload`` with as many of the items of its list ``key`` as fit in one frame.

    Home Assistant refuses frames larger than it accepts: a list that can grow (the actions
    of an intervention) keeps its first items, and ``omitted`` says how many were left out.
    """
    items = list(payload[key])

    def fits(count: int) -> bool:
        trimmed = {**payload, key: items[:count], "omitted": len(items) - count}
        return len(encode(kind, trimmed, new_frame_id())) <= limit

    if fits(len(items)):
        return payload
    low, high = 0, len(items)  # fits(low) and not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return {**payload, key: items[:low], "omitted": len(items) - low}


def error_frame(code: str, message: str, ref: str | None = None) -> str:
    """An ``error`` frame."""
    payload: dict[str, Any] = {
        "code": code[:MAX_ERROR_CODE],
        "message": message[:MAX_ERROR_MESSAGE],
    }
    if ref:
        payload["ref"] = ref[:MAX_ID_LENGTH]
    return encode("error", payload)


def ack_frame(frame_id: str) -> str:
    """An ``ack`` frame for ``frame_id``."""
    return encode("ack", {"id": frame_id})
