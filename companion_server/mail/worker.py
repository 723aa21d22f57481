"""Deliver the outbox by SMTP; failed deliveries are retried with exponential backoff.

Each message has one sender at a time: on PostgreSQL its row stays locked (``FOR UPDATE
SKIP LOCKED``) during the attempt, so several instances share the work; on SQLite (one
process) it is claimed with a lease longer than the attempt, which ``smtp_timeout`` bounds.
Every failure counts as an attempt; a crash during a delivery only delays it.
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
from sqlalchemy import Select, select

from companion_server.models import OutboxMessage

if TYPE_CHECKING:
    from datetime import datetime

    from companion_server.core import Core
    from companion_server.settings import Settings

LOGGER = logging.getLogger(__name__)
BATCH = 20
# Time to record a result after the attempt's own bound, before the claim may be taken.
LEASE_MARGIN_SECONDS = 30


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


def lease(settings: Settings) -> timedelta:
    """How long a claimed message is reserved: its whole delivery attempt, and a margin."""
    return timedelta(seconds=settings.smtp_timeout + LEASE_MARGIN_SECONDS)


async def deliver_due(core: Core) -> int:
    """Try the messages that are due, one at a time (at most ``BATCH``); return how many."""
    if not core.settings.smtp_configured:
        return 0
    deliver_next = _deliver_locked if core.engine.dialect.name == "postgresql" else _deliver_leased
    tried = 0
    while tried < BATCH and await deliver_next(core):
        tried += 1
    return tried


def _next_due(now: datetime) -> Select[tuple[OutboxMessage]]:
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


async def _deliver_locked(core: Core) -> bool:
    """PostgreSQL: the row stays locked while it is sent and its result recorded.

    Other instances skip it (``SKIP LOCKED``) for exactly as long as this one works on it,
    however long the SMTP server stalls and whatever the clocks say; if this instance dies,
    its transaction ends and the message is due again.
    """
    async with core.tx() as db:
        message = await db.scalar(_next_due(core.now()))
        if message is None:
            return False
        error = await _attempt(core.settings, message)
        _record(core, message, error)
    return True


async def _deliver_leased(core: Core) -> bool:
    """SQLite: claim with a lease covering the whole attempt, send outside any transaction.

    SQLite serves one portal process, whose single worker claims one message at a time; a
    transaction held during the send would hold the database's only write lock.
    """
    now = core.now()
    until = now + lease(core.settings)
    async with core.tx() as db:
        message = await db.scalar(_next_due(now))
        if message is None:
            return False
        message.next_attempt_at = until
    error = await _attempt(core.settings, message)
    async with core.tx() as db:
        row = await db.get(OutboxMessage, message.id)
        # Record only while the claim is still this one's.
        if row is not None and row.sent_at is None and row.next_attempt_at == until:
            _record(core, row, error)
    return True


async def _attempt(settings: Settings, message: OutboxMessage) -> str | None:
    """Send once, within ``smtp_timeout`` in all; the error, or None when delivered."""
    try:
        async with asyncio.timeout(settings.smtp_timeout):
            await send(settings, message)
    except Exception as err:  # every failure counts as an attempt, bugs included
        if not isinstance(err, aiosmtplib.SMTPException | OSError | TimeoutError):
            LOGGER.warning("Mail %s could not be sent", message.id, exc_info=err)
        return f"{type(err).__name__}: {err}"[:2000]
    return None


def _record(core: Core, message: OutboxMessage, error: str | None) -> None:
    settings = core.settings
    message.attempts += 1
    finished = core.now()
    if error is None:
        message.sent_at = finished
        message.last_error = None
        return
    message.last_error = error
    if message.attempts >= settings.mail_max_attempts:
        message.failed_at = finished
        LOGGER.error("Giving up on mail %s to %s: %s", message.id, message.to_addr, error)
    else:
        message.next_attempt_at = finished + backoff(settings, message.attempts)
        LOGGER.warning("Mail %s not delivered (%s); will retry", message.id, error)


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
