"""The centre's frames from Home Assistant, through the real channel, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import func, select

from companion_server.centre.protocol_values import ActionKind, CaseKind, Phase
from companion_server.core import Core
from companion_server.models import CentreAlarm, CentreSubscription, ReceivedFrame
from tests.companion import centre_world as world
from tests.companion.ha import HomeAssistant, registered


class CentreHA(HomeAssistant):
    """Keeps the ``centre_case`` frames read while waiting for acks."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.seen: list[dict] = []  # type: ignore[type-arg]


Linked = Callable[[], Awaitable[tuple[CentreHA, int]]]


@pytest.fixture
async def linked_ha(core: Core, server: TestServer) -> AsyncIterator[Linked]:
    opened: list[CentreHA] = []

    async def make() -> tuple[CentreHA, int]:
        reg, _ = await registered(core)
        client = CentreHA(str(server.make_url("/")))
        opened.append(client)
        status, _ = await client.link(reg.code)
        assert status == 200
        await client.connect()
        await client.hello()
        return client, reg.installation_id

    try:
        yield make
    finally:
        for client in opened:
            await client.close()


async def send_acked(client: CentreHA, data: dict) -> None:  # type: ignore[type-arg]
    await client.send(data)
    while True:
        reply = await client.receive()
        if reply["type"] == "ack" and reply["payload"]["id"] == data["id"]:
            return
        assert reply["type"] == "centre_case", reply
        client.seen.append(reply["payload"])


async def case_frames(client: CentreHA) -> list[dict]:  # type: ignore[type-arg]
    """Every centre_case received since the last call."""
    late = [f["payload"] for f in await client.backlog() if f["type"] == "centre_case"]
    seen, client.seen = client.seen + late, []
    return seen


async def test_subscription_stored_and_stopping_forgets(core: Core, linked_ha: Linked) -> None:
    client, installation_id = await linked_ha()
    await send_acked(client, world.subscription())
    async with core.tx() as db:
        row = await db.get(CentreSubscription, installation_id)
        assert row is not None
        assert (row.status, row.complete, row.instructions) == (
            "active",
            True,
            "The dog is friendly.",
        )
        assert "+33612345678" in row.contacts
    later = world.subscription_payload("stopped")
    later["updated_at"] = "2026-03-02T07:30:00+00:00"
    await send_acked(client, {**world.subscription(), "payload": later})
    # An older one, resent late, does not undo the newer.
    await send_acked(client, world.subscription())
    async with core.tx() as db:
        row = await db.get(CentreSubscription, installation_id)
        assert row is not None
        assert (row.status, row.contacts, row.address, row.instructions) == (
            "stopped",
            "[]",
            None,
            "",
        )
    await send_acked(client, world.alarm())
    assert await world.cases(core) == []


async def test_alarm_opens_a_case_and_ha_follows(core: Core, linked_ha: Linked) -> None:
    client, installation_id = await linked_ha()
    await send_acked(client, world.subscription())
    raised = world.alarm("fire")
    await send_acked(client, raised)
    [(row, state)] = await world.cases(core)
    assert (row.installation_id, state.kind, state.phase, state.contacts) == (
        installation_id,
        CaseKind.FIRE,
        Phase.CALLING,
        2,
    )
    [opened] = await case_frames(client)
    assert opened == {
        "case_id": row.id,
        "seq": 0,
        "kind": "fire",
        "status": "open",
        "phase": "calling",
        "round": 1,
        "reached": None,
        "guard": "none",
        "outcome": None,
        "last_action": "new_alert",
        "actor": "home_assistant",
        "at": state.opened_at.isoformat(),
        "deadline": None,
    }
    # A second alarm adds to the open case; a replay of the same frame changes nothing.
    second = world.alarm("intrusion")
    await send_acked(client, second)
    await send_acked(client, second)
    await send_acked(client, world.alarm("intrusion", active=False))
    [(row, state)] = await world.cases(core)
    assert [s.action for s in state.steps] == [ActionKind.NEW_ALERT]
    assert state.alert_pending
    [frame] = await case_frames(client)
    assert (frame["seq"], frame["last_action"]) == (1, "new_alert")
    async with core.tx() as db:
        alarms = list(await db.scalars(select(CentreAlarm).order_by(CentreAlarm.id)))
        received = await db.scalar(
            select(func.count())
            .select_from(ReceivedFrame)
            .where(ReceivedFrame.type == "centre_alarm")
        )
    assert [(a.kind, a.active, a.case_id) for a in alarms] == [
        ("fire", True, row.id),
        ("intrusion", True, row.id),
        ("intrusion", False, None),
    ]
    assert received == 3


