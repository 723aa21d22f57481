"""The homeowner's tickets with their installer, as a read-only to-do list.

One item per ticket not closed: its number and the start of its description; the status,
the assignee and the installer's last public answer in the item's description. A resolved
ticket shows as done. Items cannot be added, ticked or removed here: the installer closes
a ticket, and the homeowner answers on the portal (the link is in the item).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .tickets import STATUS_RESOLVED, signal_tickets

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .models import SomfyProConfigEntry
    from .tickets import TicketTracker

# Read-only entity fed by the portal channel.
PARALLEL_UPDATES = 0
SUMMARY_CHARS = 60


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SomfyProConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the tickets list."""
    async_add_entities([SomfyProTickets(entry)])


def summary(ticket: dict[str, Any]) -> str:
    """``T-000012: The living-room shutter stops half…``."""
    description = " ".join(ticket["description"].split())
    if len(description) > SUMMARY_CHARS:
        description = description[: SUMMARY_CHARS - 1].rstrip() + "…"
    return f"{ticket['number']}: {description}"


class SomfyProTickets(TodoListEntity):
    """The box's open tickets on the installer portal."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "tickets"
    _attr_supported_features = 0

    def __init__(self, entry: SomfyProConfigEntry) -> None:
        """Attach to the box's device."""
        self._entry_id = entry.entry_id
        self._tracker: TicketTracker = entry.runtime_data.tickets
        gateway_id = entry.runtime_data.coordinator.data.gateway.id
        self._attr_unique_id = f"{gateway_id}_tickets"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, gateway_id)})

    async def async_added_to_hass(self) -> None:
        """Follow the list the portal sends."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_tickets(self._entry_id), self.async_write_ha_state
            )
        )

    @property
    def todo_items(self) -> list[TodoItem]:
        """One item per ticket not closed."""
        return [self._item(ticket) for ticket in self._tracker.open_tickets]

    @callback
    def _item(self, ticket: dict[str, Any]) -> TodoItem:
        tracker = self._tracker
        lines = [tracker.text("ticket_item_status", status=tracker.status_label(ticket["status"]))]
        if ticket.get("assignee"):
            lines.append(tracker.text("ticket_item_assignee", assignee=ticket["assignee"]))
        comment = ticket.get("comment")
        if comment:
            answer = tracker.text(
                "ticket_item_answer", author=comment["author"], comment=comment["text"]
            )
            lines.append(answer)
        if ticket.get("url"):
            lines.append(ticket["url"])
        done = ticket["status"] == STATUS_RESOLVED
        return TodoItem(
            uid=ticket["number"],
            summary=summary(ticket),
            status=TodoItemStatus.COMPLETED if done else TodoItemStatus.NEEDS_ACTION,
            description="\n".join(lines),
        )
