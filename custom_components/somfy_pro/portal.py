"""The installer portal: linking, the WebSocket channel, monitoring consent and streaming.

Home Assistant is the homeowner's agent (docs/architecture.md): it opens one WebSocket to the
portal per linked box, sends box data only while the homeowner grants monitoring, and keeps
every acknowledged frame it sends (alerts, consent) in its storage until the portal
acknowledges it, across reconnections and restarts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
import random
from typing import TYPE_CHECKING, Any, Final, TypedDict
import uuid

from aiohttp import ClientError, ClientTimeout, WSMsgType, WSServerHandshakeError
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import actions as remote_actions, portal_delivery as delivery, portal_frames as frames
from .alerts import BOX_KEY
from .audit import RECORD_ACTION
from .const import (
    DOMAIN,
    LOGGER,
    STATE_BATTERY,
    STATE_BATTERY_LEVEL,
    STATE_RSSI,
    STATE_RSSI_DISCRETE,
    STATE_SENSOR_DEFECT,
)
from .remote_service import describe_editable, linked_installer, signal_outgoing

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from aiohttp import ClientSession, ClientWebSocketResponse

    from .alerts import AlertChange, AlertTracker
    from .box_api import Device
    from .coordinator import SomfyProConfigEntry, SomfyProCoordinator

# Key of the link in the config entry's data.
CONF_PORTAL: Final = "portal"
LINK_URL: Final = "url"
LINK_TOKEN: Final = "token"  # noqa: S105 - a key, not a secret
LINK_INSTALLATION_ID: Final = "installation_id"
LINK_COMPANY_ID: Final = "company_id"
LINK_COMPANY_NAME: Final = "company_name"
LINK_INSTANCE_ID: Final = "instance_id"

MONITORING_GRANTED: Final = "granted"
MONITORING_DECLINED: Final = "declined"
MONITORING_REVOKED: Final = "revoked"

STORAGE_VERSION: Final = 1
HTTP_TIMEOUT: Final = ClientTimeout(total=15)
CONNECT_TIMEOUT: Final = 30
HEARTBEAT: Final = 30.0
# Larger messages close the connection (aiohttp); those over 64 KiB are answered `error`.
MAX_MESSAGE_BYTES: Final = 1024 * 1024
# A cover's closure in percent (0 open, 100 closed), sent as the device's ``position``.
STATE_CLOSURE: Final = "core:ClosureState"
BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 300.0
SEEN_IDS: Final = 1000


class PortalError(Exception):
    """The portal cannot be reached or answered unexpectedly."""


class PortalConnectionError(PortalError):
    """The portal cannot be reached."""


class InvalidCodeError(PortalError):
    """Wrong, used or expired code, or a PIN that does not match."""


class RateLimitedError(PortalError):
    """Too many attempts: the portal asks to wait."""


class PortalAuthError(PortalError):
    """The portal no longer accepts the installation token (unlinked on its side)."""


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What ``POST /api/v1/link`` answers."""

    installation_id: str
    token: str
    company_id: str
    company_name: str


def normalize_url(url: str) -> str:
    """``https://portal.example/`` -> ``https://portal.example``."""
    return url.strip().rstrip("/")


async def async_link(
    session: ClientSession, url: str, code: str, pin: str, instance_id: str, name: str
) -> LinkResult:
    """Exchange a registration code (and the box PIN) for an installation token."""
    body = {"code": code.strip(), "pin": pin, "instance_id": instance_id, "name": name}
    try:
        async with session.post(
            f"{normalize_url(url)}/api/v1/link", json=body, timeout=HTTP_TIMEOUT
        ) as response:
            if response.status == HTTPStatus.TOO_MANY_REQUESTS:
                raise RateLimitedError("rate limited")
            if response.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
                raise InvalidCodeError("invalid code")
            if response.status != HTTPStatus.OK:
                raise PortalConnectionError(f"HTTP {response.status}")
            data = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as err:
        raise PortalConnectionError(str(err) or type(err).__name__) from err
    try:
        company = data["company"]
        return LinkResult(
            installation_id=str(data["installation_id"]),
            token=str(data["token"]),
            company_id=str(company["id"]),
            company_name=str(company["name"]),
        )
    except (KeyError, TypeError) as err:
        raise PortalConnectionError("unexpected answer") from err


