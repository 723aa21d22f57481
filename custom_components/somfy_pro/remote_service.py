"""Remote-service windows: when an installer may act on the box, and on what.

A window is granted by the homeowner (service or repair flow) for at most 8 hours and a set of
action kinds. It is kept in its own storage so a restart keeps it, and it is enforced on Home
Assistant's own clock: an expired window refuses everything whatever the portal says. The
closing (expiry, revocation, end of the intervention) is recorded in the audit log and told to
the portal with a ``window`` frame.

Frames for the portal leave through the dispatcher signal ``signal_outgoing(entry_id)`` with
``(frame_type, payload)``; the portal channel listens to it and keeps them in its
outbox until acknowledged. Nothing listens when no installer is linked: that is fine. Frames
from before the channel listens (a window that expired while Home Assistant was stopped is
closed in ``async_load``) are held until it takes them with ``async_release_held``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .audit import RECORD_WINDOW, AuditLog
from .const import DOMAIN, LOGGER

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable

    from homeassistant.config_entries import ConfigEntry

    from .box_api import Device

STORAGE_VERSION: Final = 1

KIND_PARAMETERS: Final = "parameters"
KIND_REBOOT: Final = "reboot"
KIND_PAIR_REMOTE: Final = "pair_remote"
KIND_WEB_APP: Final = "web_app"
KINDS: Final = (KIND_PARAMETERS, KIND_REBOOT, KIND_PAIR_REMOTE, KIND_WEB_APP)

MIN_HOURS: Final = 0.25
MAX_HOURS: Final = 8.0
DEFAULT_HOURS: Final = 8.0

# Window states of the ``window`` frame.
WINDOW_GRANTED: Final = "granted"
WINDOW_DECLINED: Final = "declined"
WINDOW_REVOKED: Final = "revoked"
WINDOW_EXPIRED: Final = "expired"
# Why a window closed (audit log): the three above, the installer ended the intervention, or
# the installer's link was removed or replaced.
CLOSED_ENDED: Final = "ended"
CLOSED_UNLINKED: Final = "unlinked"

# Where the link to the portal lives in the config entry's data, and its keys.
CONF_LINK: Final = "portal"
LINK_COMPANY_ID: Final = "company_id"
LINK_COMPANY_NAME: Final = "company_name"
LINK_INSTALLATION_ID: Final = "installation_id"


def signal_outgoing(entry_id: str) -> str:
    """Dispatcher signal carrying ``(frame_type, payload)`` for the entry's portal channel."""
    return f"{DOMAIN}_outgoing_{entry_id}"


def signal_window(entry_id: str) -> str:
    """Dispatcher signal sent whenever the entry's window opens, changes or closes."""
    return f"{DOMAIN}_window_{entry_id}"


# -- the installer linked to the box ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkedInstaller:
    """The installer company the box is linked to in the portal."""

    company_id: str | None
    company: str
    installation_id: str | None = None


def linked_installer(entry: ConfigEntry[Any]) -> LinkedInstaller | None:
    """The installer company this entry is linked to, or None.

    The one place that reads the link made by "Link an installer" (``portal.py``):
    ``entry.data["portal"] = {"company_id", "company_name", "installation_id", ...}``.
    """
    link = entry.data.get(CONF_LINK)
    if not isinstance(link, dict) or not link.get(LINK_COMPANY_NAME):
        return None
    company_id = link.get(LINK_COMPANY_ID)
    installation = link.get(LINK_INSTALLATION_ID)
    return LinkedInstaller(
        company_id=None if company_id is None else str(company_id),
        company=str(link[LINK_COMPANY_NAME]),
        installation_id=None if installation is None else str(installation),
    )


# -- editable io parameters -------------------------------------------------------------

STATE_NAME: Final = "core:NameState"
STATE_MEMORIZED_1: Final = "core:Memorized1PositionState"

# Why a product's parameters cannot be changed remotely.
READ_ONLY_RTS: Final = "rts_one_way"
READ_ONLY_PROTOCOL: Final = "protocol_not_io"
READ_ONLY_NONE: Final = "no_editable_parameter"


