"""The console's services: taking cases, the steps an operator records, who may do what."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from companion_server.centre import console, operators, store
from companion_server.centre.protocol_values import ActionKind, Phase, ProtocolError
from companion_server.core import Core
from companion_server.errors import Forbidden, NotFound, RuleViolation
from companion_server.models import PortalFrame, Role
from tests.companion import centre_world as world
from tests.companion.helpers import FakeClock, make_company, make_user


async def step(core: Core, operator: int, case_id: int, name: str, **extra: object) -> ActionKind:
    view = await console.case_view(core, operator, case_id)
    return await operators.record_step(
        core,
        operator,
        case_id,
        step=name,
        version=view.version,
        **extra,  # type: ignore[arg-type]
    )


async def frames_to_ha(core: Core, installation_id: int) -> list[dict]:  # type: ignore[type-arg]
    async with core.tx() as db:
        rows = await db.scalars(
            select(PortalFrame)
            .where(
                PortalFrame.installation_id == installation_id, PortalFrame.type == "centre_case"
            )
            .order_by(PortalFrame.id)
        )
        return [json.loads(row.payload) for row in rows]


async def test_two_operators_never_hold_one_case(core: Core) -> None:
    case_id, _, admin_id = await world.opened_case(core)
    company_id = await world.company_of(core, admin_id)
    first = await world.operator_of(core, company_id, "one@acme.example")
    second = await world.operator_of(core, company_id, "two@acme.example")
    results = await asyncio.gather(
        operators.claim(core, first, case_id),
        operators.claim(core, second, case_id),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "RuleViolation"]
    holder = first if results[0] is None else second
    other = second if holder == first else first
    view = await console.case_view(core, other, case_id)
    assert (view.mine, view.allowed) == (False, frozenset())
    with pytest.raises(RuleViolation):
        await step(core, other, case_id, "no_answer")
    # Handed over, the other holds it; the first no longer records anything.
    await operators.hand_over(core, holder, case_id, other)
    assert await step(core, other, case_id, "no_answer") is ActionKind.NO_ANSWER
    with pytest.raises(RuleViolation):
        await step(core, holder, case_id, "message_left")
    # Given back, anybody may take it.
    await operators.release(core, other, case_id)
    await operators.claim(core, holder, case_id)
    assert (await console.case_view(core, holder, case_id)).mine


async def test_intrusion_walkthrough_and_what_ha_sees(core: Core, clock: FakeClock) -> None:
    from companion_server.centre import timer

    case_id, installation_id, admin_id = await world.opened_case(core)
    await operators.claim(core, admin_id, case_id)
    for name in ("no_answer", "message_left", "no_answer", "no_voicemail"):
        await step(core, admin_id, case_id, name)
    view = await console.case_view(core, admin_id, case_id)
    assert view.state.phase is Phase.WAITING
    assert view.state.deadline is not None
    # Not before the deadline, for the timer as for the operator.
    assert await timer.sweep(core) == 0
    with pytest.raises(ProtocolError):
        await step(core, admin_id, case_id, "second_round")
    clock.advance(minutes=10)
    assert await timer.sweep(core) == 1
    assert await timer.sweep(core) == 0
    for name in ("no_answer", "message_left", "no_answer", "message_left"):
        await step(core, admin_id, case_id, name)
    assert (await console.case_view(core, admin_id, case_id)).state.phase is Phase.GUARD_REQUIRED
    await step(core, admin_id, case_id, "dispatch_guard")
    await step(core, admin_id, case_id, "guard_finished", note="Window forced; police called.")
    view = await console.case_view(core, admin_id, case_id)
    assert view.state.closed and view.steps[0].note == "Window forced; police called."
    assert [s.who for s in view.steps if s.action == "second_round"] == ["timer"]
    sent = await frames_to_ha(core, installation_id)
    assert [f["seq"] for f in sent] == list(range(12))
    assert {f["actor"] for f in sent} == {"home_assistant", "operator", "timer"}
    assert [f["guard"] for f in sent[-3:]] == ["required", "dispatched", "finished"]
    assert sent[-1]["outcome"] == "guard_checked"
    assert (await console.queue(core, admin_id)).items == []


async def test_password_heard_is_checked(core: Core) -> None:
    case_id, _, admin_id = await world.opened_case(core, "fire")
    await operators.claim(core, admin_id, case_id)
    wrong = await step(core, admin_id, case_id, "identify", password=world.PASSWORDS[1])
    assert wrong is ActionKind.WRONG_IDENTIFICATION
    right = await step(core, admin_id, case_id, "identify", password=world.PASSWORDS[1])
    assert right is ActionKind.IDENTIFIED
    view = await console.case_view(core, admin_id, case_id)
    assert view.state.phase is Phase.IDENTIFIED
    assert [(s.action, s.contact) for s in reversed(view.steps)] == [
        ("wrong_identification", "Alice Martin"),
        ("identified", "Bob Durand"),
    ]


async def test_call_back_names_the_contact(core: Core) -> None:
    case_id, _, admin_id = await world.opened_case(core)
    await operators.claim(core, admin_id, case_id)
    for name in ("no_password", "no_password"):
        await step(core, admin_id, case_id, name)
    assert (await console.case_view(core, admin_id, case_id)).call_back
    kind = await step(core, admin_id, case_id, "identify", password=world.PASSWORDS[1], contact=1)
    assert kind is ActionKind.IDENTIFIED
    assert (await console.case_view(core, admin_id, case_id)).steps[0].contact == "Bob Durand"


async def test_refused_steps_change_nothing(core: Core) -> None:
    case_id, installation_id, admin_id = await world.opened_case(core)
    await operators.claim(core, admin_id, case_id)
    before = await console.case_view(core, admin_id, case_id)
    with pytest.raises(ProtocolError) as refused:
        await step(core, admin_id, case_id, "dispatch_guard")
    assert refused.value.message.startswith("This step is not allowed")
    with pytest.raises(ProtocolError):
        await step(core, admin_id, case_id, "no_answer", note="x" * 2001)
    # A step decided on an outdated page.
    await step(core, admin_id, case_id, "no_answer")
    with pytest.raises(store.CaseChanged):
        await operators.record_step(
            core, admin_id, case_id, step="message_left", version=before.version
        )
    with pytest.raises(NotFound):
        await operators.record_step(core, admin_id, case_id, step="owner_cancel", version=1)
    after = await console.case_view(core, admin_id, case_id)
    assert [s.action for s in after.steps] == ["no_answer"]
    assert len(await frames_to_ha(core, installation_id)) == 2


async def test_who_sees_the_console(core: Core) -> None:
    case_id, _, admin_id = await world.opened_case(core)
    company_id = await world.company_of(core, admin_id)
    async with core.tx() as db:
        from companion_server.models import Company

        company = await db.get(Company, company_id)
    installer = await make_user(core, company, "ivan@acme.example", role=Role.INSTALLER)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await console.queue(core, installer.id)
    with pytest.raises(Forbidden):
        await operators.claim(core, installer.id, case_id)
    other = await make_user(
        core, await make_company(core, "Other"), "x@other.example", role=Role.ADMIN
    )
    assert (await console.queue(core, other.id)).items == []
    with pytest.raises(NotFound):
        await console.case_view(core, other.id, case_id)
    with pytest.raises(NotFound):
        await operators.claim(core, other.id, case_id)
    operator = await world.operator_of(core, company_id)
    [item] = (await console.queue(core, operator)).items
    assert (item.id, item.kind, item.holder) == (case_id, "intrusion", None)


async def test_queue_order(core: Core, clock: FakeClock) -> None:
    pins = ("1000-0000-0001", "1000-0000-0002", "1000-0000-0003", "1000-0000-0004")
    admin_id = None
    for pin, kind in zip(pins, ("tamper", "intrusion", "fire", "aggression"), strict=True):
        _, _, admin_id = await world.opened_case(core, kind, pin=pin, admin_id=admin_id)
        clock.advance(minutes=1)
    assert admin_id is not None
    queue = (await console.queue(core, admin_id)).items
    assert [item.kind for item in queue] == ["fire", "aggression", "intrusion", "tamper"]


async def test_after_a_duress_home_assistant_hears_nothing_more(core: Core) -> None:
    from companion_server.centre import intake
    from companion_server.models import Installation

    case_id, installation_id, admin_id = await world.opened_case(core)
    await operators.claim(core, admin_id, case_id)
    async with core.tx() as db:
        installation = await db.get(Installation, installation_id)
        assert installation is not None
        payload = world.parsed(world.owner("owner_duress", case_id))
        await intake.owner(db, installation, payload, core.now(), store.Changes.none())
    view = await console.case_view(core, admin_id, case_id)
    assert view.state.duress and view.buttons == ["dispatch_guard"]
    await step(core, admin_id, case_id, "dispatch_guard")
    await step(core, admin_id, case_id, "guard_finished", note="Burglar gone.")
    sent = await frames_to_ha(core, installation_id)
    assert [(f["status"], f["last_action"], f["outcome"]) for f in sent] == [
        ("open", "new_alert", None),
        ("closed", "owner_cancel", "owner_cancelled"),
    ]
