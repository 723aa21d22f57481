"""Queue messages in the outbox, rendered in the recipient's language."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

import jinja2
from sqlalchemy import select

from companion_server.core import MAIL_PENDING
from companion_server.i18n import translator
from companion_server.models import OutboxMessage

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


class MailKind(StrEnum):
    """Every message the portal sends; each has ``templates/mail/<kind>.txt``."""

    CONFIRM_SIGNUP = "confirm_signup"
    SIGNUP_EXISTING = "signup_existing"
    RESET_PASSWORD = "reset_password"  # noqa: S105
    ACCOUNT_LOCKED = "account_locked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    INVITATION = "invitation"
    INVITATION_EXISTING = "invitation_existing"
    MEMBER_DELETED = "member_deleted"
    ROLE_CHANGED = "role_changed"
    BOX_REGISTRATION = "box_registration"
    MONITORING_REQUEST = "monitoring_request"
    ALERT = "alert"
    REMOTE_SERVICE_REQUEST = "remote_service_request"
    INTERVENTION_ENDED = "intervention_ended"
    CUSTOMER_INVITATION = "customer_invitation"
    CUSTOMER_BOX_ADDED = "customer_box_added"
    CUSTOMER_MESSAGE = "customer_message"
    TICKET_STATUS = "ticket_status"
    INBOUND_REFUSED = "inbound_refused"
    ADVANCE_PAYMENT = "advance_payment"
    INVOICE_ISSUED = "invoice_issued"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("companion_server", "templates/mail"),
        autoescape=False,  # noqa: S701 (plain-text mail, never HTML)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(kind: MailKind, language: str, **context: Any) -> tuple[str, str]:
    """Render a message: the first line of the template is the subject."""
    text = (
        _environment().get_template(f"{kind.value}.txt").render(_=translator(language), **context)
    )
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def enqueue(
    db: AsyncSession, now: datetime, kind: MailKind, to_addr: str, language: str, **context: Any
) -> OutboxMessage:
    """Add a message to the outbox (delivered after the transaction commits)."""
    subject, body = render(kind, language, **context)
    message = OutboxMessage(
        kind=kind.value,
        to_addr=to_addr,
        language=language,
        subject=subject,
        body=body,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    db.add(message)
    db.info[MAIL_PENDING] = True
    return message


async def recent(db: AsyncSession, limit: int = 100) -> list[OutboxMessage]:
    """The newest messages, for the demo outbox page."""
    rows = await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    return list(rows)