@dataclass(frozen=True, slots=True)
class Parameter:
    """An io parameter an installer may change, the command that sets it and its range."""

    key: str
    command: str
    state: str
    type: str  # "int" or "string"
    min: int | None = None
    max: int | None = None
    max_length: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description (for the portal's pencil and its editor)."""
        described: dict[str, Any] = {"type": self.type}
        if self.type == "int":
            described |= {"min": self.min, "max": self.max}
        else:
            described["max_length"] = self.max_length
        return described


PARAMETER_LABEL: Final = Parameter("label", "setName", STATE_NAME, "string", max_length=64)
PARAMETER_MY_POSITION: Final = Parameter(
    "my_position", "setMemorized1Position", STATE_MEMORIZED_1, "int", min=0, max=100
)
# io products with a "my" (favourite) position the installer may set.
MY_POSITION_UI_CLASSES: Final = frozenset(
    {
        "Awning",
        "Curtain",
        "ExteriorScreen",
        "ExteriorVenetianBlind",
        "Pergola",
        "RollerShutter",
        "Screen",
        "Shutter",
        "SwingingShutter",
        "VenetianBlind",
        "Window",
    }
)
# io products that are not real products on the box (the io stack, the box's own parts).
_NOT_PRODUCTS: Final = frozenset({"IOStack", "Pod", "ProtocolGateway"})


def editable_parameters(device: Device) -> dict[str, Parameter]:
    """The parameters of a product an installer may change remotely (io products only)."""
    if device.protocol != "io" or device.ui_class in _NOT_PRODUCTS:
        return {}
    parameters = {PARAMETER_LABEL.key: PARAMETER_LABEL}
    if device.ui_class in MY_POSITION_UI_CLASSES and STATE_MEMORIZED_1 in device.states:
        parameters[PARAMETER_MY_POSITION.key] = PARAMETER_MY_POSITION
    return parameters


def read_only_reason(device: Device) -> str | None:
    """Why the product has no editable parameter (None when it has some)."""
    if device.protocol == "rts":
        return READ_ONLY_RTS
    if device.protocol != "io":
        return READ_ONLY_PROTOCOL
    if not editable_parameters(device):
        return READ_ONLY_NONE
    return None


def describe_editable(device: Device) -> dict[str, Any]:
    """What the portal shows for a product: editable parameters with values, or the reason.

    ``{"parameters": {key: {"type", "min"/"max" or "max_length", "value"}},
    "read_only_reason": None | "rts_one_way" | "protocol_not_io" | "no_editable_parameter"}``
    """
    parameters = {
        key: {**parameter.as_dict(), "value": device.states.get(parameter.state)}
        for key, parameter in editable_parameters(device).items()
    }
    if "label" in parameters and parameters["label"]["value"] is None:
        parameters["label"]["value"] = device.label
    return {"parameters": parameters, "read_only_reason": read_only_reason(device)}


# -- windows ----------------------------------------------------------------------------


class _StoredWindow(TypedDict):
    company: str
    company_id: str | None
    installer: str | None
    granted_at: str
    until: str
    kinds: list[str]
    request_id: str | None


class _Stored(TypedDict):
    window: _StoredWindow | None


@dataclass(frozen=True, slots=True)
class Window:
    """A remote-service window granted by the homeowner."""

    company: str
    company_id: str | None
    installer: str | None
    granted_at: datetime
    until: datetime
    kinds: tuple[str, ...]
    request_id: str | None

    def is_open(self, now: datetime | None = None) -> bool:
        """Open until ``until`` (exclusive), on Home Assistant's clock."""
        return (now or dt_util.utcnow()) < self.until

    def allows(self, kind: str, now: datetime | None = None) -> bool:
        """Open and granted for this kind of action."""
        return self.is_open(now) and kind in self.kinds

    def who(self) -> dict[str, Any]:
        """The installer, as the audit log records it."""
        return {"company": self.company, "company_id": self.company_id, "name": self.installer}

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (storage, service responses, diagnostics)."""
        return {
            "company": self.company,
            "company_id": self.company_id,
            "installer": self.installer,
            "granted_at": self.granted_at.isoformat(),
            "until": self.until.isoformat(),
            "kinds": list(self.kinds),
            "request_id": self.request_id,
        }

    @classmethod
    def from_stored(cls, stored: _StoredWindow) -> Window | None:
        """Read a stored window; None when it cannot be read (it then counts as closed)."""
        granted = dt_util.parse_datetime(stored.get("granted_at", ""))
        until = dt_util.parse_datetime(stored.get("until", ""))
        if granted is None or until is None or not stored.get("company"):
            return None
        kinds = tuple(kind for kind in stored.get("kinds", []) if kind in KINDS)
        # Never trust a stored window longer than the maximum.
        until = min(until, granted + timedelta(hours=MAX_HOURS))
        return cls(
            company=str(stored["company"]),
            company_id=stored.get("company_id"),
            installer=stored.get("installer"),
            granted_at=granted,
            until=until,
            kinds=kinds,
            request_id=stored.get("request_id"),
        )


def normalize_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Kinds in their canonical order; all kinds when none are given.

    Raises ValueError naming the first unknown kind.
    """
    if kinds is None:
        return KINDS
    wanted = set()
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(kind)
        wanted.add(kind)
    if not wanted:
        return KINDS
    return tuple(kind for kind in KINDS if kind in wanted)


def valid_hours(hours: float) -> bool:
    """A window lasts from a quarter of an hour to 8 hours."""
    return math.isfinite(hours) and MIN_HOURS <= hours <= MAX_HOURS


class RemoteService:
    """The window of one entry: granted, persisted, expired on time, revoked."""

    def __init__(self, hass: HomeAssistant, entry_id: str, audit: AuditLog) -> None:
        """Prepare the store; call ``async_load`` before use."""
        self._hass = hass
        self.entry_id = entry_id
        self.audit = audit
        self._store: Store[_Stored] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        self.window: Window | None = None
        self._unsub_expiry: CALLBACK_TYPE | None = None
        self._listeners: list[Callable[[], None]] = []
        # Frames for the portal until its channel listens; None once it does.
        self._held: list[tuple[str, dict[str, Any]]] | None = []

    async def async_load(self) -> None:
        """Read the stored window: an expired one is closed (and recorded) now."""
        stored = await self._store.async_load()
        stored_window = stored.get("window") if stored else None
        if stored_window is None:
            return
        window = Window.from_stored(stored_window)
        if window is None:
            LOGGER.warning("Unreadable remote-service window in storage: closed")
            self._async_save()
            return
        self.window = window
        if window.is_open():
            self._async_schedule_expiry()
        else:
            self._async_close(WINDOW_EXPIRED)

    @callback
    def async_unload(self) -> None:
        """Stop the expiry timer (the window stays stored)."""
        if self._unsub_expiry is not None:
            self._unsub_expiry()
            self._unsub_expiry = None

    # -- state -------------------------------------------------------------------------

    @property
    def current(self) -> Window | None:
        """The open window, or None (an expired window is None even before its timer)."""
        window = self.window
        return window if window is not None and window.is_open() else None

    def allows(self, kind: str) -> bool:
        """An open window granted for this kind."""
        window = self.current
        return window is not None and window.allows(kind)

    def hello_window(self) -> dict[str, Any] | None:
        """The ``window`` field of the channel's ``hello`` frame."""
        window = self.current
        if window is None:
            return None
        return {"until": window.until.isoformat(), "kinds": list(window.kinds)}

    @callback
    def async_release_held(self) -> list[tuple[str, dict[str, Any]]]:
        """The frames held until the portal channel listens; later ones go out at once."""
        held, self._held = self._held or [], None
        return held

    def as_diagnostics(self) -> dict[str, Any]:
        """The open window and the whole audit log with its verification."""
        window = self.current
        return {
            "window": window.as_dict() if window else None,
            "audit_log": self.audit.export(),
        }

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the window opens, changes or closes."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    # -- changes -----------------------------------------------------------------------

    @callback
    def async_grant(
        self,
        installer: LinkedInstaller,
        hours: float = DEFAULT_HOURS,
        kinds: Iterable[str] | None = None,
        request_id: str | None = None,
        installer_name: str | None = None,
    ) -> Window:
        """Open a window (replacing any open one) and tell the portal.

        ``hours`` and ``kinds`` must have been validated (``valid_hours``, ``normalize_kinds``);
        they are checked again here as a last line of defence.
        """
        if not valid_hours(hours):
            raise ValueError(f"hours must be {MIN_HOURS}-{MAX_HOURS}")
        now = dt_util.utcnow()
        window = Window(
            company=installer.company,
            company_id=installer.company_id,
            installer=installer_name,
            granted_at=now,
            until=now + timedelta(hours=hours),
            kinds=normalize_kinds(kinds),
            request_id=request_id,
        )
        self.window = window
        self._async_schedule_expiry()
        self.audit.async_append(
            RECORD_WINDOW, state=WINDOW_GRANTED, installer=window.who(), window=window.as_dict()
        )
        self._async_send_window(WINDOW_GRANTED, window, request_id)
        self._async_changed()
        LOGGER.info(
            "Remote-service window granted to %s until %s for %s",
            window.company,
            window.until.isoformat(),
            ", ".join(window.kinds),
        )
        return window

    @callback
    def async_decline(self, request_id: str | None, installer: dict[str, Any]) -> None:
        """The homeowner declined a request: record it and tell the portal."""
        self.audit.async_append(
            RECORD_WINDOW, state=WINDOW_DECLINED, installer=installer, request_id=request_id
        )
        self._async_send(
            "window",
            {"request_id": request_id, "state": WINDOW_DECLINED, "until": None, "kinds": []},
        )

    @callback
    def async_revoke(self) -> bool:
        """End the window now (the homeowner revoked it); False when none was open."""
        if self.current is None:
            return False
        self._async_close(WINDOW_REVOKED)
        return True

    @callback
    def async_end(self) -> bool:
        """The installer ended the intervention: close the window (no frame: the portal knows)."""
        if self.current is None:
            return False
        self._async_close(CLOSED_ENDED)
        return True

    async def async_entry_updated(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """The entry changed: a window of an installer no longer linked ends now."""
        window = self.current
        if window is not None and not self.is_linked_to(window, linked_installer(entry)):
            self._async_close(CLOSED_UNLINKED)

    @staticmethod
    def is_linked_to(window: Window, installer: LinkedInstaller | None) -> bool:
        """The window was granted to the installer the box is linked to now."""
        if installer is None:
            return False
        if window.company_id is None or installer.company_id is None:
            return window.company == installer.company
        return window.company_id == installer.company_id

    @callback
    def _async_close(self, reason: str) -> None:
        window = self.window
        if window is None:
            return
        self.async_unload()
        self.window = None
        self.audit.async_append(
            RECORD_WINDOW,
            state=reason,
            installer=window.who(),
            request_id=window.request_id,
            granted_at=window.granted_at.isoformat(),
            until=window.until.isoformat(),
        )
        if reason not in (CLOSED_ENDED, CLOSED_UNLINKED):
            self._async_send_window(reason, window, window.request_id)
        self._async_changed()
        LOGGER.info("Remote-service window of %s closed: %s", window.company, reason)

    @callback
    def _async_schedule_expiry(self) -> None:
        self.async_unload()
        if self.window is None:
            return
        self._unsub_expiry = async_track_point_in_utc_time(
            self._hass, self._async_expired, self.window.until
        )

    @callback
    def _async_expired(self, now: datetime) -> None:
        self._unsub_expiry = None
        window = self.window
        if window is None:
            return
        if window.is_open():  # the clock moved back, or the timer fired early
            self._async_schedule_expiry()
            return
        self._async_close(WINDOW_EXPIRED)

    @callback
    def _async_changed(self) -> None:
        self._async_save()
        async_dispatcher_send(self._hass, signal_window(self.entry_id))
        for listener in list(self._listeners):
            listener()

    @callback
    def _async_save(self) -> None:
        window = None if self.window is None else cast(_StoredWindow, self.window.as_dict())
        data: _Stored = {"window": window}
        self._hass.async_create_task(self._store.async_save(data), eager_start=True)

    @callback
    def _async_send_window(self, state: str, window: Window, request_id: str | None) -> None:
        self._async_send(
            "window",
            {
                "request_id": request_id,
                "state": state,
                "until": window.until.isoformat(),
                "kinds": list(window.kinds),
            },
        )

    @callback
    def _async_send(self, frame_type: str, payload: dict[str, Any]) -> None:
        if self._held is not None:
            self._held.append((frame_type, payload))
            return
        async_dispatcher_send(self._hass, signal_outgoing(self.entry_id), frame_type, payload)


def storage_key(entry_id: str) -> str:
    """Store key of one entry's remote-service window."""
    return f"{DOMAIN}.{entry_id}.remote_service"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's window (the entry was deleted)."""
    await Store[_Stored](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()
