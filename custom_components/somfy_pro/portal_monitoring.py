"""Monitoring for the linked installer: the homeowner's consent, snapshots and their changes.

Box data leaves Home Assistant only while the homeowner grants monitoring: then a snapshot
goes out whenever the portal welcomes a connection, and afterwards only what changed
(``device_update``), plus every alert raised or cleared (kept until acknowledged).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from . import portal_frames as frames
from .const import (
    DOMAIN,
    LOGGER,
    STATE_BATTERY,
    STATE_BATTERY_LEVEL,
    STATE_RSSI,
    STATE_RSSI_DISCRETE,
    STATE_SENSOR_DEFECT,
)
from .parameters import describe_editable
from .portal_client import PortalError
from .portal_delivery import ERROR_INTERNAL, device_url, occurrence_id, withdraw
from .snapshot_digest import SnapshotDigest
from .state_values import battery_level, gateway_activated, radio_level

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

    from .alerts import AlertChange, AlertTracker
    from .box_api import Device, Gateway
    from .coordinator import SomfyProCoordinator
    from .portal_channel import PortalChannel
    from .portal_store import PortalStore, StoredPortal

MONITORING_GRANTED: Final = "granted"
MONITORING_DECLINED: Final = "declined"
MONITORING_REVOKED: Final = "revoked"

# A cover's closure in percent (0 open, 100 closed), sent as the device's ``position``.
STATE_CLOSURE: Final = "core:ClosureState"
# Snapshot parts and device updates are not kept until acknowledged: one the portal failed
# to handle (its database busy) is made good by a whole snapshot, sent this long after the
# first refusal, so that a burst of refusals (every part of a snapshot, a run of updates)
# costs one snapshot, and the portal's database has a moment to be free again. The ids of
# the frames sent lately are kept to recognise the refusals.
RESYNC_DELAY: Final = 1.0
SENT_KEPT: Final = 1000


def monitoring_issue_id(entry_id: str) -> str:
    """Repair issue raised when an installer asks for monitoring."""
    return f"monitoring_request_{entry_id}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def _percent(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and 0 <= number <= 100 else None


def device_payload(device: Device) -> dict[str, Any]:
    """What a snapshot says about one product."""
    states = device.states
    battery: int | str | None = battery_level(states.get(STATE_BATTERY_LEVEL))
    if battery is None and isinstance(states.get(STATE_BATTERY), str):
        battery = str(states[STATE_BATTERY])
    defect = states.get(STATE_SENSOR_DEFECT)
    level = states.get(STATE_RSSI_DISCRETE)
    payload = {
        "url": device.url,
        "label": device.label,
        "protocol": device.protocol,
        "ui_class": device.ui_class,
        "online": device.available,
        "rssi": radio_level(states.get(STATE_RSSI)),
        "rssi_level": level if isinstance(level, str) else None,
        "battery": battery,
        "defect": defect if isinstance(defect, str) else None,
        "position": _percent(states.get(STATE_CLOSURE)),
        # Parameters an installer may change in a remote-service window, or why none.
        "editable": describe_editable(device),
    }
    return {key: frames.fit(key, value) for key, value in payload.items()}


def box_payload(gateway: Gateway, online: bool) -> dict[str, Any]:
    """What a snapshot says about the box."""
    return {
        "online": online,
        "activated": gateway_activated(gateway.mode),
        "up_to_date": gateway.up_to_date,
        "firmware": frames.fit("firmware", gateway.firmware),
    }


class PortalMonitoring:
    """One entry's monitoring consent, and the box data streamed while it is granted."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        channel: PortalChannel,
        store: PortalStore,
        coordinator: SomfyProCoordinator,
        alerts: AlertTracker,
    ) -> None:
        """Plug into the channel; ``async_restore`` then ``async_start`` bring it up."""
        self._hass = hass
        self._entry = entry
        self._channel = channel
        self._coordinator = coordinator
        self._alerts = alerts
        self.monitoring: str | None = None
        self.request: dict[str, Any] | None = None
        # Active alert (device key|alert) -> the alert_id sent when it was raised.
        self._alert_ids: dict[str, str] = {}
        self._last_box: dict[str, Any] | None = None
        self._last_devices: dict[str, dict[str, Any]] = {}
        # The digest of the snapshot the portal holds if it applied all sent.
        self._digest = SnapshotDigest()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._sent: deque[str] = deque(maxlen=SENT_KEPT)
        self._resync: CALLBACK_TYPE | None = None
        self._store = store
        store.add_part(self._stored)
        channel.register((frames.REQUEST_MONITORING,), self._async_on_request)
        channel.on_ready(self._on_welcomed)
        channel.on_refused(self._async_on_refused)
        channel.on_reset(self._reset)

    @property
    def granted(self) -> bool:
        """Monitoring granted to the linked company."""
        return self._channel.link is not None and self.monitoring == MONITORING_GRANTED

    @callback
    def async_restore(self, stored: StoredPortal | None) -> None:
        """Take the stored consent, pending request and alert ids."""
        if stored is None or self._channel.link is None:
            return
        self.monitoring = stored.get("monitoring")
        self.request = stored.get("request")
        self._alert_ids = dict(stored.get("alert_ids") or {})

    def _stored(self) -> StoredPortal:
        return {
            "monitoring": self.monitoring,
            "request": self.request,
            "alert_ids": dict(self._alert_ids),
        }

    @callback
    def async_start(self) -> None:
        """Follow alerts and box updates; ask again for a request still pending."""
        self._unsubs.append(self._alerts.async_add_listener(self._async_on_alert))
        self._unsubs.append(self._coordinator.async_add_listener(self._async_on_box_update))
        if self.request is not None and self._channel.link is not None and not self.granted:
            self._async_raise_issue()

    @callback
    def async_stop(self) -> None:
        """Stop following alerts and box updates (unload)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._cancel_resync()

    def _cancel_resync(self) -> None:
        if self._resync is not None:
            self._resync()
            self._resync = None

    def _reset(self) -> None:
        self._cancel_resync()
        self._sent.clear()
        self.monitoring = None
        self.request = None
        self._alert_ids = {}
        self._last_box = None
        self._last_devices = {}
        self._digest.forget()
        ir.async_delete_issue(self._hass, DOMAIN, monitoring_issue_id(self._entry.entry_id))

    # -- consent -----------------------------------------------------------------------------

    async def _async_on_request(self, _frame_type: str, payload: dict[str, Any]) -> None:
        request_id = str(payload["request_id"])
        if self.granted:
            # Already granted: say so again for this request.
            self._channel.post(
                frames.new_frame(
                    frames.CONSENT, {"request_id": request_id, "monitoring": MONITORING_GRANTED}
                )
            )
            return
        self.request = {
            "request_id": request_id,
            "company": frames.party_name(payload.get("company")),
            "installer": frames.party_name(payload.get("installer")),
            "at": payload.get("at"),
        }
        self._store.async_schedule_save()
        self._async_raise_issue()
        self._channel.async_notify()

    @callback
    def _async_raise_issue(self) -> None:
        request = self.request or {}
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            monitoring_issue_id(self._entry.entry_id),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="monitoring_request",
            translation_placeholders={
                "company": frames.party_name(request.get("company"))
                or self._channel.company_name
                or "",
                "installer": frames.party_name(request.get("installer")) or "",
                "title": self._entry.title,
            },
            data={"entry_id": self._entry.entry_id, "request_id": str(request.get("request_id"))},
        )

    async def async_set_monitoring(self, state: str, request_id: str | None = None) -> None:
        """The homeowner granted, declined or revoked monitoring."""
        if self._channel.link is None:
            raise PortalError("not linked")
        if request_id is None and self.request is not None and state != MONITORING_REVOKED:
            request_id = str(self.request.get("request_id"))
        self.monitoring = state
        self.request = None
        ir.async_delete_issue(self._hass, DOMAIN, monitoring_issue_id(self._entry.entry_id))
        if state != MONITORING_GRANTED:
            # Nothing more leaves Home Assistant, not even alerts still waiting to be sent.
            withdraw(self._channel.delivery, frames.ALERT, self._alert_ids)
            self._last_box = None
            self._last_devices = {}
        LOGGER.info("Monitoring %s for the installer %s", state, self._channel.company_name)
        self._channel.post(
            frames.new_frame(frames.CONSENT, {"request_id": request_id, "monitoring": state})
        )
        if state == MONITORING_GRANTED:
            self._send_snapshot()
        self._channel.async_notify()

    # -- streaming ---------------------------------------------------------------------------

    @callback
    def _async_on_alert(self, change: AlertChange) -> None:
        if not self.granted:
            return
        data = self._coordinator.alert_event_data(change)
        alert_id = occurrence_id(self._alert_ids, change)
        self._channel.post(
            frames.new_frame(
                frames.ALERT,
                {
                    "alert_id": alert_id,
                    "device_url": device_url(change.device_key),
                    "device_label": frames.fit("label", data["device_name"]),
                    "type": change.alert,
                    "active": change.active,
                    "at": change.time.isoformat(),
                },
            )
        )

    def _box_payload(self) -> dict[str, Any]:
        return box_payload(self._coordinator.data.gateway, self._coordinator.last_update_success)

    def _on_welcomed(self) -> None:
        self._send_snapshot(held=self._channel.held_snapshot)

    def _send_snapshot(self, held: str | None = None) -> None:
        """Send the box's snapshot, unless the portal holds this very one (``held``)."""
        if not (self.granted and self._channel.ready) or self._coordinator.data is None:
            return
        # A whole snapshot makes good whatever was sent before it: no other one is due for
        # a refusal of those, even one still on its way.
        self._cancel_resync()
        self._sent.clear()
        self._last_box = self._box_payload()
        self._last_devices = {
            url: device_payload(device) for url, device in self._coordinator.data.devices.items()
        }
        devices = list(self._last_devices.values())
        digest = self._digest.reset(self._last_box, devices)
        if held is not None and digest == held:
            # Said in the welcome: the portal holds it already (after a restart, a network
            # cut), and the changes go on from its digest.
            return
        for frame in frames.snapshot_frames(self._last_box, devices):
            self._send(frame)

    def _send(self, frame: dict[str, Any]) -> None:
        """Send a snapshot part or an update, remembered in case the portal refuses it."""
        self._sent.append(frame["id"])
        self._channel.send(frame)

    @callback
    def _async_on_refused(self, ref: str, code: str) -> None:
        """The portal answered ``error`` to ``ref``: box data it failed to store goes again."""
        if code != ERROR_INTERNAL or ref not in self._sent or self._resync is not None:
            return
        LOGGER.debug(
            "The portal failed to store box data (frame %s): a whole snapshot goes again", ref
        )
        self._resync = async_call_later(self._hass, RESYNC_DELAY, self._async_resync)

    @callback
    def _async_resync(self, _now: datetime) -> None:
        self._resync = None
        self._send_snapshot()

    @callback
    def _async_on_box_update(self) -> None:
        if not (self.granted and self._channel.ready) or self._coordinator.data is None:
            return
        devices = {
            url: device_payload(device) for url, device in self._coordinator.data.devices.items()
        }
        if self._box_payload() != self._last_box or devices.keys() != self._last_devices.keys():
            self._send_snapshot()
            return
        for url, payload in devices.items():
            last = self._last_devices[url]
            changes = {key: value for key, value in payload.items() if last.get(key) != value}
            if not changes:
                continue
            update: dict[str, Any] = {"url": url, "changes": changes}
            # Which snapshot the change leads from and to: a portal that holds the first
            # holds the second, and skips that snapshot after the next reconnection.
            before = self._digest.value
            after = self._digest.change(payload)
            if before is not None and after is not None:
                update["digest"] = {"from": before, "to": after}
            self._send(frames.new_frame(frames.DEVICE_UPDATE, update))
        self._last_devices = devices

    def as_diagnostics(self) -> dict[str, Any]:
        """The consent and whether a request waits for the homeowner."""
        return {"monitoring": self.monitoring, "pending_request": self.request is not None}
