"""The coordinator: the box's events about once a second, the whole setup now and then."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .alerts import (
    ALERT_BOX_OFFLINE,
    BOX_KEY,
    AlertChange,
    AlertTracker,
    active_device_alerts,
)
from .box_api import (
    BoxAuthenticationError,
    BoxClient,
    BoxConnectionError,
    BoxError,
    BoxListenerLostError,
    Device,
    Event,
    Gateway,
)
from .const import (
    ATTR_ACTIVE,
    ATTR_ALERT,
    ATTR_DEVICE_NAME,
    ATTR_DEVICE_URL,
    ATTR_TIME,
    DOMAIN,
    EVENT_ALERT,
    EVENT_INTERVAL,
    LOGGER,
    SETUP_REFRESH_INTERVAL,
    STATE_RSSI,
    STATE_RSSI_DISCRETE,
    STATE_STATUS,
)
from .device_sync import async_sync_devices
from .products import is_box_part, is_pod, radio_urls
from .state_values import status_online

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

# Events after which the whole setup is read again (products paired, removed or renamed).
_SETUP_EVENTS = frozenset({"DeviceCreatedEvent", "DeviceRemovedEvent", "DeviceUpdatedEvent"})
FAILED_EXECUTIONS_KEPT = 10
# Unexpected failures in a row, of a loaded entry, before a repair issue says so.
UNEXPECTED_FAILURES_FOR_ISSUE = 3


@dataclass(frozen=True, slots=True)
class BoxData:
    """The box and its products. A new instance (``revision``) means something changed."""

    gateway: Gateway
    hub_name: str
    devices: dict[str, Device] = field(default_factory=dict)
    revision: int = 0
    # The sub-device of each product whose radio level and quality stand for the product.
    radio_urls: frozenset[str] = frozenset()


def token_issue_id(entry_id: str) -> str:
    """Repair issue raised when the box rejects the token."""
    return f"token_rejected_{entry_id}"


def unexpected_issue_id(entry_id: str) -> str:
    """Repair issue raised while reading the box fails in an unexpected way."""
    return f"unexpected_error_{entry_id}"


class SomfyProCoordinator(DataUpdateCoordinator[BoxData]):
    """Fetches the box's events every second and applies them to the last full setup read."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: BoxClient,
        alerts: AlertTracker,
    ) -> None:
        """Initialise; nothing is read before the first refresh."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} box",
            update_interval=EVENT_INTERVAL,
            always_update=False,
        )
        self.client = client
        self.alerts = alerts
        self.device_revisions: dict[str, int] = {}
        self.box_revision = 0
        self._revision = 0
        self._setup_due = True
        self._listener_stale = True
        self._next_setup: datetime = dt_util.utcnow()
        self._alerts_started = False
        self._alerts_dirty = True
        self._unexpected_failures = 0
        # Registry device id of the box (its PIN) and of every product (its base URL).
        self.device_ids: dict[str, str] = {}
        # The last executions the box reported failed (a ticket's diagnostics carry them).
        self.failed_executions: deque[dict[str, Any]] = deque(maxlen=FAILED_EXECUTIONS_KEPT)

    # -- reading the box -----------------------------------------------------------------

    async def _async_update_data(self) -> BoxData:
        """Fetch events, or the whole setup when due; translate failures."""
        try:
            if not self.last_update_success:
                await self.client.ping()  # the box was unreachable: is it back?
            if self._setup_due or dt_util.utcnow() >= self._next_setup:
                data = await self._async_read_setup()
            else:
                data = await self._async_fetch_events()
        except BoxAuthenticationError as err:
            self._setup_due = self._listener_stale = True
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                token_issue_id(self.config_entry.entry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="token_rejected",
                translation_placeholders={"title": self.config_entry.title},
            )
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except BoxConnectionError as err:
            self._setup_due = self._listener_stale = True
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        except BoxError as err:
            self._setup_due = self._listener_stale = True
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="box_error",
                translation_placeholders={"error": str(err)},
            ) from err
        except Exception as err:
            # Whatever else pyoverkiz or the box's answer throws: said once, shown, retried.
            raise self._unexpected(err) from err
        if self._unexpected_failures or self.data is None:  # the issue may predate a reload
            self._unexpected_failures = 0
            ir.async_delete_issue(
                self.hass, DOMAIN, unexpected_issue_id(self.config_entry.entry_id)
            )
        return data

    def _unexpected(self, err: Exception) -> UpdateFailed:
        """Log an unexpected failure (traceback once), raise a repair issue when it lasts.

        An entry that never loaded shows the issue at once (Home Assistant retries its setup
        with a new coordinator each time); a loaded one after a few failures in a row. The
        traceback is logged at the first failure of a run, unless the issue already says it.
        """
        self._setup_due = self._listener_stale = True
        self._unexpected_failures += 1
        error = f"{type(err).__name__}: {err}"
        issue_id = unexpected_issue_id(self.config_entry.entry_id)
        reported = ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id) is not None
        if self._unexpected_failures == 1 and not reported:
            LOGGER.error("Unexpected error reading %s", self.config_entry.title, exc_info=err)
        else:
            LOGGER.debug("Unexpected error reading %s again: %s", self.config_entry.title, error)
        if self.data is None or self._unexpected_failures >= UNEXPECTED_FAILURES_FOR_ISSUE:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="unexpected_error",
                translation_placeholders={"title": self.config_entry.title, "error": error},
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="unexpected_error",
            translation_placeholders={"error": error},
        )

    async def _async_read_setup(self) -> BoxData:
        """Read everything, with a listener registered first (no event lost in between).

        The listener is kept across the periodic reads; after a failure or a lost listener a
        new one replaces it.
        """
        if self._listener_stale or self.client.listener_id is None:
            await self.client.unregister_listener()
            await self.client.register_listener()
            self._listener_stale = False
        setup = await self.client.get_setup()
        self._setup_due = False
        self._next_setup = dt_util.utcnow() + SETUP_REFRESH_INTERVAL
        hub_name = setup.gateway.model or "Somfy box"
        devices: dict[str, Device] = {}
        for url, device in setup.devices.items():
            if is_pod(device):
                hub_name = device.label or hub_name
            if is_box_part(device):
                continue  # the box's own parts are not products
            if status_online(device.states.get(STATE_STATUS)) is False:
                device.available = False  # some boxes say so only in the status state
            devices[url] = device
        self.box_revision += 1
        self.device_revisions = {url: self.device_revisions.get(url, 0) + 1 for url in devices}
        self._alerts_dirty = True
        self._revision += 1
        data = BoxData(
            gateway=setup.gateway,
            hub_name=hub_name,
            devices=devices,
            revision=self._revision,
            radio_urls=radio_urls(
                devices,
                (STATE_RSSI, STATE_RSSI_DISCRETE),
                self.data.radio_urls if self.data else frozenset(),
            ),
        )
        self._async_sync_devices(data)
        return data

    async def _async_fetch_events(self) -> BoxData:
        """Apply the listener's events to the current data."""
        listener = self.client.listener_id
        try:
            events = await self.client.fetch_events()
        except BoxListenerLostError:
            LOGGER.debug("The box forgot the event listener: registering a new one")
            self._listener_stale = True
            return await self._async_read_setup()
        if self.client.listener_id != listener:
            # pyoverkiz registered a new listener by itself: events may have been lost.
            LOGGER.debug("The event listener was registered again: reading the setup")
            return await self._async_read_setup()
        changed = False
        for event in events:
            if event.failure is not None:
                self.failed_executions.append(
                    {"at": _when(event), "failure": event.failure, "devices": event.failed_urls}
                )
            if event.name in _SETUP_EVENTS:
                self._setup_due = True
            changed |= self._apply(event)
        if self._setup_due:
            return await self._async_read_setup()
        if not changed:
            return self.data
        self._revision += 1
        return replace(self.data, revision=self._revision)

    def _apply(self, event: Event) -> bool:
        """Apply one event; True when a device changed."""
        device = self.data.devices.get(event.device_url or "")
        if device is None:
            return False
        if event.name == "DeviceStateChangedEvent" and event.states:
            device.states.update(event.states)
            online = status_online(event.states.get(STATE_STATUS))
            if online is not None:
                device.available = online
        elif event.name == "DeviceAvailableEvent":
            device.available = True
        elif event.name == "DeviceUnavailableEvent":
            device.available = False
        else:
            return False
        self.device_revisions[device.url] = self.device_revisions.get(device.url, 0) + 1
        self._alerts_dirty = True
        return True

    # -- devices ---------------------------------------------------------------------------

    @callback
    def _async_sync_devices(self, data: BoxData) -> None:
        """Bring the device registry in line with the box; forget alerts of unpaired products."""
        self.device_ids = async_sync_devices(
            self.hass,
            self.config_entry,
            data.gateway,
            data.hub_name,
            data.devices,
            data.radio_urls,
        )
        self.alerts.async_forget(set(data.devices))

    def identifier_for(self, device_id: str) -> str | None:
        """The box PIN or product base URL of a registry device of this entry."""
        for identifier, known_id in self.device_ids.items():
            if known_id == device_id:
                return identifier
        return None

    # -- alerts ----------------------------------------------------------------------------

    @callback
    def async_start_alerts(self) -> None:
        """Start reporting alerts (once the entities that show them exist)."""
        self._alerts_started = True
        self._alerts_dirty = True
        self._async_evaluate_alerts()

    @callback
    def _async_refresh_finished(self) -> None:
        """After every refresh, whether it worked or not."""
        self._async_evaluate_alerts()

    @callback
    def _async_evaluate_alerts(self) -> None:
        if not self._alerts_started or self.data is None:
            return
        box_online = self.last_update_success
        current: set[tuple[str, str]] = set()
        scope = {BOX_KEY}
        if not box_online:
            current.add((BOX_KEY, ALERT_BOX_OFFLINE))
            # Device states are unknown while the box is unreachable: keep their alerts.
            current |= {key for key in self.alerts.active if key[0] != BOX_KEY}
        elif self._alerts_dirty:
            scope |= set(self.data.devices)
            for url, device in self.data.devices.items():
                current |= {(url, alert) for alert in active_device_alerts(device)}
        else:
            current = {key for key in self.alerts.active if key[0] != BOX_KEY}
        self._alerts_dirty = False
        changes = self.alerts.async_update(current, scope)
        if changes:
            self.box_revision += 1
            for change in changes:
                self._async_fire_alert(change)
            self.async_update_listeners()

    @callback
    def _async_fire_alert(self, change: AlertChange) -> None:
        """Fire ``somfy_pro_alert`` on the bus (the event entity listens to the tracker)."""
        data = self.alert_event_data(change)
        LOGGER.debug("Alert %s on %s", change.event_type, data[ATTR_DEVICE_NAME])
        self.hass.bus.async_fire(EVENT_ALERT, data)

    def alert_event_data(self, change: AlertChange) -> dict[str, Any]:
        """Event data of an alert: device, alert type, raised or cleared, time."""
        if change.device_key == BOX_KEY:
            identifier = self.data.gateway.id
            name = self.data.hub_name
            url = None
        else:
            device = self.data.devices.get(change.device_key)
            identifier = device.base_url if device else change.device_key
            name = device.label if device else change.device_key
            url = change.device_key
        return {
            "config_entry_id": self.config_entry.entry_id,
            "device_id": self.device_ids.get(identifier),
            ATTR_DEVICE_URL: url,
            ATTR_DEVICE_NAME: name,
            ATTR_ALERT: change.alert,
            "type": change.event_type,
            ATTR_ACTIVE: change.active,
            ATTR_TIME: change.time.isoformat(),
        }


def _when(event: Event) -> str:
    """When the box saw an event (its timestamp in ms), or now."""
    if event.timestamp is None:
        return dt_util.utcnow().isoformat()
    return dt_util.utc_from_timestamp(event.timestamp / 1000).isoformat()