async def async_unlink(session: ClientSession, url: str, token: str) -> None:
    """Tell the portal to forget the link (its token stops working)."""
    try:
        async with session.post(
            f"{normalize_url(url)}/api/v1/unlink",
            headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT,
        ) as response:
            if response.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                return  # already forgotten there
            if response.status >= 400:
                raise PortalConnectionError(f"HTTP {response.status}")
    except (ClientError, TimeoutError) as err:
        raise PortalConnectionError(str(err) or type(err).__name__) from err


def backoff_delay(attempt: int) -> float:
    """Seconds before reconnection attempt ``attempt`` (0-based).

    1 s doubling to 5 min, with jitter: between half and all of it.
    """
    ceiling = min(BACKOFF_MAX, BACKOFF_MIN * 2.0 ** min(attempt, 16))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def monitoring_issue_id(entry_id: str) -> str:
    """Repair issue raised when an installer asks for monitoring."""
    return f"monitoring_request_{entry_id}"


def storage_key(entry_id: str) -> str:
    """Store key of one entry's portal state (outbox, consent)."""
    return f"{DOMAIN}.{entry_id}.portal"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's portal state (the entry was deleted)."""
    await Store[_StoredPortal](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


class _StoredPortal(TypedDict):
    outbox: list[dict[str, Any]]
    seen: list[str]
    monitoring: str | None
    request: dict[str, Any] | None
    alert_ids: dict[str, str]
    # Actions acknowledged and not finished: action_id -> kind.
    running: dict[str, str]


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
    battery: int | str | None = _int(states.get(STATE_BATTERY_LEVEL))
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
        "rssi": _percent(states.get(STATE_RSSI)),
        "rssi_level": level if isinstance(level, str) else None,
        "battery": battery,
        "defect": defect if isinstance(defect, str) else None,
        "position": _percent(states.get(STATE_CLOSURE)),
        # Parameters an installer may change in a remote-service window, or why none.
        "editable": describe_editable(device),
    }
    return {key: frames.fit(key, value) for key, value in payload.items()}


