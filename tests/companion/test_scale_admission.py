"""The channel's accept budget: handshakes over it get 503 and a spread ``Retry-After``."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE, HUB
from companion_server.core import Core
from companion_server.hub.admission import MAX_RETRY_AFTER, MIN_PACE, Admission
from companion_server.settings import Settings, SettingsError
from tests.companion import ha as sim
from tests.companion.conftest import fast_settings
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import FakeClock


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def full_with_a_line(admission: Admission, waiting: int) -> list[asyncio.Task[int | None]]:
    """Every place taken by a handshake, then ``waiting`` more in line behind them."""
    for _ in range(admission.in_flight):
        assert await admission.enter() is None
    line = [asyncio.create_task(admission.enter()) for _ in range(waiting)]
    await asyncio.sleep(0)
    assert admission.waiting == waiting
    return line


async def leave(line: list[asyncio.Task[int | None]]) -> None:
    """The handshakes still in line go away (their clients gave up)."""
    for task in line:
        task.cancel()
    await asyncio.gather(*line, return_exceptions=True)


def test_handshakes_in_flight_are_bounded_and_released() -> None:
    clock = Clock()
    admission = Admission(in_flight=2, rate=1000, clock=clock)
    assert admission.admit() is None
    assert admission.admit() is None
    assert admission.admit() == 1  # a third while two are in flight
    admission.release()
    clock.now += 0.01
    assert admission.admit() is None
    assert admission.handshakes == 2
    assert admission.refused == 1


def test_refused_connections_are_booked_seconds_apart() -> None:
    """A storm is spread: each refusal books its own slot at the accept rate."""
    clock = Clock()
    admission = Admission(in_flight=100, rate=4, clock=clock)
    admitted = [admission.admit() for _ in range(4)]
    assert admitted == [None] * 4  # a second's worth at once
    hints = [admission.admit() for _ in range(40)]
    assert hints[:4] == [1] * 4  # four a second, as the rate says
    assert hints[4:8] == [2] * 4
    assert hints[-1] == 10
    clock.now += 60  # the storm is over: the bucket is full again, the booking forgotten
    for _ in range(4):
        admission.release()
    assert admission.admit() is None


def test_refused_connections_are_booked_at_the_pace_handshakes_take() -> None:
    """Handshakes lasting 0.5 s, 10 at a time: 20 a second, whatever the configured rate."""
    clock = Clock()
    admission = Admission(in_flight=10, rate=400, clock=clock)
    for _ in range(3):
        started = admission.now()
        assert admission.admit() is None
        clock.now += 0.5
        admission.release(admitted_at=started)
    assert admission.pace() == pytest.approx(20)
    for _ in range(10):
        admission.admit()  # ten in flight
    hints = [admission.admit() for _ in range(60)]
    assert hints[:19] == [1] * 19
    assert hints[20:39] == [2] * 19
    assert hints[-1] == 3


def test_quick_handshakes_book_at_the_configured_rate() -> None:
    """Few, quick handshakes say the process could take more: the pace is not the arrivals'."""
    clock = Clock()
    admission = Admission(in_flight=10, rate=50, clock=clock)
    started = admission.now()
    admission.admit()
    clock.now += 0.01
    admission.release(admitted_at=started)
    assert admission.pace() == 50
    slow = Admission(in_flight=1, rate=50, clock=clock)
    started = slow.now()
    slow.admit()
    clock.now += 60  # one stalled handshake does not send everyone away for minutes
    slow.release(admitted_at=started)
    assert slow.pace() == MIN_PACE


def test_a_hint_is_never_longer_than_the_cap() -> None:
    admission = Admission(in_flight=1, rate=0.001, clock=Clock())
    admission.admit()
    assert admission.admit() == MAX_RETRY_AFTER
    assert admission.admit() == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("handshakes", "rate", "line"),
    [
        (0, 10.0, 5.0),
        (-1, 10.0, 5.0),
        (5, 0.0, 5.0),
        (5, -1.0, 5.0),
        (5, float("nan"), 5.0),
        (5, 10.0, -1.0),
        (5, 10.0, 13.0),
        (5, 10.0, float("nan")),
    ],
)
def test_bad_budgets_are_refused(handshakes: int, rate: float, line: float) -> None:
    with pytest.raises(SettingsError):
        Settings(
            channel_handshakes=handshakes, channel_accept_rate=rate, channel_queue_seconds=line
        )


