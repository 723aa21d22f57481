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

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .audit import RECORD_WINDOW, AuditLog
from .const import DOMAIN, LOGGER
from .remote_window import (
    CLOSED_ENDED,
    CLOSED_UNLINKED,
    DEFAULT_HOURS,
    MAX_HOURS,
    MIN_HOURS,
    WINDOW_DECLINED,
    WINDOW_EXPIRED,
    WINDOW_GRANTED,
    WINDOW_REVOKED,
    LinkedInstaller,
    StoredWindow,
    Window,
    linked_installer,
    normalize_kinds,
    valid_hours,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

STORAGE_VERSION: Final = 1


def signal_outgoing(entry_id: str) -> str:
    """Dispatcher signal carrying ``(frame_type, payload)`` for the entry's portal channel."""
    return f"{DOMAIN}_outgoing_{entry_id}"


def signal_window(entry_id: str) -> str:
    """Dispatcher signal sent whenever the entry's window opens, changes or closes."""
    return f"{DOMAIN}_window_{entry_id}"


class _Stored(TypedDict):
    window: StoredWindow | None


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
        window = None if self.window is None else cast(StoredWindow, self.window.as_dict())
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
