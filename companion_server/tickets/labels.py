"""What the pages and mails call the kinds and statuses of tickets."""

from __future__ import annotations

from typing import Final

from companion_server.i18n import N_
from companion_server.models import TicketKind, TicketStatus

KIND_LABELS: Final = {
    TicketKind.CONTACT.value: N_("Contact request"),
    TicketKind.REPLACEMENT.value: N_("Device replacement"),
}
STATUS_LABELS: Final = {
    TicketStatus.NEW.value: N_("New"),
    TicketStatus.IN_PROGRESS.value: N_("In progress"),
    TicketStatus.WAITING.value: N_("Waiting for the customer"),
    TicketStatus.RESOLVED.value: N_("Resolved"),
    TicketStatus.CLOSED.value: N_("Closed"),
}
OPEN_STATUSES: Final = frozenset(
    {TicketStatus.NEW.value, TicketStatus.IN_PROGRESS.value, TicketStatus.WAITING.value}
)
TEMPLATE_GLOBALS: Final = {"ticket_kinds": KIND_LABELS, "ticket_statuses": STATUS_LABELS}
