"""Both ends agree: Home Assistant and the portal read one corpus alike (``tests/contract``).

The integration and the portal are separate code (the integration ships alone), each with
its own validators, parsers and limits. This runs the shared corpus through both, checks
what each end builds against the other's validator, and compares their declared limits.
Home Assistant decides; the portal's checks only answer the installer sooner, so they must
refuse exactly what Home Assistant refuses.

Over 400 lines in one file: every check runs over the same corpus and the same two ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
import random
from typing import Any
from unittest.mock import create_autospec

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from companion_server.errors import ValidationFailed
from companion_server.hub import protocol
from companion_server.hub.api import HARD_MAX_MESSAGE
from companion_server.hub.frame_values import DROPPED_DEVICES, INVALID_FIELDS
from companion_server.interventions import codes, rules as portal_actions
from companion_server.interventions.values import parameter_value
from companion_server.models import Device as PortalDevice
from custom_components.somfy_pro import (
    action_checks,
    parameters,
    portal_frames as frames,
    remote_code,
    remote_window,
)
from custom_components.somfy_pro.audit import AuditLog
from custom_components.somfy_pro.box_api import BoxClient, Device
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.coordinator import SomfyProCoordinator
from custom_components.somfy_pro.installer_actions import InstallerActions, request_issue_id
from custom_components.somfy_pro.portal_monitoring import device_payload
from custom_components.somfy_pro.portal_socket import MAX_MESSAGE_BYTES
from custom_components.somfy_pro.remote_service import RemoteService
from custom_components.somfy_pro.snapshot_digest import snapshot_digest
from tests.contract import frames as corpus, inputs

CASES = corpus.cases()
LINK = {"company_id": "7", "company_name": "Acme"}


def actions_of(hass: HomeAssistant, entry: MockConfigEntry) -> InstallerActions:
    """The installer actions of an entry not set up (they refuse before any box work)."""
    return InstallerActions(
        hass,
        entry,
        create_autospec(BoxClient, instance=True),
        create_autospec(SomfyProCoordinator, instance=True),
        create_autospec(RemoteService, instance=True),
    )


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """A linked entry, not set up: what the frame handlers read before any box work."""
    entry = MockConfigEntry(domain=DOMAIN, title="Home", data={"portal": LINK})
    entry.add_to_hass(hass)
    return entry


async def ha_reads(hass: HomeAssistant, entry: MockConfigEntry, text: str) -> Any:
    """The payload Home Assistant accepts from ``text``, or None when it refuses it."""
    try:
        frame = frames.parse(text)
    except frames.FrameError:
        return None
    if frame["type"] == frames.REQUEST_REMOTE_SERVICE:
        try:
            actions_of(hass, entry).async_handle_request_remote_service(frame["payload"])
        except ValueError:
            return None
    return frame["payload"]


def portal_reads(text: str) -> Any:
    """The payload the portal accepts from ``text``, or None when it refuses it."""
    try:
        return protocol.parse_frame(text).payload
    except protocol.FrameError:
        return None


# -- frames -------------------------------------------------------------------------------


def test_the_corpus_covers_every_frame_type() -> None:
    """A frame type added on either end fails here until the corpus covers it."""
    to_ha = {t for t, ends in corpus.RECEIVERS.items() if corpus.HA in ends}
    to_portal = {t for t, ends in corpus.RECEIVERS.items() if corpus.PORTAL in ends}
    assert set(frames.INCOMING_PAYLOADS) == to_ha
    assert set(protocol.PAYLOADS) == set(protocol.FROM_HA) == to_portal
    assert set(protocol.FROM_PORTAL) == to_ha
    assert frames.ACKED_TYPES == protocol.ACKED
    assert set(corpus.PAYLOADS) == set(corpus.RECEIVERS)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_frame(hass: HomeAssistant, entry: MockConfigEntry, case: corpus.FrameCase) -> None:
    """Each receiver of the frame accepts or refuses it as the corpus says, and alike."""
    read: dict[str, Any] = {}
    if corpus.HA in case.receivers:
        read[corpus.HA] = await ha_reads(hass, entry, case.text)
    if corpus.PORTAL in case.receivers:
        read[corpus.PORTAL] = portal_reads(case.text)
    verdicts = {end: payload is not None for end, payload in read.items()}
    if case.accepted is not None:
        assert verdicts == dict.fromkeys(read, case.accepted)
    assert len(set(verdicts.values())) == 1, verdicts
    assert len({json.dumps(p, sort_keys=True, default=str) for p in read.values()}) == 1, read


DEVICE_CASES = [
    case for case in CASES if case.type in ("snapshot", "device_update") and case.accepted
]


@pytest.mark.parametrize("case", DEVICE_CASES, ids=[case.name for case in DEVICE_CASES])
def test_values_left_out(case: corpus.FrameCase) -> None:
    """A device's bad value is left out and named; the rest of the frame is kept."""
    payload = portal_reads(case.text)
    assert payload is not None
    sent = json.loads(case.text)["payload"]
    devices = payload["devices"] if case.type == "snapshot" else [payload["changes"]]
    kept: list[list[str]] = [[] for _ in devices]
    expected = corpus.LEFT_OUT.get(case.name, kept)
    assert [sorted(d.get(INVALID_FIELDS, [])) for d in devices] == expected
    for device, fields in zip(devices, expected, strict=True):
        assert not set(fields) & device.keys()
    assert payload.get(DROPPED_DEVICES, 0) == corpus.DEVICES_LEFT_OUT.get(case.name, 0)
    if case.type == "snapshot":
        assert len(devices) + payload.get(DROPPED_DEVICES, 0) == len(sent["devices"])