class PortalManager:
    """One entry's link to an installer portal: channel, outbox, consent and streaming."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SomfyProConfigEntry,
        session: ClientSession,
        coordinator: SomfyProCoordinator,
        alerts: AlertTracker,
        integration_version: str,
    ) -> None:
        """Prepare; ``async_load`` then ``async_start`` bring it up."""
        self._hass = hass
        self._entry = entry
        self._session = session
        self._coordinator = coordinator
        self._alerts = alerts
        self._version = integration_version
        self._store: Store[_StoredPortal] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        )
        self.outbox: list[dict[str, Any]] = []
        self._seen: deque[str] = deque(maxlen=SEEN_IDS)
        self.monitoring: str | None = None
        self.request: dict[str, Any] | None = None
        # Active alert (device key|alert) -> the alert_id sent when it was raised.
        self._alert_ids: dict[str, str] = {}
        self._running: dict[str, str] = {}
        self._dirty = False  # changed since the write under way began
        self._saving: asyncio.Task[None] | None = None
        self._acks = delivery.AckTimers(hass, self._async_resend)
        self.connected = False
        self.since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._ready = False  # welcome received on the current connection
        self._unlinked = False  # the portal said "unlinked"
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._last_box: dict[str, Any] | None = None
        self._last_devices: dict[str, dict[str, Any]] = {}
        self.attempt = 0

    # -- state ---------------------------------------------------------------------------

    @property
    def link(self) -> dict[str, Any] | None:
        """The link stored in the entry, or None."""
        link = self._entry.data.get(CONF_PORTAL)
        return link if isinstance(link, dict) else None

    @property
    def company_name(self) -> str | None:
        """Name of the linked installer company."""
        link = self.link
        return None if link is None else str(link.get(LINK_COMPANY_NAME) or "")

    @property
    def granted(self) -> bool:
        """Monitoring granted to the linked company."""
        return self.link is not None and self.monitoring == MONITORING_GRANTED

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` when the link, the connection or the consent changes."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected and (self.since is not None or self.link is None):
            return
        self.connected = connected
        self.since = dt_util.utcnow()
        self._notify()

    # -- storage ---------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the outbox, the ids already received and the consent."""
        stored = await self._store.async_load()
        if stored is None or self.link is None:
            return
        self.outbox = [f for f in stored.get("outbox", []) if isinstance(f, dict)]
        self._seen.extend(str(i) for i in stored.get("seen", []))
        self.monitoring = stored.get("monitoring")
        self.request = stored.get("request")
        self._alert_ids = dict(stored.get("alert_ids") or {})
        self._running = dict(stored.get("running") or {})

    def _stored(self) -> _StoredPortal:
        return {
            "outbox": list(self.outbox),
            "seen": list(self._seen),
            "monitoring": self.monitoring,
            "request": self.request,
            "alert_ids": dict(self._alert_ids),
            "running": dict(self._running),
        }

    @callback
    def _async_save(self) -> None:
        """Write the state now; changes made meanwhile go in the next write, once.

        A backlog of thousands of frames changes the state thousands of times in a row:
        one write per change would rewrite the whole outbox each time.
        """
        self._dirty = True
        if self._saving is None:
            self._saving = self._hass.async_create_task(self._async_write_store(), eager_start=True)

    async def _async_write_store(self) -> None:
        try:
            while self._dirty:
                self._dirty = False
                await self._store.async_save(self._stored())
        finally:
            self._saving = None

    # -- life cycle ------------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Listen to alerts and box updates; open the channel when linked."""
        self._unsubs.append(self._alerts.async_add_listener(self._async_on_alert))
        self._unsubs.append(self._coordinator.async_add_listener(self._async_on_box_update))
        self._unsubs.append(
            async_dispatcher_connect(
                self._hass, signal_outgoing(self._entry.entry_id), self._async_on_outgoing
            )
        )
        self._unsubs.append(
            self._hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_on_hass_stop)
        )
        # Frames from before this, e.g. a window that expired while Home Assistant was stopped.
        for frame_type, payload in self._entry.runtime_data.remote_service.async_release_held():
            self._async_on_outgoing(frame_type, payload)
        if self.link is not None:
            self._set_connected(False)  # disconnected since now
            self._async_report_interrupted()
        if self.request is not None and self.link is not None and not self.granted:
            self._async_raise_issue()
        self._async_start_channel()

    async def _async_on_hass_stop(self, _event: Event) -> None:
        await self._async_stop_channel()

    async def async_stop(self) -> None:
        """Close the channel and write the outbox (unload)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self._async_stop_channel()
        await self._store.async_save(self._stored())

    @callback
    def _async_start_channel(self) -> None:
        if self.link is None or self._task is not None:
            return
        self.attempt = 0
        # Not one of Home Assistant's tracked tasks: it never ends by itself, and
        # ``async_block_till_done`` must not wait for it. Stopped on unload and on shutdown.
        self._task = self._hass.loop.create_task(
            self._async_run(), name=f"{DOMAIN} portal channel {self._entry.title}"
        )

    async def _async_stop_channel(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if (current := asyncio.current_task()) is not None and current.cancelling():
                    raise
        if self._ws is not None:
            await self._ws.close()
        self._set_connected(False)

    # -- linking ---------------------------------------------------------------------------

    async def async_set_link(self, result: LinkResult, url: str, instance_id: str) -> None:
        """Store a new link (no consent, empty outbox) and open the channel."""
        await self._async_stop_channel()
        self._reset()
        self._hass.config_entries.async_update_entry(
            self._entry,
            data={
                **self._entry.data,
                CONF_PORTAL: {
                    LINK_URL: normalize_url(url),
                    LINK_TOKEN: result.token,
                    LINK_INSTALLATION_ID: result.installation_id,
                    LINK_COMPANY_ID: result.company_id,
                    LINK_COMPANY_NAME: result.company_name,
                    LINK_INSTANCE_ID: instance_id,
                },
            },
        )
        await self._store.async_save(self._stored())
        LOGGER.info("Linked to the installer %s", result.company_name)
        self._notify()
        self._async_start_channel()

    async def async_unlink(self) -> None:
        """Unlink from the homeowner's side: tell the portal if it answers, forget anyway."""
        link = self.link
        if link is None:
            return
        try:
            await async_unlink(self._session, link[LINK_URL], link[LINK_TOKEN])
        except PortalError as err:
            LOGGER.warning(
                "The portal could not be told about the unlink (%s); forgetting the link", err
            )
        await self._async_forget()

    async def _async_forget(self) -> None:
        """Forget the link, its consent and outbox."""
        company = self.company_name
        await self._async_stop_channel()
        self._reset()
        data = dict(self._entry.data)
        data.pop(CONF_PORTAL, None)
        self._hass.config_entries.async_update_entry(self._entry, data=data)
        await self._store.async_save(self._stored())
        self.since = None
        LOGGER.info("Unlinked from the installer %s", company)
        self._notify()

    def _reset(self) -> None:
        self.outbox = []
        self._running = {}
        self._acks.clear()
        self._seen.clear()
        self.monitoring = None
        self.request = None
        self._alert_ids = {}
        self._last_box = None
        self._last_devices = {}
        ir.async_delete_issue(self._hass, DOMAIN, monitoring_issue_id(self._entry.entry_id))

    # -- consent -----------------------------------------------------------------------------

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
                "company": frames.party_name(request.get("company")) or self.company_name or "",
                "installer": frames.party_name(request.get("installer")) or "",
                "title": self._entry.title,
            },
            data={"entry_id": self._entry.entry_id, "request_id": str(request.get("request_id"))},
        )

    async def async_set_monitoring(self, state: str, request_id: str | None = None) -> None:
        """The homeowner granted, declined or revoked monitoring."""
        if self.link is None:
            raise PortalError("not linked")
        if request_id is None and self.request is not None and state != MONITORING_REVOKED:
            request_id = str(self.request.get("request_id"))
        self.monitoring = state
        self.request = None
        ir.async_delete_issue(self._hass, DOMAIN, monitoring_issue_id(self._entry.entry_id))
        if state != MONITORING_GRANTED:
            # Nothing more leaves Home Assistant, not even alerts still waiting to be sent.
            self.outbox = [f for f in self.outbox if f["type"] != frames.ALERT]
            self._alert_ids = {}
            self._last_box = None
            self._last_devices = {}
        LOGGER.info("Monitoring %s for the installer %s", state, self.company_name)
        self._post(
            frames.new_frame(frames.CONSENT, {"request_id": request_id, "monitoring": state})
        )
        if state == MONITORING_GRANTED:
            self._send_snapshot()
        self._notify()

    # -- streaming ---------------------------------------------------------------------------

    @callback
    def _async_on_alert(self, change: AlertChange) -> None:
        if not self.granted:
            return
        data = self._coordinator.alert_event_data(change)
        # One id per occurrence: the alert raised and the same alert cleared share it.
        key = f"{change.device_key}|{change.alert}"
        if change.active:
            alert_id = self._alert_ids[key] = str(uuid.uuid4())
        else:
            alert_id = self._alert_ids.pop(key, "") or str(uuid.uuid4())
        self._post(
            frames.new_frame(
                frames.ALERT,
                {
                    "alert_id": alert_id,
                    "device_url": None
                    if change.device_key == BOX_KEY
                    else frames.fit("url", change.device_key),
                    "device_label": frames.fit("label", data["device_name"]),
                    "type": change.alert,
                    "active": change.active,
                    "at": change.time.isoformat(),
                },
            )
        )

    def _box_payload(self) -> dict[str, Any]:
        gateway = self._coordinator.data.gateway
        return {
            "online": self._coordinator.last_update_success,
            "activated": None if gateway.mode is None else gateway.mode == "ACTIVE",
            "up_to_date": gateway.up_to_date,
            "firmware": frames.fit("firmware", gateway.firmware),
        }

    def _send_snapshot(self) -> None:
        if not (self.granted and self._ready) or self._coordinator.data is None:
            return
        self._last_box = self._box_payload()
        self._last_devices = {
            url: device_payload(device) for url, device in self._coordinator.data.devices.items()
        }
        for frame in frames.snapshot_frames(self._last_box, list(self._last_devices.values())):
            self._send(frame)

    @callback
    def _async_on_box_update(self) -> None:
        if not (self.granted and self._ready) or self._coordinator.data is None:
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
            if changes:
                self._send(frames.new_frame(frames.DEVICE_UPDATE, {"url": url, "changes": changes}))
        self._last_devices = devices

    # -- sending -----------------------------------------------------------------------------

    def _send(self, frame: dict[str, Any]) -> None:
        """Send now if connected (frames not acknowledged are lost when not)."""
        if self._queue is not None:
            self._queue.put_nowait(frame)

    def _post(self, frame: dict[str, Any]) -> None:
        """An acknowledged frame: kept in the outbox until the portal acknowledges it."""
        self.outbox.append(frame)
        self._async_save()
        if self._ready:
            self._send_acked(frame)

    def _send_acked(self, frame: dict[str, Any]) -> None:
        """Send a frame of the outbox; sent again if its acknowledgement is late."""
        self._send(frame)
        self._acks.sent(frame)

    @callback
    def _async_resend(self, frame: dict[str, Any]) -> None:
        if self._ready and any(f["id"] == frame["id"] for f in self.outbox):
            LOGGER.debug("No acknowledgement of %s %s yet: sent again", frame["type"], frame["id"])
            self._send_acked(frame)

    async def _async_write(self, ws: ClientWebSocketResponse, queue: asyncio.Queue[Any]) -> None:
        """Send the queued frames in order; close the connection when sending fails."""
        try:
            while True:
                frame = await queue.get()
                await ws.send_str(frames.encode(frame))
        except (ClientError, ConnectionError, RuntimeError) as err:
            LOGGER.debug("Cannot send to the portal: %s", err)
            await ws.close()

    # -- the channel -------------------------------------------------------------------------

    async def _async_run(self) -> None:
        """Keep the channel up: reconnect with exponential backoff and jitter."""
        while (link := self.link) is not None:
            try:
                await self._async_connect(link)
            except PortalAuthError:
                LOGGER.warning(
                    "The portal of %s no longer accepts this box: the link is forgotten",
                    link.get(LINK_COMPANY_NAME),
                )
                self._task = None
                await self._async_forget()
                return
            except (ClientError, TimeoutError, OSError) as err:
                log = LOGGER.warning if self.attempt == 0 else LOGGER.debug
                log("Cannot connect to the installer portal: %s", err or type(err).__name__)
            finally:
                self._ready = False
                self._acks.clear()
                self._queue = None
                self._ws = None
                self._set_connected(False)
            if self._unlinked:
                self._unlinked = False
                self._task = None
                await self._async_forget()
                return
            if self.link is None:
                return
            delay = backoff_delay(self.attempt)
            self.attempt += 1
            LOGGER.debug("Reconnecting to the portal in %.1f s", delay)
            await self._async_sleep(delay)

    async def _async_sleep(self, seconds: float) -> None:
        """Sleep on Home Assistant's clock (so that tests can move time on)."""
        wake = asyncio.Event()

        @callback
        def _wake(_now: datetime) -> None:
            wake.set()

        cancel = async_call_later(self._hass, seconds, _wake)
        try:
            await wake.wait()
        finally:
            cancel()

    async def _async_connect(self, link: dict[str, Any]) -> None:
        """One connection, until it closes."""
        url = f"{link[LINK_URL]}/api/v1/ws"
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                ws = await self._session.ws_connect(
                    url,
                    headers={"Authorization": f"Bearer {link[LINK_TOKEN]}"},
                    heartbeat=HEARTBEAT,
                    max_msg_size=MAX_MESSAGE_BYTES,
                )
        except WSServerHandshakeError as err:
            if err.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                raise PortalAuthError(str(err)) from err
            raise
        self._ws = ws
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queue = queue
        writer = self._hass.loop.create_task(
            self._async_write(ws, queue), name=f"{DOMAIN} portal writer"
        )
        try:
            self._send(
                frames.new_frame(
                    frames.HELLO,
                    {
                        "integration_version": self._version,
                        "pin": self._entry.unique_id or self._coordinator.data.gateway.id,
                        "monitoring": self.granted,
                        "window": self._entry.runtime_data.remote_service.hello_window(),
                    },
                )
            )
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._async_on_text(str(message.data))
                elif message.type is WSMsgType.BINARY:
                    self._answer_error(frames.FrameError(frames.ERROR_MALFORMED, "binary message"))
                else:  # WSMsgType.ERROR: the connection is broken
                    LOGGER.debug("Portal connection error: %s", ws.exception())
                    break
                if self._unlinked:
                    break
        finally:
            writer.cancel()
            await asyncio.wait([writer])
            await ws.close()
        LOGGER.debug("Portal connection closed (code %s)", ws.close_code)

    def _answer_error(self, err: frames.FrameError) -> None:
        LOGGER.warning("Rejected a frame from the portal: %s (%s)", err.message, err.code)
        self._send(frames.error_frame(err.code, err.message, err.ref))

    async def _async_on_text(self, text: str) -> None:
        try:
            frame = frames.parse(text)
        except frames.FrameError as err:
            self._answer_error(err)
            return
        await self._async_on_frame(frame)

    async def _async_on_frame(self, frame: dict[str, Any]) -> None:
        frame_type: str = frame["type"]
        payload: dict[str, Any] = frame["payload"]
        LOGGER.debug("Frame from the portal: %s %s", frame_type, frame["id"])
        if frame_type in frames.ACKED_TYPES:
            if frame_type == frames.ACTION and frame["id"] not in self._seen:
                await self._async_accept_action(payload)
            self._send(frames.new_frame(frames.ACK, {"id": frame["id"]}))
            if frame["id"] in self._seen:
                LOGGER.debug("Frame %s received again: acknowledged, ignored", frame["id"])
                return
            self._seen.append(frame["id"])
            self._async_save()
        if frame_type == frames.WELCOME:
            await self._async_on_welcome(payload)
        elif frame_type == frames.ACK:
            self._acks.acked(payload["id"])
            before = len(self.outbox)
            self.outbox = [f for f in self.outbox if f["id"] != payload["id"]]
            if len(self.outbox) != before:
                self._async_save()
        elif frame_type == frames.REQUEST_MONITORING:
            self._async_on_request_monitoring(payload)
        elif frame_type == frames.UNLINKED:
            LOGGER.info("The installer %s unlinked this box", self.company_name)
            self._unlinked = True  # forgotten once this connection is closed
        elif frame_type == frames.ERROR:
            LOGGER.warning(
                "The portal rejected frame %s: %s (%s)",
                payload.get("ref"),
                payload.get("message"),
                payload["code"],
            )
        else:  # request_remote_service, action, intervention_ended
            await self._async_on_remote_service(frame)

    async def _async_on_welcome(self, payload: dict[str, Any]) -> None:
        company = payload["company"]
        link = self.link
        if link is not None and (
            link.get(LINK_COMPANY_NAME) != company["name"]
            or link.get(LINK_COMPANY_ID) != str(company["id"])
        ):
            self._hass.config_entries.async_update_entry(
                self._entry,
                data={
                    **self._entry.data,
                    CONF_PORTAL: {
                        **link,
                        LINK_COMPANY_ID: str(company["id"]),
                        LINK_COMPANY_NAME: company["name"],
                    },
                },
            )
        self._ready = True
        self.attempt = 0
        LOGGER.debug("Connected to the portal of %s", company["name"])
        self._set_connected(True)
        for frame in list(self.outbox):
            self._send_acked(frame)
        self._send_snapshot()
        for pending in payload["pending"]:
            try:
                frame = frames.validate(pending)
            except frames.FrameError as err:
                self._answer_error(err)
                continue
            await self._async_on_frame(frame)

    @callback
    def _async_on_request_monitoring(self, payload: dict[str, Any]) -> None:
        request_id = str(payload["request_id"])
        if self.granted:
            # Already granted: say so again for this request.
            self._post(
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
        self._async_save()
        self._async_raise_issue()
        self._notify()

    async def _async_on_remote_service(self, frame: dict[str, Any]) -> None:
        """Remote service (actions.py): an action's result goes back, acknowledged."""
        try:
            result = await remote_actions.async_handle_portal_frame(
                self._hass, self._entry, frame["type"], frame["payload"]
            )
        except ValueError as err:
            self._answer_error(
                frames.FrameError(frames.ERROR_INVALID_PAYLOAD, str(err), frame["id"])
            )
            return
        if result is not None:
            self._running.pop(str(result["action_id"]), None)
            self._post(frames.new_frame(frames.ACTION_RESULT, result))

    async def _async_accept_action(self, payload: dict[str, Any]) -> None:
        """Write the action down before acknowledging it (see ``portal_delivery``)."""
        action_id = payload.get("action_id")
        if isinstance(action_id, str) and action_id:
            self._running[action_id] = str(payload.get("kind"))[:64]
            await self._store.async_save(self._stored())

    @callback
    def _async_report_interrupted(self) -> None:
        """Actions accepted before Home Assistant stopped end ``interrupted``."""
        running, self._running = self._running, {}
        installer = linked_installer(self._entry)
        for action_id, kind in running.items():
            LOGGER.warning("Installer action %s (%s) interrupted by a stop", action_id, kind)
            self._entry.runtime_data.remote_service.audit.async_append(
                RECORD_ACTION,
                action_id=action_id,
                kind=kind,
                installer={
                    "company": installer.company if installer else None,
                    "company_id": installer.company_id if installer else None,
                    "name": None,
                },
                ok=False,
                error=delivery.ERROR_INTERRUPTED,
            )
            self._post(
                frames.new_frame(
                    frames.ACTION_RESULT,
                    delivery.interrupted_result(action_id, dt_util.utcnow()),
                )
            )

    @callback
    def _async_on_outgoing(self, frame_type: str, payload: dict[str, Any]) -> None:
        """A remote-service frame (``window``) for the portal, kept until acknowledged."""
        if self.link is not None:
            self._post(frames.new_frame(frame_type, payload))

    def as_diagnostics(self) -> dict[str, Any]:
        """Connection and consent, for diagnostics (the token is in the entry, redacted)."""
        return {
            "linked": self.link is not None,
            "connected": self.connected,
            "since": self.since.isoformat() if self.since else None,
            "monitoring": self.monitoring,
            "pending_request": self.request is not None,
            "outbox": [{"id": f["id"], "type": f["type"]} for f in self.outbox],
            "reconnect_attempt": self.attempt,
        }