async def test_handshakes_over_the_budget_wait_in_line_in_order() -> None:
    admission = Admission(in_flight=1, rate=1000, clock=Clock(), queue_seconds=5)
    assert await admission.enter() is None
    entered: list[int] = []

    async def wait(n: int) -> None:
        assert await admission.enter() is None
        entered.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert (admission.waiting, entered) == (3, [])
    for expected in ([0], [0, 1], [0, 1, 2]):
        admission.release()  # a welcome hands its place to the first in line
        async with asyncio.timeout(5):
            while entered != expected:
                await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert (admission.handshakes, admission.waiting, admission.refused) == (1, 0, 0)


async def test_beyond_the_line_a_handshake_is_refused_after_it() -> None:
    """The line takes what the pace empties in ``queue_seconds``; the next books a later slot."""
    clock = Clock()
    admission = Admission(in_flight=1, rate=20, clock=clock, queue_seconds=0.5)
    waiters = await full_with_a_line(admission, 10)  # 20/s x 0.5 s
    assert await admission.enter() == 1  # the line takes 0.5 s, its own slot 0.05 s later
    assert admission.refused == 1
    for _ in range(10):
        admission.release()
    assert await asyncio.gather(*waiters) == [None] * 10


async def test_a_place_is_not_waited_for_forever() -> None:
    admission = Admission(in_flight=1, rate=1000, clock=Clock(), queue_seconds=0.01)
    assert await admission.enter() is None  # held by a handshake that never says hello
    assert await admission.enter() == 1  # 0.02 s later: refused, the line left
    assert (admission.waiting, admission.handshakes, admission.refused) == (0, 1, 1)


async def test_a_handshake_given_up_in_line_leaves_its_place_to_the_next() -> None:
    admission = Admission(in_flight=1, rate=1000, clock=Clock(), queue_seconds=5)
    assert await admission.enter() is None
    gone = asyncio.create_task(admission.enter())
    handed = asyncio.create_task(admission.enter())
    after = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    gone.cancel()  # its client went away while it waited
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert admission.waiting == 2
    admission.release()  # to ``handed``, which is cancelled before it runs: passed on
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    assert await after is None
    assert (admission.handshakes, admission.waiting) == (1, 0)


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> web.Application:
    """A portal admitting one handshake at a time, the others waiting in line."""
    settings = fast_settings(database_url, public_url="http://127.0.0.1:8080", channel_handshakes=1)
    return create_app(settings, clock=clock)


async def test_a_handshake_over_the_budget_waits_for_the_welcome(
    core: Core, server: TestServer
) -> None:
    reg, _ = await registered(core)
    first = HomeAssistant(str(server.make_url("/")))
    second = HomeAssistant(str(server.make_url("/")))
    try:
        assert (await first.link(reg.code))[0] == 200
        second.token = first.token
        await first.connect()  # upgraded, no hello yet: the one handshake in flight
        waiting = asyncio.create_task(second.connect())
        admission = server.app[HUB].admission
        async with asyncio.timeout(10):
            while not admission.waiting:
                await asyncio.sleep(0.01)
        assert not waiting.done()
        welcome = await first.hello()  # welcomed: its place goes to the one waiting
        assert welcome["payload"]["installation_id"] == reg.installation_id
        await waiting
        await second.send(sim.hello())
        await second.expect("welcome")
        assert admission.refused == 0
    finally:
        await first.close()
        await second.close()


async def test_without_a_line_a_handshake_over_the_budget_is_refused(
    database_url: str, clock: FakeClock
) -> None:
    settings = fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        channel_handshakes=1,
        channel_queue_seconds=0,
    )
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    first = HomeAssistant(str(server.make_url("/")))
    second = HomeAssistant(str(server.make_url("/")))
    try:
        reg, _ = await registered(server.app[CORE])
        assert (await first.link(reg.code))[0] == 200
        await first.connect()
        async with second.session.get(
            f"{second.base_url}/api/v1/ws",
            headers={"Authorization": f"Bearer {first.token}"},
        ) as response:
            assert response.status == 503
            assert int(response.headers["Retry-After"]) >= 1
            assert await response.json() == {"error": "busy"}
        await first.hello()
        second.token = first.token
        await second.connect()  # welcomed: the budget is free again
        await second.send(sim.hello())
        await second.expect("welcome")
    finally:
        await first.close()
        await second.close()
        await server.close()


async def test_a_refused_token_frees_its_place(server: TestServer) -> None:
    client = HomeAssistant(str(server.make_url("/")))
    try:
        for _ in range(3):
            async with client.session.get(
                f"{client.base_url}/api/v1/ws", headers={"Authorization": "Bearer nope"}
            ) as response:
                assert response.status == 401
    finally:
        await client.close()