async def test_incomplete_subscription_opens_no_case(core: Core, linked_ha: Linked) -> None:
    client, _ = await linked_ha()
    await send_acked(client, world.subscription(count=0))
    await send_acked(client, world.alarm())
    no_address = world.subscription_payload(address=None, complete=True)
    no_address["updated_at"] = "2026-03-02T07:10:00+00:00"
    await send_acked(client, {**world.subscription(), "payload": no_address})
    await send_acked(client, world.alarm())
    assert await world.cases(core) == []


async def test_owner_cancel_closes_and_refused_cancel_is_kept(
    core: Core, linked_ha: Linked
) -> None:
    client, _ = await linked_ha()
    await send_acked(client, world.subscription())
    await send_acked(client, world.alarm())
    [(row, _)] = await world.cases(core)
    await send_acked(client, world.owner("owner_cancel_refused", row.id))
    await send_acked(client, world.owner("owner_cancel", None))
    [(row, state)] = await world.cases(core)
    assert [s.action for s in state.steps] == [
        ActionKind.OWNER_CANCEL_REFUSED,
        ActionKind.OWNER_CANCEL,
    ]
    assert row.closed_at is not None and state.closed
    frames = await case_frames(client)
    assert [(f["seq"], f["status"], f["outcome"], f["last_action"]) for f in frames] == [
        (0, "open", None, "new_alert"),
        (1, "open", None, "owner_cancel_refused"),
        (2, "closed", "owner_cancelled", "owner_cancel"),
    ]
    # No case open any more: a cancel is acknowledged and ignored.
    await send_acked(client, world.owner("owner_cancel", row.id))
    assert len(await world.cases(core)) == 1


async def test_duress_looks_like_a_cancel_at_home(core: Core, linked_ha: Linked) -> None:
    client, _ = await linked_ha()
    await send_acked(client, world.subscription())
    await send_acked(client, world.alarm())
    [(row, _)] = await world.cases(core)
    await send_acked(client, world.owner("owner_duress", row.id))
    await send_acked(client, world.alarm())
    [(row, state)] = await world.cases(core)
    assert (state.phase, state.duress, row.closed_at) == (Phase.GUARD_REQUIRED, True, None)
    frames = await case_frames(client)
    assert [
        (f["seq"], f["status"], f["phase"], f["guard"], f["outcome"], f["last_action"])
        for f in frames
    ] == [
        (0, "open", "calling", "none", None, "new_alert"),
        (1, "closed", "closed", "none", "owner_cancelled", "owner_cancel"),
    ]


async def test_duress_without_a_case_opens_an_aggression_case(
    core: Core, linked_ha: Linked
) -> None:
    client, _ = await linked_ha()
    await send_acked(client, world.subscription())
    await send_acked(client, world.owner("owner_duress", None))
    [(row, state)] = await world.cases(core)
    assert (state.kind, state.phase, state.duress) == (
        CaseKind.AGGRESSION,
        Phase.GUARD_REQUIRED,
        True,
    )
    [frame] = await case_frames(client)
    assert (frame["case_id"], frame["kind"], frame["status"], frame["outcome"]) == (
        row.id,
        "aggression",
        "closed",
        "owner_cancelled",
    )


@pytest.mark.parametrize(
    "payload",
    [
        world.subscription_payload(contacts=[world.contact(0, phone="0612345678")]),
        world.subscription_payload(contacts=[world.contact(0, phone="+0612345678")]),
        world.subscription_payload(contacts=[world.contact(0, phone="+3361234567\u0668")]),
        world.subscription_payload(
            contacts=[world.contact(0, password_hash=world.HASHES[0].replace("ln=14", "ln=18"))]
        ),
        world.subscription_payload(
            contacts=[world.contact(0, password_hash=world.HASHES[0].replace("r=8", "r=4"))]
        ),
        world.subscription_payload(contacts=[world.contact(0), world.contact(1), world.contact(1)]),
        world.subscription_payload(address={**world.ADDRESS, "country": "fr"}),
        world.subscription_payload(instructions="x" * 2001),
        world.subscription_payload(status="paused"),
    ],
)
async def test_bad_subscription_is_refused(
    core: Core,
    linked_ha: Linked,
    payload: dict,  # type: ignore[type-arg]
) -> None:
    client, installation_id = await linked_ha()
    await client.send({**world.subscription(), "payload": payload})
    reply = await client.receive()
    assert (reply["type"], reply["payload"]["code"]) == ("error", "invalid_payload")
    async with core.tx() as db:
        assert await db.get(CentreSubscription, installation_id) is None
