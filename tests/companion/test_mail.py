"""Mail through a real SMTP server (aiosmtpd): outbox, retry with backoff, restarts, languages."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
import pytest
from sqlalchemy import select

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.mail import worker
from companion_server.mail.outbox import MailKind, enqueue, render
from companion_server.models import OutboxMessage, Role
from companion_server.settings import Settings
from companion_server.team.invitations import invite
from tests.companion.helpers import (
    PASSWORD,
    BrowserFactory,
    FakeClock,
    eventually,
    free_port,
    make_company,
    make_user,
)


class Inbox:
    """An aiosmtpd handler keeping what it receives; can refuse with 451 for a while."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def delivered(self) -> bool:
        """Whether a message has arrived."""
        return bool(self.inbox.messages)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running_smtp(smtp: SmtpServer) -> SmtpServer:
    """The SMTP server, already accepting mail."""
    smtp.start()
    return smtp


def mail_settings(database_url: str, smtp: SmtpServer, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "mail-test-secret-key-0123456789abcdefghij",
        "public_url": "http://127.0.0.1:8080",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "smtp_timeout": 5.0,
        "mail_from": "Portal <portal@example.com>",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "mail_worker": False,
        "mail_retry_base_seconds": 10.0,
    }
    values.update(changes)
    return Settings(**values)


async def _outbox(core: Core) -> list[OutboxMessage]:
    async with core.tx() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def start_portal(settings: Settings, clock: FakeClock | None = None) -> TestServer:
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    return server


async def test_outage_delays_then_delivers(
    database_url: str, smtp: SmtpServer, clock: FakeClock
) -> None:
    server = await start_portal(mail_settings(database_url, smtp), clock)
    try:
        core = server.app[CORE]
        company = await make_company(core, "Mail Co")
        admin = await make_user(core, company, "admin@example.com", language="fr", role=Role.ADMIN)
        await invite(core, admin.id, email="new@example.com", language="sk", ip="x")
        # The server is down: the attempt fails, the message waits with a backoff.
        assert await worker.deliver_due(core) == 1
        (message,) = await _outbox(core)
        assert message.sent_at is None and message.attempts == 1
        assert (
            "ConnectionRefused" in (message.last_error or "")
            or "connect" in (message.last_error or "").lower()
        )
        first_delay = message.next_attempt_at - clock()
        assert first_delay.total_seconds() > 0
        assert await worker.deliver_due(core) == 0  # not due yet
        clock.advance(seconds=12)
        assert await worker.deliver_due(core) == 1
        (message,) = await _outbox(core)
        assert message.attempts == 2
        assert message.next_attempt_at - clock() > first_delay  # backing off
        # The server comes back but refuses once with 451, then accepts.
        smtp.start()
        smtp.inbox.refuse = 1
        clock.advance(minutes=1)
        assert await worker.deliver_due(core) == 1
        (message,) = await _outbox(core)
        assert (
            message.sent_at is None
            and message.attempts == 3
            and "451" in (message.last_error or "")
        )
        clock.advance(minutes=2)
        assert await worker.deliver_due(core) == 1
        (message,) = await _outbox(core)
        assert message.sent_at is not None and message.attempts == 4
        (received,) = smtp.inbox.messages
        assert received["To"] == "new@example.com"
        assert received["From"] == "Portal <portal@example.com>"
        assert received["Subject"] == "Mail Co vás pozýva na inštalatérsky portál"
        assert received["Content-Language"] == "sk"
        assert received["Message-ID"].startswith(f"<outbox-{message.id}-")
        body = received.get_body().get_content()  # type: ignore[attr-defined]
        assert "http://127.0.0.1:8080/invitation/" in body
        assert await worker.deliver_due(core) == 0  # delivered once
    finally:
        await server.close()


