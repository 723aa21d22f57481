"""Frames of the Home Assistant <-> portal channel (protocol version 1, docs/protocol.md).

Every frame is ``{"v": 1, "id": "<uuid>", "type": "...", "payload": {...}}`` in a JSON text
message of at most 64 KiB. Frames received are validated here; anything that does not fit
raises ``FrameError`` with the ``code`` answered to the peer in an ``error`` frame.
"""

from __future__ import annotations

import json
from typing import Any, Final
import uuid

import voluptuous as vol

from . import centre_values as centre, subscription_values

PROTOCOL_VERSION: Final = 1
MAX_FRAME_BYTES: Final = 64 * 1024

# Frame types.
HELLO: Final = "hello"
WELCOME: Final = "welcome"
SNAPSHOT: Final = "snapshot"
DEVICE_UPDATE: Final = "device_update"
ALERT: Final = "alert"
CONSENT: Final = "consent"
REQUEST_MONITORING: Final = "request_monitoring"
REQUEST_REMOTE_SERVICE: Final = "request_remote_service"
WINDOW: Final = "window"
ACTION: Final = "action"
ACTION_RESULT: Final = "action_result"
INTERVENTION_ENDED: Final = "intervention_ended"
UNLINKED: Final = "unlinked"
CENTRE_SUBSCRIPTION: Final = "centre_subscription"
CENTRE_ALARM: Final = "centre_alarm"
CENTRE_OWNER: Final = "centre_owner"
CENTRE_CASE: Final = "centre_case"
TICKETS: Final = "tickets"
CUSTOMER_MESSAGE: Final = "customer_message"
SERVICES: Final = "services"
ACK: Final = "ack"
ERROR: Final = "error"

# Frames the receiver acknowledges, and the sender keeps until then.
ACKED_TYPES: Final = frozenset(
    {
        ALERT,
        CONSENT,
        REQUEST_MONITORING,
        REQUEST_REMOTE_SERVICE,
        WINDOW,
        ACTION,
        ACTION_RESULT,
        INTERVENTION_ENDED,
        CENTRE_SUBSCRIPTION,
        CENTRE_ALARM,
        CENTRE_OWNER,
        CENTRE_CASE,
        TICKETS,
        CUSTOMER_MESSAGE,
        SERVICES,
    }
)

# Error codes answered to the peer.
ERROR_TOO_LARGE: Final = "too_large"
ERROR_MALFORMED: Final = "malformed"
ERROR_UNKNOWN_TYPE: Final = "unknown_type"
ERROR_INVALID_PAYLOAD: Final = "invalid_payload"
ERROR_UNSUPPORTED: Final = "unsupported"

# Limits both ends hold to (the portal's validator has the same; the contract test checks).
MAX_ID_LENGTH: Final = 36  # request and action ids: UUIDs, echoed back to the portal
MAX_ERROR_CODE: Final = 100
MAX_ERROR_MESSAGE: Final = 1000
# A snapshot too big for one frame goes in parts (docs/protocol.md, "snapshot"): each part
# holds at most this many devices, and one snapshot at most this many parts.
MAX_SNAPSHOT_PART_DEVICES: Final = 250
MAX_SNAPSHOT_PARTS: Final = 64
# Room left under MAX_FRAME_BYTES by each part, so a part never sits exactly at the limit.
SNAPSHOT_MARGIN_BYTES: Final = 1024
# The longest texts of a device (and the box's firmware) the portal takes: cut to fit.
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


def _uuid(value: Any) -> str:
    """A UUID in its usual 36-character form, returned as sent (acks echo it)."""
    if type(value) is not str or len(value) != 36:
        raise vol.Invalid("expected a UUID")
    try:
        parsed = uuid.UUID(value)
    except ValueError as err:
        raise vol.Invalid("expected a UUID") from err
    if str(parsed) != value.lower():
        raise vol.Invalid("expected a UUID")
    return value