def test_left_out_cases_exist() -> None:
    """Every case the table of values left out names is in the corpus."""
    names = {case.name for case in DEVICE_CASES}
    assert set(corpus.LEFT_OUT) <= names
    assert set(corpus.DEVICES_LEFT_OUT) <= names


@pytest.mark.parametrize("frame_type", sorted(corpus.RECEIVERS))
async def test_frames_of_the_other_direction_are_refused(
    hass: HomeAssistant, entry: MockConfigEntry, frame_type: str
) -> None:
    """A valid frame sent the wrong way is refused by the end that does not receive it."""
    _, payload, _ = next(c for c in corpus.PAYLOADS[frame_type] if c[2])
    text = corpus.text(frame_type, payload)
    if corpus.HA not in corpus.RECEIVERS[frame_type]:
        assert await ha_reads(hass, entry, text) is None
    if corpus.PORTAL not in corpus.RECEIVERS[frame_type]:
        assert portal_reads(text) is None


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_answers_are_accepted(
    hass: HomeAssistant, entry: MockConfigEntry, case: corpus.FrameCase
) -> None:
    """Whatever one end answers to a frame (error, consent, window, action_result) the other takes.

    An answer the peer refused would stay unacknowledged, resent at every reconnection.
    """
    if corpus.HA in case.receivers:
        try:
            frame = frames.parse(case.text)
        except frames.FrameError as err:
            answer = frames.encode(frames.error_frame(err.code, err.message + "!" * 2000, err.ref))
            assert portal_reads(answer) is not None
        else:
            for answer in await _ha_answers(hass, entry, frame):
                assert portal_reads(frames.encode(answer)) is not None, answer
    if corpus.PORTAL in case.receivers:
        try:
            protocol.parse_frame(case.text)
        except protocol.FrameError as err:
            answer = protocol.error_frame(err.code, err.message + "!" * 2000, err.ref)
            assert await ha_reads(hass, entry, answer) is not None


async def _ha_answers(
    hass: HomeAssistant, entry: MockConfigEntry, frame: dict[str, Any]
) -> list[dict[str, Any]]:
    """What Home Assistant sends back for a frame it accepted.

    The window frames come from its own RemoteService; the consent is built as
    the portal monitoring builds it (the request id it stored, as text).
    """
    payload = frame["payload"]
    answers = []
    if frame["type"] in frames.ACKED_TYPES:
        answers.append(frames.new_frame(frames.ACK, {"id": frame["id"]}))
    if frame["type"] == frames.REQUEST_MONITORING:
        consent = {"request_id": str(payload["request_id"]), "monitoring": "granted"}
        answers.append(frames.new_frame(frames.CONSENT, consent))
    if frame["type"] == frames.REQUEST_REMOTE_SERVICE:
        try:
            actions_of(hass, entry).async_handle_request_remote_service(payload)
        except ValueError as err:
            answers.append(frames.error_frame(frames.ERROR_INVALID_PAYLOAD, str(err), frame["id"]))
        else:
            answers += _window_answers(hass, entry)
    if frame["type"] == frames.ACTION:
        result = await actions_of(hass, entry).async_handle_action(payload)
        answers.append(frames.new_frame(frames.ACTION_RESULT, result))
    return answers


