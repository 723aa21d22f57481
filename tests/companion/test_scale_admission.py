"""The channel's accept budget: handshakes over it get 503 and a spread ``Retry-After``."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from companion_server.app import create_app
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
    ("handshakes", "rate"), [(0, 10.0), (-1, 10.0), (5, 0.0), (5, -1.0), (5, float("nan"))]
)
def test_bad_budgets_are_refused(handshakes: int, rate: float) -> None:
    with pytest.raises(SettingsError):
        Settings(channel_handshakes=handshakes, channel_accept_rate=rate)


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> web.Application:
    """A portal admitting one handshake at a time."""
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
        async with second.session.get(
            f"{second.base_url}/api/v1/ws",
            headers={"Authorization": f"Bearer {first.token}"},
        ) as response:
            assert response.status == 503
            assert int(response.headers["Retry-After"]) >= 1
            assert await response.json() == {"error": "busy"}
        welcome = await first.hello()
        assert welcome["payload"]["installation_id"] == reg.installation_id
        await second.connect()  # welcomed: the budget is free again
        await second.send(sim.hello())
        await second.expect("welcome")
    finally:
        await first.close()
        await second.close()


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