def _version(value: Any) -> int:
    """The protocol version: the JSON integer 1 (not ``true``, not ``1.0``)."""
    if type(value) is not int or value != PROTOCOL_VERSION:
        raise vol.Invalid(f"only protocol version {PROTOCOL_VERSION}")
    return value


def _ref(value: Any) -> str | int:
    """An id chosen by the portal: a non-empty text or an integer (not a boolean)."""
    if type(value) is int or (type(value) is str and 1 <= len(value) <= 100):
        return value
    raise vol.Invalid("expected an id")


def _text(max_length: int, min_length: int = 0) -> Any:
    return vol.All(str, vol.Length(min=min_length, max=max_length))


def _int(minimum: int, maximum: int | None = None) -> Any:
    """A JSON integer (not a boolean) in range."""

    def check(value: Any) -> int:
        if type(value) is not int or value < minimum or (maximum is not None and value > maximum):
            raise vol.Invalid("expected an integer in range")
        return value

    return check


def _one_of(*values: str | None) -> Any:
    """Exactly one of ``values`` (a text, or None when it is one of them)."""

    def check(value: Any) -> str | None:
        if (value is not None and type(value) is not str) or value not in values:
            raise vol.Invalid(f"expected one of {values}")
        return value

    return check


_TIME = _text(40, min_length=10)


_REQUEST_ID = _text(MAX_ID_LENGTH, min_length=1)

# The homeowner's tickets (``tickets``) and their company's messages (``customer_message``).
MAX_TICKETS: Final = 50
TICKET_KINDS: Final = ("contact", "replacement")
TICKET_STATUSES: Final = ("new", "in_progress", "waiting", "resolved", "closed")
TICKET_TEXT_LIMITS: Final = {
    "number": 20,
    "description": 200,
    "name": 200,
    "comment": 1000,
    "url": 300,
    "message": 4000,
}
_TICKET = vol.Schema(
    {
        vol.Required("number"): _text(TICKET_TEXT_LIMITS["number"], min_length=1),
        vol.Required("kind"): _one_of(*TICKET_KINDS),
        vol.Required("status"): _one_of(*TICKET_STATUSES),
        vol.Required("description"): _text(TICKET_TEXT_LIMITS["description"]),
        vol.Required("assignee"): vol.Any(None, _text(TICKET_TEXT_LIMITS["name"])),
        vol.Required("comment"): vol.Any(
            None,
            vol.Schema(
                {
                    vol.Required("id"): _int(1),
                    vol.Required("author"): _text(TICKET_TEXT_LIMITS["name"]),
                    vol.Required("text"): _text(TICKET_TEXT_LIMITS["comment"]),
                    vol.Required("at"): _TIME,
                },
                extra=vol.REMOVE_EXTRA,
            ),
        ),
        vol.Required("updated_at"): _TIME,
        vol.Optional("url"): vol.Any(None, _text(TICKET_TEXT_LIMITS["url"])),
    },
    extra=vol.REMOVE_EXTRA,
)

