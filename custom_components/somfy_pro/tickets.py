"""The homeowner's tickets and their installer's messages, as the portal tells them.

The portal sends the whole list of the box's tickets (``tickets``) after every change and on
every connection, and each administrator's message (``customer_message``); both are
acknowledged frames. Home Assistant keeps the newest list (across restarts), compares it with
the one before, and for every status change or new answer from the installer fires
``somfy_pro_ticket`` and shows a notification; messages are shown as notifications too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import translation
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import portal_frames as frames
from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    import asyncio

    from homeassistant.config_entries import ConfigEntry

    from .portal_channel import PortalChannel

EVENT_TICKET: Final = "somfy_pro_ticket"
CHANGE_STATUS: Final = "status"
CHANGE_ANSWER: Final = "answer"
STATUS_CLOSED: Final = "closed"
STATUS_RESOLVED: Final = "resolved"
STORAGE_VERSION: Final = 1
CATEGORY: Final = "common"


def storage_key(entry_id: str) -> str:
    """Store key of one entry's tickets."""
    return f"{DOMAIN}.{entry_id}.tickets"


def signal_tickets(entry_id: str) -> str:
    """Dispatcher signal sent when an entry's ticket list changed."""
    return f"{DOMAIN}_{entry_id}_tickets"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's tickets (the entry was deleted)."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


class TicketTracker:
    """One entry's tickets on the portal, and what the homeowner is told of them."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], channel: PortalChannel
    ) -> None:
        """Take the ticket frames of the channel; ``async_load`` reads what was kept."""
        self._hass = hass
        self._entry = entry
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        )
        self.tickets: list[dict[str, Any]] = []
        self.at: str | None = None
        self.strings: dict[str, str] = {}
        self._saving: asyncio.Task[None] | None = None
        channel.register((frames.TICKETS, frames.CUSTOMER_MESSAGE), self._async_on_frame)
        channel.on_reset(self._reset)

    async def async_load(self) -> None:
        """The list kept from before, and the texts notifications and items are written in."""
        stored = await self._store.async_load()
        if stored is not None:
            self.tickets = list(stored.get("tickets") or [])
            self.at = stored.get("at")
        self.strings = await translation.async_get_translations(
            self._hass, self._hass.config.language, CATEGORY, {DOMAIN}
        )

    def text(self, key: str, **values: Any) -> str:
        """A translated text of the ``common`` strings."""
        template = self.strings.get(f"component.{DOMAIN}.{CATEGORY}.{key}", key)
        return template.format(**values)

    def status_label(self, status: str) -> str:
        """A ticket status as the homeowner reads it."""
        return self.text(f"ticket_status_{status}")

    @property
    def open_tickets(self) -> list[dict[str, Any]]:
        """The tickets not closed, newest first (the todo list's items)."""
        return [t for t in self.tickets if t["status"] != STATUS_CLOSED]

    @callback
    def _reset(self) -> None:
        """A new link or none: the tickets of the old one no longer apply."""
        self.tickets, self.at = [], None
        self._save()

    def _save(self) -> None:
        # Written at once: lists are rare, and an entry reloaded right after keeps the newest.
        data = {"tickets": self.tickets, "at": self.at}
        self._saving = self._hass.async_create_task(self._store.async_save(data), eager_start=True)
        async_dispatcher_send(self._hass, signal_tickets(self._entry.entry_id))

    async def async_stop(self) -> None:
        """Let the last write end (the entry is unloading)."""
        if self._saving is not None:
            await self._saving

    async def _async_on_frame(self, frame_type: str, payload: dict[str, Any]) -> None:
        if frame_type == frames.CUSTOMER_MESSAGE:
            self._message(payload)
        elif _not_older(payload["at"], self.at):  # an older list resent late is dropped
            self._changes(payload["tickets"])
            self.tickets, self.at = list(payload["tickets"]), payload["at"]
            self._save()

    def _changes(self, tickets: list[dict[str, Any]]) -> None:
        before = {t["number"]: t for t in self.tickets}
        for ticket in tickets:
            old = before.get(ticket["number"])
            if old is None:
                continue  # new to Home Assistant (just created, or a first list): no news
            comment, old_comment = ticket.get("comment"), old.get("comment")
            if comment is not None and (old_comment or {}).get("id") != comment["id"]:
                self._tell(ticket, CHANGE_ANSWER)
            if ticket["status"] != old["status"]:
                self._tell(ticket, CHANGE_STATUS)

    def _tell(self, ticket: dict[str, Any], change: str) -> None:
        comment = ticket.get("comment") or {}
        self._hass.bus.async_fire(
            EVENT_TICKET,
            {
                "config_entry_id": self._entry.entry_id,
                "number": ticket["number"],
                "change": change,
                "status": ticket["status"],
                "description": ticket["description"],
                "comment": comment.get("text"),
                "author": comment.get("author"),
                "url": ticket.get("url"),
            },
        )
        values = {
            "number": ticket["number"],
            "description": ticket["description"],
            "status": self.status_label(ticket["status"]),
            "author": comment.get("author") or "",
            "comment": comment.get("text") or "",
            "url": ticket.get("url") or "",
        }
        persistent_notification.async_create(
            self._hass,
            self.text(f"ticket_{change}_message", **values),
            title=self.text(f"ticket_{change}_title", **values),
            notification_id=f"{DOMAIN}_ticket_{self._entry.entry_id}_{ticket['number']}",
        )

    def _message(self, payload: dict[str, Any]) -> None:
        company = str(self._entry.data.get("portal", {}).get("company_name") or "")
        values = {"company": company, "sender": payload["sender"], "body": payload["body"]}
        persistent_notification.async_create(
            self._hass,
            self.text("customer_message_message", **values),
            title=self.text("customer_message_title", **values),
            notification_id=f"{DOMAIN}_message_{self._entry.entry_id}_{payload['message_id']}",
        )

    def as_diagnostics(self) -> dict[str, Any]:
        """How many tickets and in which status: not what they say."""
        return {"at": self.at, "statuses": [t["status"] for t in self.tickets]}


def _not_older(at: str, than: str | None) -> bool:
    if than is None:
        return True
    new, old = dt_util.parse_datetime(at), dt_util.parse_datetime(than)
    return new is None or old is None or new >= old