def test_a_few_slow_handshakes_do_not_book_the_storm_far_out() -> None:
    """While handshakes wait, the welcomes counted say what the process takes."""
    clock = Clock()
    admission = Admission(in_flight=10, rate=400, clock=clock)
    for _ in range(10):
        admission.admit()
    # 300 welcomes a second for three seconds, the place going back each time.
    for _ in range(900):
        clock.now += 1 / 300
        admission.release(admitted_at=clock.now - 1 / 30)
        admission.admit()
    assert admission.pace() == pytest.approx(300, rel=0.01)
    started = clock.now - 2.0  # one handshake stalled 2 s: the mean of durations jumps
    admission.release(admitted_at=started)
    admission.admit()
    assert admission.pace() == pytest.approx(300, rel=0.01)
    assert admission.admit() == 1


def test_a_refusal_is_booked_after_those_still_to_come_back_only() -> None:
    """A slot booked far out at a slow moment does not push every later refusal out."""
    clock = Clock()
    admission = Admission(in_flight=1, rate=10, clock=clock)
    admission.admit()
    hints = [admission.admit() for _ in range(30)]  # three seconds' worth, ten a second
    assert hints[-1] == 3
    clock.now += 3.5  # they have come back (and were welcomed or waited)
    assert admission.admit() == 1
    assert admission.refused == 31


def test_the_first_second_of_welcomes_counts_for_a_second() -> None:
    clock = Clock()
    admission = Admission(in_flight=4, rate=1000, clock=clock)
    for _ in range(4):
        admission.admit()
    for _ in range(200):  # 200 in the storm's first second, each lasting 2 s
        clock.now += 1 / 200
        admission.release(admitted_at=clock.now - 2.0)
        admission.admit()
    assert admission.pace() == pytest.approx(200, rel=0.02)
    clock.now += 3600  # quiet for an hour, then the next storm: counted from its start
    for _ in range(100):
        clock.now += 1 / 100
        admission.release(admitted_at=clock.now - 2.0)
        admission.admit()
    assert admission.pace() == pytest.approx(100, rel=0.02)


async def test_while_handshakes_wait_the_pace_is_what_was_welcomed() -> None:
    """A saturated process shows what it takes: durations may say more."""
    clock = Clock()
    admission = Admission(in_flight=2, rate=1000, clock=clock, queue_seconds=10)
    line = await full_with_a_line(admission, 200)
    for _ in range(150):  # 50 a second, each lasting 10 ms: durations alone say 200
        clock.now += 1 / 50
        admission.release(admitted_at=clock.now - 0.01)  # its place to the next in line
    assert admission.waiting == 50
    assert admission.pace() == pytest.approx(50, rel=0.02)
    for _ in range(50):
        admission.release()
    assert await asyncio.gather(*line) == [None] * 200
    assert admission.pace() == pytest.approx(200)  # nobody waits: durations count again


async def test_the_first_welcomes_of_a_storm_are_not_the_pace_alone() -> None:
    """Ten welcomes in a storm's first tenth of a second do not book the line at 20 a second."""
    clock = Clock()
    admission = Admission(in_flight=10, rate=400, clock=clock, queue_seconds=10)
    line = await full_with_a_line(admission, 100)
    for _ in range(10):
        clock.now += 0.01
        admission.release(admitted_at=clock.now - 0.05)
    assert admission.waiting == 90
    assert admission.pace() == pytest.approx(200)  # ten at once over 50 ms
    await leave(line)


async def test_a_cold_start_handshake_does_not_pace_the_storm_after_it() -> None:
    """One home welcomed after 2.4 s as the portal started, then the storm 8 s later."""
    clock = Clock()
    admission = Admission(in_flight=32, rate=1000, clock=clock, queue_seconds=12)
    started = admission.now()
    assert await admission.enter() is None
    clock.now += 2.4
    admission.release(admitted_at=started)
    clock.now += 8
    assert admission.pace() == 1000  # nothing welcomed lately: as at start
    line = await full_with_a_line(admission, 4000)
    assert admission.refused == 0
    # The storm's own welcomes, 400 a second of 80 ms each, are its pace from then on: the
    # cold start's counts for neither the span nor the durations.
    for _ in range(800):
        clock.now += 1 / 400
        admission.release(admitted_at=clock.now - 0.08)
    assert admission.pace() == pytest.approx(400, rel=0.01)
    await leave(line)