FRAME_SCHEMA: Final = vol.Schema(
    {
        vol.Required("v"): _version,
        vol.Required("id"): _uuid,
        vol.Required("type"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("payload"): dict,
    },
    extra=vol.ALLOW_EXTRA,
)


_HEX: Final = frozenset("0123456789abcdef")


def _held_snapshot(value: Any) -> str | None:
    """The digest a welcome says the portal holds; anything else is no digest, not an error.

    An odd value costs Home Assistant nothing but the snapshot it sends anyway.
    """
    if isinstance(value, str) and len(value) == 64 and all(c in _HEX for c in value):
        return value
    return None


_COMPANY = vol.Schema({vol.Required("id"): _ref, vol.Required("name"): str}, extra=vol.ALLOW_EXTRA)
# A company or an installer: a name, or an object with at least a name.
_PARTY = vol.Any(None, str, vol.Schema({vol.Required("name"): str}, extra=vol.ALLOW_EXTRA))

# Payloads of the frames the portal sends to Home Assistant.
INCOMING_PAYLOADS: Final[dict[str, vol.Schema]] = {
    WELCOME: vol.Schema(
        {
            vol.Required("installation_id"): _ref,
            vol.Required("company"): _COMPANY,
            vol.Optional("pending", default=list): [dict],
            vol.Optional("snapshot_digest", default=None): _held_snapshot,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    REQUEST_MONITORING: vol.Schema(
        {
            vol.Required("request_id"): _REQUEST_ID,
            vol.Optional("company"): _PARTY,
            vol.Optional("installer"): _PARTY,
            vol.Optional("at"): vol.Any(None, str),
        },
        extra=vol.ALLOW_EXTRA,
    ),
    REQUEST_REMOTE_SERVICE: vol.Schema({}, extra=vol.ALLOW_EXTRA),
    ACTION: vol.Schema({vol.Optional("action_id"): _text(MAX_ID_LENGTH)}, extra=vol.ALLOW_EXTRA),
    INTERVENTION_ENDED: vol.Schema({}, extra=vol.ALLOW_EXTRA),
    CENTRE_CASE: vol.Schema(
        {
            vol.Required("case_id"): _int(1),
            vol.Required("seq"): _int(0),
            vol.Required("kind"): _one_of(*centre.CENTRE_KINDS),
            vol.Required("status"): _one_of("open", "closed"),
            vol.Required("phase"): _one_of(*centre.PHASES),
            vol.Required("round"): _int(1, 2),
            vol.Required("reached"): _one_of(None, *centre.REACHED),
            vol.Required("guard"): _one_of(*centre.GUARDS),
            vol.Required("outcome"): _one_of(None, *centre.OUTCOMES),
            vol.Required("last_action"): _one_of(*centre.ACTIONS),
            vol.Required("actor"): _one_of(*centre.ACTORS),
            vol.Required("at"): _TIME,
            vol.Required("deadline"): vol.Any(None, _TIME),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    TICKETS: vol.Schema(
        {
            vol.Required("at"): _TIME,
            vol.Required("tickets"): vol.All([_TICKET], vol.Length(max=MAX_TICKETS)),
            vol.Optional("omitted"): _int(0),
        },
        extra=vol.REMOVE_EXTRA,
    ),
    CUSTOMER_MESSAGE: vol.Schema(
        {
            vol.Required("message_id"): _int(1),
            vol.Required("sender"): _text(TICKET_TEXT_LIMITS["name"]),
            vol.Required("body"): _text(TICKET_TEXT_LIMITS["message"], min_length=1),
            vol.Required("at"): _TIME,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    # The homeowner's support plan and services.
    SERVICES: subscription_values.PAYLOAD,
    # Frames both ends send: read alike on both ends.
    UNLINKED: vol.Schema({}, extra=vol.REMOVE_EXTRA),
    ACK: vol.Schema({vol.Required("id"): _uuid}, extra=vol.REMOVE_EXTRA),
    ERROR: vol.Schema(
        {
            vol.Required("code"): _text(MAX_ERROR_CODE),
            vol.Required("message"): _text(MAX_ERROR_MESSAGE),
            vol.Optional("ref"): vol.Any(None, _text(MAX_ID_LENGTH)),
        },
        extra=vol.REMOVE_EXTRA,
    ),
}


class FrameError(Exception):
    """A frame that cannot be accepted; ``code`` is answered to the peer."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        """Remember what to answer."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


def new_frame(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A frame with a fresh id."""
    return {"v": PROTOCOL_VERSION, "id": str(uuid.uuid4()), "type": frame_type, "payload": payload}


def error_frame(code: str, message: str, ref: str | None = None) -> dict[str, Any]:
    """An ``error`` frame (``ref``: the id of the frame it answers, when known)."""
    payload: dict[str, Any] = {"code": code, "message": message[:MAX_ERROR_MESSAGE]}
    if ref is not None:
        payload["ref"] = ref[:MAX_ID_LENGTH]
    return new_frame(ERROR, payload)


def encode(frame: dict[str, Any]) -> str:
    """JSON text of a frame."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def _size(value: Any) -> int:
    return len(encode(value).encode("utf-8"))


def part_budget(box: dict[str, Any]) -> int:
    """Bytes a snapshot part has for its devices (each device's encoding and a comma)."""
    # The frame with no device and the widest part numbers: what every part costs anyway.
    empty = new_frame(
        SNAPSHOT,
        {
            "box": box,
            "devices": [],
            "part": MAX_SNAPSHOT_PARTS - 1,
            "parts": MAX_SNAPSHOT_PARTS,
            "snapshot_id": str(uuid.UUID(int=0)),
        },
    )
    return MAX_FRAME_BYTES - SNAPSHOT_MARGIN_BYTES - _size(empty)


def snapshot_frames(box: dict[str, Any], devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``snapshot`` frames of one snapshot: as many parts as needed, each under the limit.

    Each device is encoded and measured (its size depends on its texts), then devices fill
    parts in order while the encoded part stays under the limit less a margin. All parts share
    one ``snapshot_id``: the portal replaces the device list only once it has every part.
    """
    snapshot_id = str(uuid.uuid4())
    budget = part_budget(box)
    groups: list[list[dict[str, Any]]] = [[]]
    used = 0
    for device in devices:
        size = _size(device) + 1  # and the comma that separates it from the previous one
        if groups[-1] and (used + size > budget or len(groups[-1]) >= MAX_SNAPSHOT_PART_DEVICES):
            groups.append([])
            used = 0
        groups[-1].append(device)
        used += size
    if len(groups) > MAX_SNAPSHOT_PARTS:
        # Far beyond what a box holds; the portal would refuse the whole snapshot otherwise.
        groups = groups[:MAX_SNAPSHOT_PARTS]
    return [
        new_frame(
            SNAPSHOT,
            {
                "box": box,
                "devices": group,
                "part": index,
                "parts": len(groups),
                "snapshot_id": snapshot_id,
            },
        )
        for index, group in enumerate(groups)
    ]


def fit(field: str, value: Any) -> Any:
    """``value`` cut to what the portal takes for ``field`` (texts of ``DEVICE_TEXT_LIMITS``)."""
    limit = DEVICE_TEXT_LIMITS.get(field)
    return value[:limit] if isinstance(value, str) and limit is not None else value


def party_name(value: Any) -> str | None:
    """The name of a company or installer given as a name or an object with a name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])
    return None


def _no_constant(name: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (RFC 8259), whatever Python's decoder allows."""
    raise ValueError(f"{name} is not JSON")


def parse(text: str) -> dict[str, Any]:
    """Validate a received text message; return the frame with its validated payload."""
    if len(text.encode("utf-8")) > MAX_FRAME_BYTES:
        raise FrameError(ERROR_TOO_LARGE, f"frame larger than {MAX_FRAME_BYTES} bytes")
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        # Nesting deep enough for the decoder's recursion limit fits in 64 KiB.
        raise FrameError(ERROR_MALFORMED, "not JSON") from err
    return validate(raw)


def validate(raw: Any) -> dict[str, Any]:
    """Validate a decoded frame; return it with its validated payload."""
    ref = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    try:
        frame: dict[str, Any] = FRAME_SCHEMA(raw)
    except vol.Invalid as err:
        raise FrameError(ERROR_MALFORMED, f"not a frame: {err}", ref) from err
    schema = INCOMING_PAYLOADS.get(frame["type"])
    if schema is None:
        raise FrameError(ERROR_UNKNOWN_TYPE, f"unknown frame type {frame['type']!r}", ref)
    try:
        frame["payload"] = schema(frame["payload"])
    except vol.Invalid as err:
        raise FrameError(
            ERROR_INVALID_PAYLOAD, f"invalid {frame['type']} payload: {err}", ref
        ) from err
    return frame
