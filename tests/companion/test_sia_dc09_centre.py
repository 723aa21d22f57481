"""The transmitter against a real receiving centre: pysiaalarm, as Home Assistant's ``sia`` uses it.

pysiaalarm takes the key as the text a panel's installer types (16, 24 or 32 characters,
used as the key's bytes), so the portal's hex key here is the hex of that text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pysiaalarm import SIAAccount, SIAEvent
from pysiaalarm.aio import SIAClient
import pytest

from companion_server.centre.sia.client import (
    Delivered,
    Failure,
    Rejected,
    RetryPolicy,
    SiaTransmitter,
)
from companion_server.centre.sia.events import AlarmEvent, AlarmKind, MessageFormat
from companion_server.centre.sia.framing import next_sequence
from companion_server.centre.sia.messages import event_message
from companion_server.centre.sia.settings import CentreSettings, parse_centre_settings

ACCOUNT = "A1B2C3"
KEYS = {
    "plain": None,
    "aes128": "0123456789ABCDEF",
    "aes192": "0123456789ABCDEF01234567",
    "aes256": "0123456789ABCDEF0123456789ABCDEF",
}
EVENTS = [
    AlarmEvent(kind, restore, area=2, zone=15) for kind in AlarmKind for restore in (False, True)
]
# What pysiaalarm reports for each event: the SIA code as sent; for Contact ID, its own
# mapping (it names the restores of 130, 120 and 110 BH, PH and FH).
SIA_CODES = {
    AlarmKind.BURGLARY: ("BA", "BR"),
    AlarmKind.TAMPER: ("TA", "TR"),
    AlarmKind.PANIC: ("PA", "PR"),
    AlarmKind.FIRE: ("FA", "FR"),
}
CID = {
    AlarmKind.BURGLARY: ("130", "BA", "BH"),
    AlarmKind.TAMPER: ("137", "TA", "TR"),
    AlarmKind.PANIC: ("120", "PA", "PH"),
    AlarmKind.FIRE: ("110", "FA", "FH"),
}
FAST = RetryPolicy(timeout=2.0, attempts=3, backoff=0.01, max_backoff=0.02)


@dataclass
class Centre:
    """A pysiaalarm receiver on 127.0.0.1 and the events it accepted."""

    client: SIAClient
    port: int
    events: list[SIAEvent] = field(default_factory=list)


@pytest.fixture
async def centre() -> AsyncIterator[Centre]:
    received: list[SIAEvent] = []

    async def accept(event: SIAEvent) -> None:
        received.append(event)

    accounts = [SIAAccount(account_for(key), key) for key in KEYS.values()]
    client = SIAClient("127.0.0.1", 0, accounts, accept)
    await client.async_start()
    assert client.server is not None
    port = client.server.sockets[0].getsockname()[1]
    yield Centre(client, port, received)
    await client.async_stop()


def account_for(key: str | None) -> str:
    """One pysiaalarm account per key (pysiaalarm keys its accounts by number)."""
    return ACCOUNT if key is None else f"{len(key):X}" * 3


def centre_settings(port: int, key: str | None, fmt: MessageFormat, **extra: str) -> CentreSettings:
    return parse_centre_settings(
        {
            "host": "127.0.0.1",
            "port": str(port),
            "account": account_for(key),
            "receiver": "12",
            "line": "3",
            "key": key.encode().hex() if key else "",
            "message_format": fmt.value,
            **extra,
        }
    )


@pytest.mark.parametrize("fmt", list(MessageFormat))
@pytest.mark.parametrize("key_name", list(KEYS))
async def test_every_event_arrives_parsed_and_acknowledged(
    centre: Centre, fmt: MessageFormat, key_name: str
) -> None:
    key = KEYS[key_name]
    transmitter = SiaTransmitter(centre_settings(centre.port, key, fmt), FAST)
    sequence = 9996  # so that the numbers wrap from 9999 to 0001 on the way
    sent = []
    for event in EVENTS:
        assert await transmitter.send(event, sequence=sequence) == Delivered(sequence, 1)
        sent.append(sequence)
        sequence = next_sequence(sequence)
    assert await transmitter.link_test(sequence=sequence) == Delivered(sequence, 1)

    *alarms, null = centre.events
    assert sent == [9996, 9997, 9998, 9999, 1, 2, 3, 4]
    assert [e.sequence for e in alarms] == [f"{n:04d}" for n in sent]
    for event, got in zip(EVENTS, alarms, strict=True):
        assert got.account == account_for(key)
        assert (got.receiver, got.line) == ("R12", "L3")
        assert got.encrypted is (key is not None)
        assert got.valid_message and got.timestamp is not None
        if fmt is MessageFormat.SIA_DCS:
            assert got.code == SIA_CODES[event.kind][event.restore]
            assert (got.ri, got.message) == ("2", "015")
        else:
            cid, alarm, restore = CID[event.kind]
            assert (got.event_qualifier, got.event_type) == ("3" if event.restore else "1", cid)
            assert (got.partition, got.ri) == ("02", "015")
            assert got.code == (restore if event.restore else alarm)
    assert null.message_type.value == "NULL" and null.code == "RP"
    assert null.sequence == "0005"
    assert centre.client.counts.valid_events == len(EVENTS) + 1


async def test_wrong_key_is_refused_with_a_nak(centre: Centre) -> None:
    right = KEYS["aes128"]
    wrong = "FEDCBA9876543210"
    ours = replace(centre_settings(centre.port, right, MessageFormat.SIA_DCS), key=wrong.encode())
    # A fixed clock and pad make the bytes, and so what the centre decrypts, the same on
    # every run: garbage that pysiaalarm cannot parse.
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    event = AlarmEvent(AlarmKind.BURGLARY)
    message = event_message(ours, event, sequence=8, now=moment, pad=lambda n: "P" * n)
    answer = centre.client.sia_server.parse_and_check_event(message).create_response()
    assert answer.startswith(b"\n") and b'"NAK"0000L0R0A0[]_' in answer  # pysiaalarm's NAK

    transmitter = SiaTransmitter(
        ours, RetryPolicy(timeout=2.0, attempts=1), clock=lambda: moment, pad=lambda n: "P" * n
    )
    result = await transmitter.send(event, sequence=8)
    assert isinstance(result, Rejected)
    assert (result.failure, result.attempts, result.retry_later) == (Failure.NAK, 1, False)
    assert result.receiver_time is not None
    assert abs(result.receiver_time - datetime.now(UTC)) < timedelta(seconds=5)
    assert centre.events == []
    assert centre.client.counts.error_format == 2  # our check above and the real send


async def test_unknown_account_gets_a_bare_nak(centre: Centre) -> None:
    ours = centre_settings(centre.port, None, MessageFormat.ADM_CID, account="DEF")
    result = await SiaTransmitter(ours, FAST).send(AlarmEvent(AlarmKind.PANIC), sequence=1)
    assert result == Rejected(1, 1, Failure.NAK)
    assert centre.events == []


async def test_clock_skew_nak_corrects_the_clock_and_resends(centre: Centre) -> None:
    ours = centre_settings(centre.port, KEYS["aes256"], MessageFormat.SIA_DCS)
    behind = timedelta(minutes=7)
    transmitter = SiaTransmitter(ours, FAST, clock=lambda: datetime.now(UTC) - behind)
    result = await transmitter.send(AlarmEvent(AlarmKind.FIRE), sequence=77, attempts_so_far=1)
    assert result == Delivered(77, 3)  # one before this call, the NAKed one, the resent one
    assert abs(transmitter.clock_offset - behind) < timedelta(seconds=3)
    assert [(e.code, e.sequence) for e in centre.events] == [("FA", "0077")]
    assert centre.client.counts.error_timestamp == 1
    # The correction stays: the next message is accepted at once.
    assert await transmitter.link_test(sequence=78) == Delivered(78, 1)


async def test_a_nak_on_every_attempt_is_a_rejection(centre: Centre) -> None:
    ours = centre_settings(centre.port, KEYS["aes192"], MessageFormat.ADM_CID)
    # A clock that runs away again after every correction: the centre keeps refusing.
    drift = [timedelta(minutes=10)]

    def clock() -> datetime:
        drift[0] += timedelta(minutes=10)
        return datetime.now(UTC) + drift[0]

    transmitter = SiaTransmitter(ours, FAST, clock=clock)
    result = await transmitter.send(AlarmEvent(AlarmKind.TAMPER), sequence=9)
    assert isinstance(result, Rejected)
    assert (result.failure, result.attempts, result.retry_later) == (Failure.NAK, 3, False)
    assert result.receiver_time is not None
    assert centre.events == []


class Receiver:
    """A raw TCP receiver that answers each message with ``answer(message)`` (None: silence)."""

    def __init__(self, answer: Callable[[bytes], Awaitable[bytes | None]]) -> None:
        self.answer = answer
        self.messages: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = await reader.readuntil(b"\r")
        self.messages.append(message)
        reply = await self.answer(message)
        if reply is None:
            await reader.read()  # until the transmitter gives up and closes
        else:
            writer.write(reply)
            await writer.drain()
        writer.close()


async def test_a_silent_centre_means_retries_then_a_timeout() -> None:
    async def silence(_: bytes) -> None:
        return None

    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    receiver = Receiver(silence)
    async with receiver as port:
        ours = centre_settings(port, KEYS["aes128"], MessageFormat.SIA_DCS)
        policy = RetryPolicy(timeout=0.2, attempts=4, backoff=0.5, max_backoff=1.5)
        transmitter = SiaTransmitter(ours, policy, sleep=sleep)
        result = await transmitter.send(
            AlarmEvent(AlarmKind.BURGLARY), sequence=3, attempts_so_far=2
        )
    assert result == Rejected(3, 6, Failure.TIMEOUT)
    assert result.retry_later
    assert pauses == [0.5, 1.0, 1.5]  # doubling, bounded by max_backoff
    assert len(receiver.messages) == 4
    assert all(b'"*SIA-DCS"0003R12L3#101010[' in m for m in receiver.messages)


async def test_wrong_echo_closed_connection_and_unreachable_centre() -> None:
    async def other_sequence(message: bytes) -> bytes:
        event = SIAEvent.from_line(message.decode().strip(), {ACCOUNT: SIAAccount(ACCOUNT)})
        event.sequence = "0004"
        return event.create_response()

    async def hang_up(_: bytes) -> bytes:
        return b""

    ours = centre_settings(1, None, MessageFormat.ADM_CID)
    event = AlarmEvent(AlarmKind.FIRE, restore=True)
    for behaviour, failure in (
        (other_sequence, Failure.INVALID_ANSWER),
        (hang_up, Failure.NO_ANSWER),
    ):
        receiver = Receiver(behaviour)
        async with receiver as port:
            transmitter = SiaTransmitter(replace(ours, port=port), FAST)
            assert await transmitter.send(event, sequence=5) == Rejected(5, 3, failure)
        assert len(receiver.messages) == 3

    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    transmitter = SiaTransmitter(replace(ours, port=port), FAST)
    assert await transmitter.send(event, sequence=5) == Rejected(5, 3, Failure.UNREACHABLE)


async def test_duh_is_a_final_rejection() -> None:
    async def duh(message: bytes) -> bytes:
        event = SIAEvent.from_line(message.decode().strip(), {ACCOUNT: SIAAccount(ACCOUNT)})
        event.sia_code = None  # as for a code pysiaalarm does not know
        return event.create_response()

    receiver = Receiver(duh)
    async with receiver as port:
        transmitter = SiaTransmitter(centre_settings(port, None, MessageFormat.SIA_DCS), FAST)
        result = await transmitter.send(AlarmEvent(AlarmKind.PANIC), sequence=6)
    assert result == Rejected(6, 1, Failure.DUH)
    assert not result.retry_later
