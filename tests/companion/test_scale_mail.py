"""Two portal processes on one PostgreSQL, each with its mail worker: every mail goes out once.

The SMTP peer (aiosmtpd) counts what it receives.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import OutboxMessage
from tests.companion.helpers import free_port
from tests.companion.test_mail import SmtpServer
from tests.companion.test_scale_nginx import core, database_url, start_instance, wait_http

__all__ = ["core", "database_url"]  # the fixtures, shared with the nginx test

MAILS = 60


async def test_two_instances_deliver_each_mail_once(core: Core, database_url: str) -> None:
    smtp = SmtpServer(free_port())
    smtp.start()
    mail = {
        "mail_worker": "true",
        "mail_poll_seconds": "0.2",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp.port),
        "smtp_tls": "none",
        "mail_from": "Portal <portal@example.com>",
    }
    instances = [start_instance(database_url, "http://127.0.0.1:8080", **mail) for _ in range(2)]
    session = aiohttp.ClientSession()
    try:
        for instance in instances:
            await wait_http(session, instance.url + "/healthz")
        async with core.tx() as db:
            for number in range(MAILS):
                enqueue(
                    db,
                    core.now(),
                    MailKind.MEMBER_DELETED,
                    f"member-{number}@example.com",
                    "en",
                    name=f"Member {number}",
                    company="Acme",
                )
        async with asyncio.timeout(60):
            while True:
                async with core.tx() as db:
                    waiting = await db.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.sent_at.is_(None))
                    )
                if waiting == 0:
                    break
                await asyncio.sleep(0.1)
        received = Counter(str(m["To"]) for m in smtp.inbox.messages)
        assert received == Counter(f"member-{n}@example.com" for n in range(MAILS))
    finally:
        await session.close()
        for instance in instances:
            instance.process.terminate()
        for instance in instances:
            instance.process.wait(timeout=30)
        smtp.stop()
