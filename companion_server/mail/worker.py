"""Deliver the outbox by SMTP; failed deliveries are retried with exponential backoff.

Messages are claimed with a lease (``next_attempt_at`` moved forward, rows locked with
``SKIP LOCKED`` on PostgreSQL), so several instances share the work and a crash during a
delivery only delays it: nothing is lost on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
import logging
import random
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiosmtplib
from sqlalchemy import select

from companion_server.models import OutboxMessage

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.settings import Settings

LOGGER = logging.getLogger(__name__)
BATCH = 20


def build_message(settings: Settings, message: OutboxMessage) -> EmailMessage:
    """The RFC 5322 message of an outbox row (stable Message-ID across retries)."""
    domain = urlsplit(settings.public_url).hostname or "localhost"
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    email["Content-Language"] = message.language  # after set_content, which resets Content-*
    return email


async def send(settings: Settings, message: OutboxMessage) -> None:
    """Hand one message to the SMTP server (raises on failure)."""
    await aiosmtplib.send(
        build_message(settings, message),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        timeout=settings.smtp_timeout,
    )


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before the next attempt: exponential, capped, with 10 % jitter."""
    delay = min(
        settings.mail_retry_base_seconds * 2 ** max(0, attempts - 1),
        settings.mail_retry_max_seconds,
    )
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))


async def deliver_due(core: Core) -> int:
    """Try every message that is due once; return how many were tried."""
    settings = core.settings
    if not settings.smtp_configured:
        return 0
    now = core.now()
    lease = now + timedelta(seconds=settings.smtp_timeout * 2 + 30)
    async with core.tx() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        claimed = list(rows)
        for message in claimed:
            message.next_attempt_at = lease
    for message in claimed:
        error: str | None = None
        try:
            await send(settings, message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            error = f"{type(err).__name__}: {err}"[:2000]
        async with core.tx() as db:
            row = await db.get(OutboxMessage, message.id)
            if row is None:
                continue
            row.attempts += 1
            finished = core.now()
            if error is None:
                row.sent_at = finished
                row.last_error = None
            else:
                row.last_error = error
                if row.attempts >= settings.mail_max_attempts:
                    row.failed_at = finished
                    LOGGER.error("Giving up on mail %s to %s: %s", row.id, row.to_addr, error)
                else:
                    row.next_attempt_at = finished + backoff(settings, row.attempts)
                    LOGGER.warning("Mail %s not delivered (%s); will retry", row.id, error)
    return len(claimed)


async def run(core: Core) -> None:
    """Deliver forever: on wake-up (new mail) or every ``mail_poll_seconds``."""
    while True:
        core.mail_wakeup.clear()
        tried = 0
        try:
            tried = await deliver_due(core)
        except Exception:
            LOGGER.exception("Mail worker failed; retrying")
        if tried >= BATCH:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.mail_wakeup.wait(), core.settings.mail_poll_seconds)
