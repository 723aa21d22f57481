"""The WebSocket channel with a real aiohttp client: hello, consent, data, acks, replays."""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import (
    Alert,
    Device,
    InstallationState,
    PortalFrame,
    RadioSample,
    ReceivedFrame,
)
from companion_server.monitoring.services import request_monitoring
from companion_server.registration.linking import unlink_by_installer
from tests.companion import ha as sim
from tests.companion.ha import Factory, HomeAssistant, new_ha, registered
from tests.companion.helpers import HANG_GUARD_SECONDS, mails

__all__ = ["new_ha"]  # the fixture, shared with the other channel tests


async def linked(
    core: Core,
    new_ha: Factory,
    pin: str = sim.PIN,
    company: str = "Acme Installers",
    email: str = "boss@acme.example",
) -> tuple[HomeAssistant, int, int]:
    reg, admin_id = await registered(core, pin, company, email)
    client = await new_ha()
    status, _ = await client.link(reg.code, pin)
    assert status == 200
    return client, reg.installation_id, admin_id


async def count(core: Core, model: type) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def state_of(core: Core, installation_id: int) -> InstallationState:
    async with core.tx() as db:
        state = await db.get(InstallationState, installation_id)
        assert state is not None
        return state


async def test_no_token_no_socket(core: Core, server: TestServer, new_ha: Factory) -> None:
    client = await new_ha()
    for token in ("", "not-a-token"):
        async with client.session.get(
            f"{client.base_url}/api/v1/ws", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 401


async def test_hello_welcome_and_monitoring_flow(core: Core, new_ha: Factory) -> None:
    client, installation_id, admin_id = await linked(core, new_ha)
    await client.connect()
    welcome = await client.hello()
    assert welcome["payload"]["installation_id"] == installation_id
    assert welcome["payload"]["company"]["name"] == "Acme Installers"
    assert "pending" not in welcome["payload"]
    assert await client.backlog() == []
    assert (await state_of(core, installation_id)).connected
    # Before consent, box data is refused.
    snap = sim.snapshot()
    await client.send(snap)
    error = await client.expect("error")
    assert error["payload"]["code"] == "monitoring_not_granted"
    assert error["payload"]["ref"] == snap["id"]
    assert await count(core, Device) == 0
    # The installer asks; the frame arrives live.
    request_id = await request_monitoring(core, admin_id, installation_id)
    request = await client.expect("request_monitoring")
    assert request["payload"]["request_id"] == request_id
    assert request["payload"]["company"] == "Acme Installers"
    [mail] = await mails(core, "home@example.com", "monitoring_request")
    assert "Serv-e-go" in mail.subject
    await client.send(sim.frame("ack", {"id": request["id"]}))
    grant = sim.consent("granted", request_id)
    await client.send(grant)
    ack = await client.expect("ack")
    assert ack["payload"]["id"] == grant["id"]
    assert (await state_of(core, installation_id)).monitoring == "granted"
    await client.send(sim.snapshot())
    await client.send(
        sim.frame("device_update", {"url": "io://1234-5678-9012/1", "changes": {"rssi": 55}})
    )
    await client.send(sim.alert())
    await client.expect("ack")
    assert await count(core, Device) == 2
    assert await count(core, RadioSample) == 3
    async with core.tx() as db:
        frames = list(await db.scalars(select(PortalFrame)))
    assert [f.acked_at is not None for f in frames] == [True]
    # Revoked: data refused again.
    await client.send(sim.consent("revoked"))
    await client.expect("ack")
    await client.send(sim.alert("a-2"))
    assert (await client.expect("error"))["payload"]["code"] == "monitoring_not_granted"
    assert await count(core, Alert) == 1


async def test_cover_positions_are_stored(core: Core, new_ha: Factory) -> None:
    client, _installation_id, _ = await linked(core, new_ha)
    await client.connect()
    await client.hello(monitoring=True)
    shutter, sensor = sim.snapshot()["payload"]["devices"]
    await client.send(sim.snapshot([{**shutter, "position": 100}, sensor]))
    await client.send(
        sim.frame("device_update", {"url": shutter["url"], "changes": {"position": 35}})
    )
    # Anything but an integer percentage is left out, the rest of the frame applied: the
    # stored position stays.
    for bad in (True, 35.5, "0", 101):
        changes = {"position": bad, "label": f"Shutter {bad}"}
        await client.send(sim.frame("device_update", {"url": shutter["url"], "changes": changes}))
    await client.send(sim.alert())
    await client.expect("ack")
    async with core.tx() as db:
        rows = (await db.execute(select(Device.url, Device.position, Device.label))).tuples()
        positions = sorted(rows)
    assert positions == [
        (shutter["url"], 35, "Shutter 101"),
        (sensor["url"], None, sensor["label"]),
    ]


async def test_alert_ack_and_dedupe(core: Core, new_ha: Factory) -> None:
    client, _installation_id, _ = await linked(core, new_ha)
    await client.connect()
    await client.hello(monitoring=True)
    first = sim.alert("a-1")
    for _ in range(3):
        await client.send(first)
        assert (await client.expect("ack"))["payload"]["id"] == first["id"]
    # Replayed after a reconnect, too.
    await client.ws.close()  # type: ignore[union-attr]
    await client.connect()
    await client.hello(monitoring=True)
    await client.send(first)
    assert (await client.expect("ack"))["payload"]["id"] == first["id"]
    assert await count(core, Alert) == 1
    assert await count(core, ReceivedFrame) == 1
    assert len(await mails(core, "boss@acme.example", "alert")) == 1
    cleared = sim.alert("a-1", active=False)
    await client.send(cleared)
    await client.expect("ack")
    async with core.tx() as db:
        [row] = list(await db.scalars(select(Alert)))
    assert row.active is False and row.cleared_at is not None
    assert len(await mails(core, "boss@acme.example", "alert")) == 1


async def test_unacked_portal_frames_are_resent_after_reconnect(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id, admin_id = await linked(core, new_ha)
    # Queued while Home Assistant is away.
    request_id = await request_monitoring(core, admin_id, installation_id)
    await client.connect()
    await client.hello()
    [pending] = await client.backlog()
    assert pending["type"] == "request_monitoring"
    assert pending["payload"]["request_id"] == request_id
    # Not acknowledged: sent again on the next connection.
    await client.ws.close()  # type: ignore[union-attr]
    await client.connect()
    await client.hello()
    assert [f["id"] for f in await client.backlog()] == [pending["id"]]
    await client.send(sim.frame("ack", {"id": pending["id"]}))
    await client.send(sim.frame("error", {"code": "sync", "message": "flush", "ref": None}))
    await asyncio.sleep(0)
    await client.ws.close()  # type: ignore[union-attr]
    await client.connect()
    await client.hello()
    assert await client.backlog() == []


async def test_new_connection_replaces_the_old(core: Core, new_ha: Factory) -> None:
    client, _installation_id, _ = await linked(core, new_ha)
    first = await client.connect()
    await client.hello()
    second_client = await new_ha()
    second_client.token = client.token
    await second_client.connect()
    await second_client.hello()
    message = await first.receive(timeout=HANG_GUARD_SECONDS)
    assert (message.type, message.data) == (WSMsgType.CLOSE, 4000)
    await second_client.send(sim.consent("granted"))
    await second_client.expect("ack")


async def test_unlink_and_revoke_close_at_once(core: Core, new_ha: Factory) -> None:
    client, installation_id, admin_id = await linked(core, new_ha)
    ws = await client.connect()
    await client.hello()
    await unlink_by_installer(core, admin_id, installation_id)
    frames = []
    while True:
        message = await ws.receive(timeout=HANG_GUARD_SECONDS)
        if message.type != WSMsgType.TEXT:
            break
        frames.append(json.loads(message.data)["type"])
    assert "unlinked" in frames
    assert (message.type, message.data) == (WSMsgType.CLOSE, 4001)
    async with client.session.get(
        f"{client.base_url}/api/v1/ws", headers={"Authorization": f"Bearer {client.token}"}
    ) as response:
        assert response.status == 401
    # Home Assistant unlinking through the channel.
    other, other_id, _ = await linked(core, new_ha, "2222-3333-4444", "B Co", "b@b.example")
    ws = await other.connect()
    await other.hello()
    await other.send(sim.frame("unlinked", {}))
    message = await ws.receive(timeout=HANG_GUARD_SECONDS)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert (await state_of(core, other_id)).connected is False


async def test_tokens_are_confined_to_their_installation(core: Core, new_ha: Factory) -> None:
    a, a_id, _a_admin = await linked(core, new_ha)
    b, b_id, b_admin = await linked(core, new_ha, "2222-3333-4444", "B Co", "b@b.example")
    await request_monitoring(core, b_admin, b_id)
    await a.connect()
    welcome = await a.hello(monitoring=True)
    assert welcome["payload"]["installation_id"] == a_id
    assert await a.backlog() == []  # B's request is not A's
    async with core.tx() as db:
        [b_frame] = list(await db.scalars(select(PortalFrame)))
    # A acknowledging B's frame does nothing; A's data lands on A only.
    await a.send(sim.frame("ack", {"id": b_frame.frame_id}))
    await a.send(sim.snapshot())
    await a.send(sim.alert())
    await a.expect("ack")
    async with core.tx() as db:
        b_frame_now = await db.get(PortalFrame, b_frame.id)
        devices = {d.installation_id for d in await db.scalars(select(Device))}
    assert b_frame_now is not None and b_frame_now.acked_at is None
    assert devices == {a_id}
    await b.connect()
    await b.hello()
    assert [f["id"] for f in await b.backlog()] == [b_frame.frame_id]


async def test_bad_frames_are_answered_and_survived(core: Core, new_ha: Factory) -> None:
    client, _, _ = await linked(core, new_ha)
    ws = await client.connect()
    await client.hello(monitoring=True)
    cases = [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        (json.dumps({"v": 2, "id": "x", "type": "hello", "payload": {}}), "unsupported_version"),
        (json.dumps({"v": True, "id": "x", "type": "hello", "payload": {}}), "unsupported_version"),
        (json.dumps(sim.frame("hello", {})), "invalid_payload"),
        (json.dumps(sim.frame("teleport", {})), "unknown_type"),
        (json.dumps(sim.frame("welcome", {})), "unexpected_type"),
        (json.dumps({**sim.alert(), "id": "not-a-uuid"}), "invalid_frame"),
        (
            json.dumps(sim.frame("alert", {**sim.alert()["payload"], "active": 1})),
            "invalid_payload",
        ),
        (
            json.dumps(sim.frame("device_update", {"url": 5, "changes": {"rssi": 40}})),
            "invalid_payload",
        ),
        ("x" * (64 * 1024 + 1), "too_large"),
    ]
    for text, code in cases:
        await client.send(text)
        error = await client.expect("error")
        assert error["payload"]["code"] == code, text[:80]
    await ws.send_bytes(b"\x00\x01")
    assert (await client.expect("error"))["payload"]["code"] == "invalid_frame"
    # Still alive and working.
    await client.send(sim.alert())
    await client.expect("ack")
