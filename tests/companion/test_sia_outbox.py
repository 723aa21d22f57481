"""The SIA outbox and its worker against pysiaalarm as the receiving centre, on both databases.

The portal's clock is a fake one (it decides when a retry is due); the transmitter stamps
messages with the real time, which pysiaalarm checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import logging

from pysiaalarm import SIAAccount, SIAEvent
from pysiaalarm.aio import SIAClient
from pysiaalarm.utils import Counter
import pytest
from sqlalchemy import select

from companion_server.centre.sia import store
from companion_server.centre.sia.outbox import queue_alarm
from companion_server.centre.sia.worker import SiaWorker, WorkerConfig
from companion_server.core import Core, build_core
from companion_server.models import Installation, SiaCentre, SiaMessage
from tests.companion.conftest import fast_settings
from tests.companion.helpers import FakeClock, free_port, make_company

ACCOUNT = "A1B2C3"
KEY_TEXT = "0123456789ABCDEF"  # pysiaalarm uses the characters themselves as the key
KEY_HEX = KEY_TEXT.encode().hex()
FAST = WorkerConfig(timeout=2.0, poll_seconds=0.02, retry_base_seconds=10, max_attempts=4)


@dataclass
class Centre:
    """pysiaalarm listening on 127.0.0.1:``port`` (started and stopped by the test)."""

    port: int = field(default_factory=free_port)
    events: list[SIAEvent] = field(default_factory=list)
    client: SIAClient | None = None

    async def start(self) -> None:
        async def accept(event: SIAEvent) -> None:
            self.events.append(event)

        accounts = [SIAAccount(ACCOUNT, KEY_TEXT), SIAAccount("DDD111", None)]
        self.client = SIAClient("127.0.0.1", self.port, accounts, accept)
        await self.client.async_start()

    @property
    def counts(self) -> Counter:
        """What pysiaalarm made of the lines it read (its own tally of its answers)."""
        assert self.client is not None
        return self.client.counts

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.async_stop()
            self.client = None


@pytest.fixture
async def receiver() -> AsyncIterator[Centre]:
    centre = Centre()
    await centre.start()
    yield centre
    await centre.stop()


@pytest.fixture
async def portal(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    core = build_core(fast_settings(database_url), clock)
    yield core
    await core.close()


async def forwarding_company(
    core: Core, port: int, *, key: str = KEY_HEX, fmt: str = "SIA-DCS", account: str = ACCOUNT
) -> tuple[int, int]:
    company = await make_company(core)
    form = {
        "host": "127.0.0.1",
        "port": str(port),
        "account": account,
        "receiver": "12",
        "line": "3",
        "key": key,
        "message_format": fmt,
    }
    await store.save_centre(core, company.id, form)
    async with core.tx() as db:
        installation = Installation(
            company_id=company.id, name="Villa", status="linked", created_at=core.now()
        )
        db.add(installation)
        await db.flush()
        return company.id, installation.id


async def queued(
    core: Core,
    company_id: int,
    installation_id: int | None,
    kind: str = "fire",
    active: bool = True,
    device_label: str | None = None,
) -> int | None:
    """The id of what ``queue_alarm`` queues for the alarm, in a transaction of its own."""
    async with core.tx() as db:
        message = await queue_alarm(
            db,
            company_id=company_id,
            installation_id=installation_id,
            kind=kind,
            active=active,
            at=core.now(),
            device_label=device_label,
        )
        return None if message is None else message.id


async def queue(core: Core, company_id: int, installation_id: int, kind: str, active: bool) -> int:
    message_id = await queued(core, company_id, installation_id, kind, active, "Hall detector")
    assert message_id is not None
    return message_id


async def messages(core: Core) -> list[SiaMessage]:
    async with core.tx() as db:
        return list(await db.scalars(select(SiaMessage).order_by(SiaMessage.id)))


async def test_queued_alarm_reaches_the_centre_encrypted_and_its_restore_after_it(
    portal: Core, receiver: Centre
) -> None:
    company_id, installation_id = await forwarding_company(portal, receiver.port)
    await queue(portal, company_id, installation_id, "intrusion", True)
    await queue(portal, company_id, installation_id, "intrusion", False)
    worker = SiaWorker(portal, FAST)
    assert await worker.deliver_due() == 1  # one message per company per pass
    assert await worker.deliver_due() == 1
    assert await worker.deliver_due() == 0
    assert [(e.code, e.sequence, e.account) for e in receiver.events] == [
        ("BA", "0001", ACCOUNT),
        ("BR", "0002", ACCOUNT),
    ]
    assert all(e.encrypted and (e.receiver, e.line) == ("R12", "L3") for e in receiver.events)
    rows = await messages(portal)
    assert [(m.state, m.sequence, m.attempts, m.last_error) for m in rows] == [
        ("delivered", 1, 1, None),
        ("delivered", 2, 1, None),
    ]


@pytest.mark.parametrize(
    ("kind", "alarm", "restore"),
    [
        ("intrusion", "130", "130"),
        ("aggression", "120", "120"),
        ("tamper", "137", "137"),
        ("fire", "110", "110"),
    ],
)
async def test_contact_id_codes_and_restores(
    portal: Core, receiver: Centre, kind: str, alarm: str, restore: str
) -> None:
    company_id, installation_id = await forwarding_company(
        portal, receiver.port, key="", fmt="ADM-CID", account="DDD111"
    )
    await queue(portal, company_id, installation_id, kind, True)
    await queue(portal, company_id, installation_id, kind, False)
    worker = SiaWorker(portal, FAST)
    while await worker.deliver_due():
        pass
    assert [(e.event_qualifier, e.event_type, e.encrypted) for e in receiver.events] == [
        ("1", alarm, False),
        ("3", restore, False),
    ]


async def test_retry_after_the_centre_was_down_keeps_the_number_and_the_order(
    portal: Core, clock: FakeClock
) -> None:
    centre = Centre()  # not listening yet
    company_id, installation_id = await forwarding_company(portal, centre.port)
    await queue(portal, company_id, installation_id, "fire", True)
    await queue(portal, company_id, installation_id, "fire", False)
    worker = SiaWorker(portal, FAST)
    assert await worker.deliver_due() == 1
    first, second = await messages(portal)
    assert (first.state, first.sequence, first.attempts, first.last_error) == (
        "pending",
        1,
        1,
        "unreachable",
    )
    # The restore waits behind its alarm: not tried, no number yet.
    assert (second.state, second.sequence, second.attempts) == ("pending", None, 0)
    assert await worker.deliver_due() == 0  # the backoff is not over
    await centre.start()
    try:
        clock.advance(seconds=12)
        while await worker.deliver_due():
            pass
        assert [(e.code, e.sequence) for e in centre.events] == [("FA", "0001"), ("FR", "0002")]
    finally:
        await centre.stop()
    first, second = await messages(portal)
    assert (first.state, first.sequence, first.attempts) == ("delivered", 1, 2)
    assert (second.state, second.sequence, second.attempts) == ("delivered", 2, 1)


async def test_a_refused_message_is_not_retried_forever_and_the_queue_moves_on(
    portal: Core, receiver: Centre, clock: FakeClock
) -> None:
    wrong_key = b"FEDCBA9876543210".hex()
    company_id, installation_id = await forwarding_company(portal, receiver.port, key=wrong_key)
    await queue(portal, company_id, installation_id, "tamper", True)
    worker = SiaWorker(portal, FAST)
    for _ in range(10):
        await worker.deliver_due()
        clock.advance(minutes=10)
    (message,) = await messages(portal)
    # pysiaalarm decrypts with its own key and parses what comes out. Mostly that garbage
    # matches no DC-09 data block and it answers NAK; but the pad and the timestamp make
    # the garbage differ per attempt, and when it happens to end like a data block ("]"
    # and digits) without a known event code, it answers DUH. Both are refusals: a NAK is
    # tried ``nak_attempts`` times (it may be the clock), a DUH ends the message at once.
    counts = receiver.counts
    nak = counts.error_format + counts.error_account + counts.error_timestamp
    assert (counts.events, counts.valid_events) == (message.attempts, 0)
    assert (nak, counts.error_code) in {(3, 0), (0, 1), (1, 1), (2, 1)}
    expected = ("rejected", 3, "nak") if counts.error_code == 0 else ("rejected", nak + 1, "duh")
    assert (message.state, message.attempts, message.last_error) == expected
    assert message.finished_at is not None
    assert receiver.events == []
    # The right key: the next alarm goes out; the refused one stays refused.
    form = {
        "host": "127.0.0.1",
        "port": str(receiver.port),
        "account": ACCOUNT,
        "receiver": "12",
        "line": "3",
        "key": KEY_HEX,
        "message_format": "SIA-DCS",
    }
    await store.save_centre(portal, company_id, form)
    await queue(portal, company_id, installation_id, "aggression", True)
    while await worker.deliver_due():
        pass
    assert [(e.code, e.sequence) for e in receiver.events] == [("PA", "0002")]
    assert [m.state for m in await messages(portal)] == ["rejected", "delivered"]


async def test_an_encrypted_message_to_a_plain_account_is_naked_three_times_then_rejected(
    portal: Core, receiver: Centre, clock: FakeClock
) -> None:
    # The centre holds DDD111 without a key: it cannot even try to decrypt, so every
    # attempt gets the same NAK (unlike a wrong key, whose garbage may be answered DUH).
    company_id, installation_id = await forwarding_company(portal, receiver.port, account="DDD111")
    await queue(portal, company_id, installation_id, "fire", True)
    worker = SiaWorker(portal, FAST)
    for _ in range(10):
        await worker.deliver_due()
        clock.advance(minutes=10)
    (message,) = await messages(portal)
    assert (message.state, message.attempts, message.last_error) == ("rejected", 3, "nak")
    assert (receiver.counts.error_account, receiver.counts.valid_events) == (3, 0)
    assert receiver.events == []


async def test_a_silent_centre_ends_in_failed_after_the_attempts(
    portal: Core, clock: FakeClock
) -> None:
    company_id, installation_id = await forwarding_company(portal, free_port())
    await queue(portal, company_id, installation_id, "intrusion", True)
    worker = SiaWorker(portal, FAST)
    for _ in range(6):
        await worker.deliver_due()
        clock.advance(hours=1)
    (message,) = await messages(portal)
    assert (message.state, message.attempts, message.sequence) == ("failed", 4, 1)
    assert message.finished_at is not None


async def test_restart_keeps_the_queue_and_the_numbers(
    database_url: str, clock: FakeClock, receiver: Centre
) -> None:
    first = build_core(fast_settings(database_url), clock)
    try:
        company_id, installation_id = await forwarding_company(first, receiver.port)
        for _ in range(3):
            await queue(first, company_id, installation_id, "intrusion", True)
        assert await SiaWorker(first, FAST).deliver_due() == 1
    finally:
        await first.close()
    second = build_core(fast_settings(database_url), clock)
    try:
        worker = SiaWorker(second, FAST)
        while await worker.deliver_due():
            pass
        assert [m.sequence for m in await messages(second)] == [1, 2, 3]
    finally:
        await second.close()
    assert [e.sequence for e in receiver.events] == ["0001", "0002", "0003"]


async def test_two_instances_deliver_each_message_once_in_order(
    database_url: str, clock: FakeClock, receiver: Centre
) -> None:
    settings = fast_settings(database_url)
    instances = [build_core(settings, clock), build_core(settings, clock)]
    try:
        companies = [await forwarding_company(instances[0], receiver.port) for _ in range(3)]
        per_company = 8
        for index in range(per_company):
            for company_id, installation_id in companies:
                await queue(instances[0], company_id, installation_id, "fire", index % 2 == 0)
        workers = [
            asyncio.create_task(SiaWorker(core, FAST).run()) for core in instances for _ in (1, 2)
        ]
        try:
            async with asyncio.timeout(60):
                while len(receiver.events) < per_company * len(companies):
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)  # a duplicate would arrive now
        finally:
            for task in workers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        rows = await messages(instances[0])
    finally:
        for core in instances:
            await core.close()
    assert len(receiver.events) == per_company * len(companies)
    assert {m.state for m in rows} == {"delivered"}
    assert {m.attempts for m in rows} == {1}
    for company_id, _ in companies:
        mine = [m for m in rows if m.company_id == company_id]
        # Numbered in queue order, each once: the centre got them in that order.
        assert [m.sequence for m in mine] == list(range(1, per_company + 1))
    codes = [e.code for e in receiver.events]
    assert codes.count("FA") == codes.count("FR") == per_company * len(companies) // 2


async def test_nothing_is_queued_without_a_centre_or_once_switched_off(
    portal: Core, receiver: Centre
) -> None:
    company = await make_company(portal, "No centre")
    assert await queued(portal, company.id, None) is None
    company_id, installation_id = await forwarding_company(portal, receiver.port)
    await store.disable_centre(portal, company_id)
    assert await queued(portal, company_id, installation_id) is None
    with pytest.raises(ValueError, match="unknown alarm kind"):
        await queued(portal, company_id, None, kind="flood")


async def test_the_key_is_sealed_at_rest_and_never_logged(
    portal: Core, receiver: Centre, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    company_id, installation_id = await forwarding_company(portal, receiver.port)
    await queue(portal, company_id, installation_id, "intrusion", True)
    centre_down = await forwarding_company(portal, free_port())
    await queue(portal, *centre_down, "intrusion", True)
    worker = SiaWorker(portal, FAST)
    while await worker.deliver_due():
        pass
    async with portal.tx() as db:
        sealed = await db.scalar(
            select(SiaCentre.sealed_key).where(SiaCentre.company_id == company_id)
        )
    assert sealed is not None and KEY_HEX.lower() not in sealed.lower()
    assert KEY_TEXT not in sealed
    logged = caplog.text.lower()
    assert "not delivered" in logged  # the down centre's retry was logged
    assert KEY_HEX.lower() not in logged and KEY_TEXT.lower() not in logged


async def test_a_key_that_no_longer_opens_is_reported_not_sent(
    database_url: str, clock: FakeClock, receiver: Centre
) -> None:
    first = build_core(fast_settings(database_url), clock)
    try:
        company_id, installation_id = await forwarding_company(first, receiver.port)
        await queue(first, company_id, installation_id, "intrusion", True)
    finally:
        await first.close()
    # The portal's secret changed: the sealed key no longer opens.
    other_secret = "another-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    second = build_core(fast_settings(database_url, secret_key=other_secret), clock)
    try:
        assert await SiaWorker(second, FAST).deliver_due() == 1
        (message,) = await messages(second)
        assert (message.state, message.attempts, message.last_error) == (
            "pending",
            1,
            "key_unreadable",
        )
        assert await store.link_test(second, company_id) == "key_unreadable"
    finally:
        await second.close()
    assert receiver.events == []
