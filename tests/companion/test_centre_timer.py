"""The call-back wait's end is kept by the database: two instances, restarts, races."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from companion_server.centre import console, operators, timer
from companion_server.centre.protocol_values import ActionKind, Phase
from companion_server.core import Core, build_core
from tests.companion import centre_world as world
from tests.companion.conftest import fast_settings
from tests.companion.helpers import FakeClock, eventually


@pytest.fixture
async def instances(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[Core, Core]]:
    """Two portal instances on one database, sharing the test's clock."""
    first = build_core(fast_settings(database_url), clock)
    second = build_core(fast_settings(database_url), clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def waiting_case(core: Core) -> tuple[int, int]:
    """A case whose first round reached nobody: (case id, the operator holding it)."""
    case_id, _, admin_id = await world.opened_case(core)
    await operators.claim(core, admin_id, case_id)
    for name in ("no_answer", "message_left", "no_answer", "message_left"):
        view = await console.case_view(core, admin_id, case_id)
        await operators.record_step(core, admin_id, case_id, step=name, version=view.version)
    assert (await console.case_view(core, admin_id, case_id)).state.phase is Phase.WAITING
    return case_id, admin_id


async def second_rounds(core: Core, admin_id: int, case_id: int) -> list[str]:
    view = await console.case_view(core, admin_id, case_id)
    return [s.who for s in view.steps if s.action == ActionKind.SECOND_ROUND.value]


async def test_two_instances_start_the_second_round_once(
    instances: tuple[Core, Core], clock: FakeClock
) -> None:
    first, second = instances
    case_id, admin_id = await waiting_case(first)
    assert await asyncio.gather(timer.sweep(first), timer.sweep(second)) == [0, 0]
    clock.advance(minutes=10)
    started = await asyncio.gather(timer.sweep(first), timer.sweep(second), timer.sweep(first))
    assert sum(started) == 1
    assert await second_rounds(second, admin_id, case_id) == ["timer"]
    assert (await console.case_view(second, admin_id, case_id)).state.round == 2


async def test_a_restart_loses_nothing(database_url: str, clock: FakeClock) -> None:
    before = build_core(fast_settings(database_url), clock)
    try:
        case_id, admin_id = await waiting_case(before)
    finally:
        await before.close()
    clock.advance(minutes=25)  # the portal was down past the deadline
    after = build_core(fast_settings(database_url), clock)
    try:
        left = await timer.next_deadline(after)
        assert left is not None and left.total_seconds() < 0
        assert await timer.sweep(after) == 1
        assert await timer.next_deadline(after) is None
        assert await second_rounds(after, admin_id, case_id) == ["timer"]
    finally:
        await after.close()


async def test_operator_and_timer_at_once_record_one_second_round(
    instances: tuple[Core, Core], clock: FakeClock
) -> None:
    first, second = instances
    case_id, admin_id = await waiting_case(first)
    clock.advance(minutes=11)
    view = await console.case_view(first, admin_id, case_id)
    results = await asyncio.gather(
        operators.record_step(first, admin_id, case_id, step="second_round", version=view.version),
        timer.sweep(second),
        return_exceptions=True,
    )
    assert len(await second_rounds(first, admin_id, case_id)) == 1
    # Whoever came second found the phase changed: refused (409) or nothing to sweep.
    assert results[0] is ActionKind.SECOND_ROUND or results[1] == 1


async def test_the_app_runs_the_timer(core: Core, clock: FakeClock) -> None:
    """The app's own sweep (started with it) records the round once the deadline passes."""
    case_id, admin_id = await waiting_case(core)
    clock.advance(minutes=10)

    async def recorded() -> bool:
        return bool(await second_rounds(core, admin_id, case_id))

    # The sweep runs every few seconds of real time, later on a loaded machine.
    await eventually(recorded, "the timer's second round")
    assert await second_rounds(core, admin_id, case_id) == ["timer"]