async def test_outbox_survives_a_restart(
    database_url: str, smtp: SmtpServer, clock: FakeClock
) -> None:
    first = await start_portal(mail_settings(database_url, smtp, smtp_host=""), clock)
    try:
        core = first.app[CORE]
        company = await make_company(core)
        await make_user(core, company, "kept@example.com", language="es")
        browsers = BrowserFactory(str(first.make_url("/")).rstrip("/"))
        client = await browsers.new()
        await client.post("/password/forgot", {"email": "kept@example.com"})
        await browsers.close()
        assert await worker.deliver_due(core) == 0  # SMTP not configured: kept
        assert len(await _outbox(core)) == 1
    finally:
        await first.close()
    smtp.start()
    # A new process, with SMTP and the background worker: the message goes out.
    second = await start_portal(
        mail_settings(database_url, smtp, mail_worker=True, mail_poll_seconds=0.05)
    )
    try:
        await eventually(smtp.delivered, "the message at the SMTP server")
        (received,) = smtp.inbox.messages
        assert received["Subject"] == "Elegir una nueva contraseña"

        async def recorded() -> bool:  # right after the server's 250
            (message,) = await _outbox(second.app[CORE])
            return message.sent_at is not None

        await eventually(recorded, "the delivery in the outbox")
        (message,) = await _outbox(second.app[CORE])
        assert message.sent_at is not None and message.attempts == 1
    finally:
        await second.close()


async def test_worker_wakes_up_on_new_mail(database_url: str, smtp: SmtpServer) -> None:
    smtp.start()
    server = await start_portal(
        mail_settings(database_url, smtp, mail_worker=True, mail_poll_seconds=3600)
    )
    try:
        core = server.app[CORE]
        company = await make_company(core)
        await make_user(core, company, "wake@example.com")
        browsers = BrowserFactory(str(server.make_url("/")).rstrip("/"))
        client = await browsers.new()
        await client.login("wake@example.com", "wrong password!")
        await client.login("wake@example.com", "wrong password!")
        await client.login("wake@example.com", "wrong password!")
        await browsers.close()
        # Polling is hourly: only the wake-up after the commit can deliver it now.
        await eventually(smtp.delivered, "the message at the SMTP server")
        (received,) = smtp.inbox.messages
        assert received["Subject"] == "Your account is locked"
        assert PASSWORD not in str(received)
    finally:
        await server.close()


async def test_gives_up_after_max_attempts(
    database_url: str, smtp: SmtpServer, clock: FakeClock
) -> None:
    server = await start_portal(mail_settings(database_url, smtp, mail_max_attempts=2), clock)
    try:
        core = server.app[CORE]
        async with core.tx() as db:
            enqueue(
                db, clock(), MailKind.MEMBER_DELETED, "x@example.com", "en", name="X", company="C"
            )
        await worker.deliver_due(core)
        clock.advance(hours=1)
        await worker.deliver_due(core)
        (message,) = await _outbox(core)
        assert message.failed_at is not None and message.attempts == 2
        clock.advance(days=1)
        assert await worker.deliver_due(core) == 0
    finally:
        await server.close()


def test_every_mail_renders_in_every_language() -> None:
    context = {
        "name": "Zoé",
        "company": "Acme",
        "link": "http://x/y",
        "hours": 48,
        "minutes": 60,
        "attempts": 3,
        "forgot_link": "http://x/f",
        "inviter": "Bob",
        "days": 7,
        "admin": True,
        "pin": "1234-5678-9012",
        "code": "ABCDE-12345",
        "portal_url": "http://x",
        "installer": "Ivan",
        "installation": "Villa",
        "alert": "Intrusion",
        "device": "Door",
        "time": "2026-03-02 08:00 UTC",
        "sender": "Alice",
        "body": "See you on Monday.",
        "number": "T-000042",
        "status": "Waiting for the customer",
        "reason": "no_pin",
        "subject": "Help",
        "amount": "€120.00",
        "card": True,
    }
    subjects = set()
    for kind in MailKind:
        for language in ("en", "fr", "es", "sk"):
            subject, body = render(kind, language, **context)
            assert subject and "\n" not in subject and body.strip(), (kind, language)
            assert "{" not in subject + body, (kind, language)
            subjects.add(subject)
    assert len(subjects) > len(MailKind) * 3  # really translated


def test_backoff_grows_and_is_capped() -> None:
    settings = Settings(secret_key="x" * 40, mail_retry_base_seconds=10, mail_retry_max_seconds=600)
    delays = [worker.backoff(settings, attempt).total_seconds() for attempt in range(1, 12)]
    assert 9 <= delays[0] <= 11 and 18 <= delays[1] <= 22
    assert max(delays) <= 660 and delays[-1] >= 540