def _window_answers(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    """The ``window`` frames of granting, then declining, the request the repair issue holds."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, request_issue_id(entry.entry_id))
    assert issue is not None and issue.data is not None
    data = issue.data
    installer = remote_window.linked_installer(entry)
    assert installer is not None
    remote = RemoteService(hass, entry.entry_id, AuditLog(hass, entry.entry_id))
    # As the repair flow does with the request's duration and kinds.
    hours = min(max(float(data["hours"]), remote_window.MIN_HOURS), remote_window.MAX_HOURS)
    kinds = str(data["kinds"]).split(",")
    remote.async_grant(installer, hours, kinds, str(data["request_id"]), str(data["installer"]))
    remote.async_revoke()
    remote.async_decline(str(data["request_id"]), {})
    remote.async_unload()
    held = remote.async_release_held()
    assert [payload["state"] for _, payload in held] == ["granted", "revoked", "declined"]
    return [frames.new_frame(kind, payload) for kind, payload in held]


def _device(**fields: Any) -> Device:
    base: dict[str, Any] = {
        "url": "io://1234-5678-9012/12345678",
        "label": "Living room",
        "controllable_name": "io:RollerShutterGenericIOComponent",
        "ui_class": "RollerShutter",
        "widget": "PositionableRollerShutter",
        "available": True,
        "states": {"core:Memorized1PositionState": 50},
    }
    return Device(**(base | fields))


EDGE_DEVICES = {
    "plain": _device(),
    "long-texts": _device(
        url="io://1234-5678-9012/" + "1" * 400,
        label="L" * 1000,
        ui_class="U" * 150,
        states={
            "core:NameState": "N" * 1000,
            "core:DiscreteRSSILevelState": "r" * 50,
            "core:BatteryState": "b" * 50,
            "core:SensorDefectState": "d" * 50,
            "core:Memorized1PositionState": 50,
        },
    ),
    "long-protocol": _device(url="p" * 30 + "://1234-5678-9012/1"),
    "numbers-out-of-range": _device(
        states={
            "core:RSSILevelState": 150,
            "core:ClosureState": -5,
            "core:BatteryLevelState": 10**40,
            "core:Memorized1PositionState": 500,
        }
    ),
    "numbers-odd": _device(
        states={
            "core:RSSILevelState": float("inf"),
            "core:ClosureState": "\u0665\u0660",
            "core:BatteryLevelState": float("nan"),
        }
    ),
    "numbers-as-text": _device(states={"core:RSSILevelState": "80", "core:ClosureState": "40"}),
    "rssi-dbm": _device(states={"core:RSSILevelState": -55, "core:DiscreteRSSILevelState": "good"}),
    "rssi-decimals": _device(states={"core:RSSILevelState": 45.908}),
    "rts": _device(url="rts://1234-5678-9012/1", ui_class="Awning"),
}


@pytest.mark.parametrize("device", EDGE_DEVICES.values(), ids=EDGE_DEVICES)
def test_device_payloads_are_accepted(device: Device) -> None:
    """What Home Assistant says of any product, the portal takes (else the snapshot is lost)."""
    payload = device_payload(device)
    snapshot = frames.new_frame(frames.SNAPSHOT, {"box": {}, "devices": [payload]})
    read = portal_reads(frames.encode(snapshot))
    assert read is not None
    # Nothing Home Assistant sends is left out by the portal: a radio level, even in dBm, is
    # sent as 0-100.
    assert read["devices"][0] == payload
    # Both ends digest a snapshot alike, odd texts and numbers included.
    sent = json.loads(frames.encode(snapshot))["payload"]
    assert snapshot_digest(snapshot["payload"]) == protocol.snapshot_digest(sent)
    update = {"url": payload["url"], "changes": payload}
    read = portal_reads(frames.encode(frames.new_frame(frames.DEVICE_UPDATE, update)))
    assert read is not None
    assert INVALID_FIELDS not in read["changes"]
    alert = {
        "alert_id": corpus.OTHER_ID,
        "device_url": frames.fit("url", device.url),
        "device_label": frames.fit("label", device.label),
        "type": "intrusion",
        "active": True,
        "at": datetime.now(UTC).isoformat(),
    }
    assert portal_reads(frames.encode(frames.new_frame(frames.ALERT, alert))) is not None


def _widest(number: int) -> dict[str, Any]:
    """A product payload with every text at its limit."""
    payload = device_payload(EDGE_DEVICES["long-texts"])
    url = f"io://1234-5678-9012/{number}/"
    return payload | {
        "url": url + "u" * (frames.DEVICE_TEXT_LIMITS["url"] - len(url)),
        "label": "é" * frames.DEVICE_TEXT_LIMITS["label"],
    }


@pytest.mark.parametrize(
    "devices",
    [
        [],
        [_widest(n) for n in range(600)],
        [{"url": f"io://b/{n}"} for n in range(1000)],
    ],
    ids=["no-product", "widest-products", "many-small-products"],
)
def test_snapshot_parts_are_accepted(devices: list[dict[str, Any]]) -> None:
    """Home Assistant's parts each fit in a frame the portal takes, and together list all."""
    box = {"online": True, "firmware": "f" * frames.DEVICE_TEXT_LIMITS["firmware"]}
    parts = frames.snapshot_frames(box, devices)
    listed: list[dict[str, Any]] = []
    for index, frame in enumerate(parts):
        text = frames.encode(frame)
        assert len(text.encode()) <= frames.MAX_FRAME_BYTES - frames.SNAPSHOT_MARGIN_BYTES
        payload = portal_reads(text)
        assert payload is not None
        assert (payload["part"], payload["parts"]) == (index, len(parts))
        assert payload["snapshot_id"] == parts[0]["payload"]["snapshot_id"]
        listed += frame["payload"]["devices"]
    assert listed == devices


def test_portal_builders_are_accepted(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The portal's own frames (ack, error, any type it encodes) pass Home Assistant's check."""
    assert frames.parse(protocol.ack_frame(protocol.new_frame_id()))["type"] == "ack"
    long_error = protocol.error_frame("x" * 300, "m" * 5000, "r" * 100)
    assert frames.parse(long_error)["payload"]["message"] == "m" * 1000
    unlinked = protocol.encode("unlinked", {})
    assert frames.parse(unlinked)["payload"] == {}


# -- limits ---------------------------------------------------------------------------------


def test_declared_limits_agree() -> None:
    """The limits both ends declare as constants are the same numbers."""
    assert frames.PROTOCOL_VERSION == protocol.VERSION == 1
    assert frames.MAX_FRAME_BYTES == protocol.MAX_FRAME_BYTES == corpus.MAX_FRAME_BYTES
    # A frame over the limit is answered with an error, not a closed connection.
    assert MAX_MESSAGE_BYTES >= frames.MAX_FRAME_BYTES
    assert HARD_MAX_MESSAGE >= protocol.MAX_FRAME_BYTES
    assert frames.MAX_ID_LENGTH == protocol.MAX_ID_LENGTH
    assert frames.MAX_ERROR_CODE == protocol.MAX_ERROR_CODE
    assert frames.MAX_ERROR_MESSAGE == protocol.MAX_ERROR_MESSAGE
    assert frames.DEVICE_TEXT_LIMITS == protocol.DEVICE_TEXT_LIMITS
    assert (
        frames.MAX_SNAPSHOT_PART_DEVICES
        == protocol.MAX_SNAPSHOT_PART_DEVICES
        == corpus.MAX_SNAPSHOT_PART_DEVICES
    )
    assert frames.MAX_SNAPSHOT_PARTS == protocol.MAX_SNAPSHOT_PARTS == corpus.MAX_SNAPSHOT_PARTS
    assert action_checks.MAX_PAIR_TARGETS == portal_actions.MAX_PAIR_TARGETS
    assert remote_code.MAX_SCAN == codes.MAX_SCAN
    assert remote_code.LAYOUTS == codes.LAYOUTS
    assert remote_window.KINDS == portal_actions.KINDS
    assert set(portal_actions.WEB_APP_COMMANDS) == action_checks.WEB_APP_COMMANDS
    # The portal asks for whole hours within what Home Assistant grants.
    assert remote_window.MAX_HOURS == portal_actions.MAX_HOURS
    assert remote_window.MIN_HOURS <= 1


# -- installer input --------------------------------------------------------------------


def _ha_scan(typed: str) -> str | None:
    try:
        return action_checks.parse_remote_code(typed)
    except action_checks.ActionRefused as err:
        assert err.code == action_checks.ERROR_UNREADABLE_CODE
        return None


def _portal_scan(typed: str) -> str | None:
    try:
        return codes.parse_scan(typed).address
    except codes.UnreadableCode:
        return None


@pytest.mark.parametrize(("typed", "address"), inputs.SCANS)
def test_scan(typed: str, address: str | None) -> None:
    """A QR scan reads as the same remote on both ends, and the address sent reads as itself."""
    assert _portal_scan(typed) == address
    assert _ha_scan(typed) == address
    if address is not None:
        assert _ha_scan(address) == address


# What readers type: hexadecimal, field names and separators, and the characters layouts
# swap in, in both cases.
_SCAN_ALPHABET = (
    "0123456789ABCDEFabcdefIODRSQWZYMioqwzym:=.-/;|,&?! \t\r\n@#$%^*()é\"'è_çàÖöß\u00b4>"
)


def _generated(alphabet: str, count: int, seed: int) -> list[str]:
    """``count`` texts of up to 30 characters of ``alphabet``, the same at every run."""
    rng = random.Random(seed)
    return ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(count)]


def _generated_scans(count: int, seed: int) -> list[str]:
    """Scans built like real codes, some typed in another layout, some with a typo."""
    rng = random.Random(seed)
    hexa = "0123456789ABCDEFabcdef"
    scans = []
    for _ in range(count):
        address = "".join(rng.choices(hexa, k=rng.randint(5, 9)))
        prefix = rng.choice(["", "IO", "io", "ADDR", "ADDRESS", "SN"])
        field = prefix + rng.choice(["", ":", "=", ".", "-", "/", ">"]) + address
        others = ["SOMFY", "SN:12345678", "ABCDEF12", "TYPE=SITUO", field]
        fields = [field, *rng.sample(others, k=rng.randint(0, 2))]
        rng.shuffle(fields)
        typed = rng.choice([";", "|", ",", " ", "&", "?", "\r\n"]).join(fields)
        if rng.random() < 0.5:
            layout = rng.choice(list(remote_code.LAYOUTS.values()))
            typed = typed.translate({ord(v): k for k, v in layout.items() if len(v) == 1})
        if rng.random() < 0.2:
            at = rng.randrange(len(typed) + 1)
            typed = typed[:at] + rng.choice(_SCAN_ALPHABET) + typed[at:]
        scans.append(typed)
    return scans


def test_generated_scans_read_alike() -> None:
    """Beyond the corpus: generated scans read the same on both ends (most as an address)."""
    scans = _generated_scans(3000, 15) + _generated(_SCAN_ALPHABET, 1000, 15)
    read = [(_ha_scan(typed), _portal_scan(typed)) for typed in scans]
    assert [typed for typed, (ha, portal) in zip(scans, read, strict=True) if ha != portal] == []
    assert sum(ha is not None for ha, _ in read) > len(scans) / 4


def test_generated_names_are_checked_alike() -> None:
    """Any name the installer types is refused by the portal exactly when Home Assistant would."""
    alphabet = "aZ09 é日\u0665\t\n\r\x00\x1f\x7f\u0085\u00a0\u2028"
    parameter = parameters.PARAMETER_LABEL
    for typed in _generated(alphabet, 2000, 16) + ["a" * n for n in (63, 64, 65)]:
        try:
            sent: int | str | None = parameter_value(parameter.as_dict(), typed)
        except ValidationFailed:
            sent = None
        try:
            checked: int | str | None = action_checks._check_value(parameter, typed)
        except action_checks.ActionRefused:
            checked = None
        assert sent == checked, typed


PARAMETERS = {p.key: p for p in (parameters.PARAMETER_LABEL, parameters.PARAMETER_MY_POSITION)}


@pytest.mark.parametrize(("key", "typed", "wire", "value"), inputs.PARAMETER_VALUES)
def test_parameter_value(key: str, typed: str, wire: int | str, value: int | str | None) -> None:
    """The portal refuses a typed value exactly when Home Assistant would refuse it."""
    parameter = PARAMETERS[key]
    try:
        sent: int | str | None = parameter_value(parameter.as_dict(), typed)
    except ValidationFailed:
        sent = None
    assert sent == value
    try:
        checked: int | str | None = action_checks._check_value(
            parameter, wire if sent is None else sent
        )
    except action_checks.ActionRefused:
        checked = None
    assert checked == value


@pytest.mark.parametrize(("ui_class", "pairable"), inputs.PAIRABLE)
def test_pairable(ui_class: str, pairable: bool) -> None:
    """The portal offers a product for pairing a remote exactly when Home Assistant takes it."""
    assert (ui_class in action_checks.PAIRABLE_UI_CLASSES) is pairable
    assert portal_actions.PAIRABLE_UI_CLASSES == action_checks.PAIRABLE_UI_CLASSES
    device = PortalDevice(url="io://1234-5678-9012/1", label="x", protocol="io", ui_class=ui_class)
    assert portal_actions.pairable(device) is pairable
    rts = PortalDevice(url="rts://1234-5678-9012/1", label="x", protocol="rts", ui_class=ui_class)
    assert not portal_actions.pairable(rts)
