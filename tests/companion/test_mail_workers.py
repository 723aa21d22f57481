"""Several mail workers, a stalling SMTP server, failures of any kind: each mail goes out once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
import contextlib
from typing import Any

from aiosmtpd.controller import Controller
import pytest
from sqlalchemy import func, select

from companion_server.core import Core, build_core
from companion_server.mail import worker
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import OutboxMessage
from tests.companion.helpers import FakeClock, free_port
from tests.companion.test_mail import Inbox, mail_settings

MAILS = 200


class StallingInbox(Inbox):
    """Every ``every``-th message stalls: the clock jumps past any lease, then it is taken."""

    def __init__(self, clock: FakeClock, every: int) -> None:
        super().__init__()
        self.clock = clock
        self.every = every
        self.seen = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen % self.every == 0:
            # As if the server answered only after 10 minutes (the other worker runs now).
            self.clock.advance(minutes=10)
            await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


class Smtp:
    def __init__(self, handler: Inbox) -> None:
        self.port = free_port()
        self.inbox = handler
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stalling_smtp(clock: FakeClock) -> Iterator[Smtp]:
    smtp = Smtp(StallingInbox(clock, every=10))
    smtp.controller.start()
    try:
        yield smtp
    finally:
        smtp.controller.stop()


async def _unsent(core: Core) -> int:
    async with core.tx() as db:
        query = select(func.count()).where(OutboxMessage.sent_at.is_(None))
        return int(await db.scalar(query.select_from(OutboxMessage)) or 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_send_each_mail_exactly_once(
    database_url: str, stalling_smtp: Smtp, clock: FakeClock
) -> None:
    # A generous bound: a loaded machine must not turn a slow answer into a second attempt.
    settings = mail_settings(  # type: ignore[arg-type]
        database_url, stalling_smtp, mail_poll_seconds=0.05, smtp_timeout=60.0
    )
    instances = [build_core(settings, clock), build_core(settings, clock)]
    first = instances[0]
    try:
        async with first.tx() as db:
            for number in range(MAILS):
                enqueue(
                    db,
                    clock(),
                    MailKind.MEMBER_DELETED,
                    f"member-{number}@example.com",
                    "en",
                    name=f"Member {number}",
                    company="Acme",
                )
        workers = [asyncio.create_task(worker.run(core)) for core in instances]
        try:
            async with asyncio.timeout(120):
                while await _unsent(first):
                    await asyncio.sleep(0.1)
        finally:
            for task in workers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        received = Counter(str(message["Message-ID"]) for message in stalling_smtp.inbox.messages)
        duplicates = {mid: n for mid, n in received.items() if n > 1}
        assert duplicates == {}
        assert len(received) == MAILS
        recipients = {str(message["To"]) for message in stalling_smtp.inbox.messages}
        assert recipients == {f"member-{number}@example.com" for number in range(MAILS)}
        async with first.tx() as db:
            attempts = set(await db.scalars(select(OutboxMessage.attempts)))
        assert attempts == {1}
    finally:
        for core in instances:
            await core.close()


async def test_every_failure_counts_and_the_rest_goes_out(
    database_url: str, clock: FakeClock
) -> None:
    smtp = Smtp(Inbox())
    smtp.controller.start()
    core = build_core(mail_settings(database_url, smtp, mail_max_attempts=2), clock)  # type: ignore[arg-type]
    try:
        async with core.tx() as db:
            # A header no message may carry: building the message fails, not SMTP.
            broken = enqueue(
                db,
                clock(),
                MailKind.MEMBER_DELETED,
                "a@example.com\nBcc: x@example.com",
                "en",
                name="X",
                company="C",
            )
            enqueue(
                db, clock(), MailKind.MEMBER_DELETED, "b@example.com", "en", name="B", company="C"
            )
        assert await worker.deliver_due(core) == 2
        async with core.tx() as db:
            row = await db.get(OutboxMessage, broken.id)
            assert row is not None and row.attempts == 1 and row.sent_at is None
            assert row.last_error and row.last_error.startswith("ValueError")
            assert row.next_attempt_at > clock()  # backing off
        assert [str(m["To"]) for m in smtp.inbox.messages] == ["b@example.com"]
        clock.advance(hours=1)
        assert await worker.deliver_due(core) == 1
        async with core.tx() as db:
            row = await db.get(OutboxMessage, broken.id)
            assert row is not None and row.attempts == 2 and row.failed_at is not None
        clock.advance(days=1)
        assert await worker.deliver_due(core) == 0  # given up after the configured attempts
    finally:
        await core.close()
        smtp.controller.stop()
