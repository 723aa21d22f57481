"""What waits for Home Assistant: a long backlog, frames that expire, frames that could grow.

Every frame the portal sends fits in the 64 KiB Home Assistant accepts, however long it was
offline; a live command of the web app is refused while Home Assistant is offline and never
delivered late; a withdrawn request is not delivered at all.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.hub.hub import Hub
from companion_server.hub.outbox import queue_frame
from companion_server.hub.protocol import MAX_FRAME_BYTES
from companion_server.interventions.rules import LIVE_COMMAND_TTL
from companion_server.models import InstallationState, PortalFrame, RemoteAction, RemoteWindow
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import HANG_GUARD_SECONDS, FakeClock
from tests.companion.interventions_common import (
    SHUTTER,
    Setup,
    _field,
    portal,
    request_form,
    setup,
)
from tests.companion.test_mail import running_smtp, smtp

__all__ = ["portal", "running_smtp", "setup", "smtp"]

# Together far more than one frame may carry (ten times over), over several pages.
BACKLOG = 600


async def _pending(core: Core, installation_id: int) -> int:
    async with core.tx() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(PortalFrame)
                .where(
                    PortalFrame.installation_id == installation_id, PortalFrame.acked_at.is_(None)
                )
            )
            or 0
        )


async def test_a_long_backlog_follows_the_welcome_one_bounded_frame_each(
    core: Core, server: TestServer
) -> None:
    reg, _ = await registered(core)
    client = HomeAssistant(str(server.make_url("/")))
    try:
        assert (await client.link(reg.code))[0] == 200
        # Queued while Home Assistant was away: together far more than one frame may carry.
        async with core.tx() as db:
            for number in range(BACKLOG):
                queue_frame(
                    db,
                    reg.installation_id,
                    core.now(),
                    "request_monitoring",
                    {"request_id": f"r-{number}", "installer": "x" * 1200, "company": "Acme"},
                )
        ws = await client.connect()
        await client.send(sim.hello())
        sizes: list[int] = []
        received: list[dict[str, object]] = []
        while len(received) <= BACKLOG:
            message = await ws.receive(timeout=HANG_GUARD_SECONDS)
            sizes.append(len(message.data.encode()))
            received.append(json.loads(message.data))
        assert received[0]["type"] == "welcome"
        assert [f["payload"]["request_id"] for f in received[1:]] == [  # type: ignore[index]
            f"r-{number}" for number in range(BACKLOG)
        ]
        assert sum(sizes) > 10 * MAX_FRAME_BYTES
        assert max(sizes) <= MAX_FRAME_BYTES
        for frame in received[1:]:
            await client.send(sim.frame("ack", {"id": frame["id"]}))
        assert await client.backlog() == []
        assert await _pending(core, reg.installation_id) == 0
    finally:
        await client.close()


async def _offline(setup: Setup) -> None:
    """Close Home Assistant's socket; return once the portal has recorded it offline.

    The portal tells the installation's watchers once it has: each notice is a moment to look,
    however long a loaded machine takes to get there.
    """
    hub = setup.core.hub
    assert setup.ha.ws is not None and isinstance(hub, Hub)
    notices = hub.watch(setup.installation_id)
    try:
        await setup.ha.ws.close()
        while True:
            async with setup.core.tx() as db:
                state = await db.get(InstallationState, setup.installation_id)
            if state is not None and not state.connected:
                return
            try:
                await asyncio.wait_for(notices.get(), HANG_GUARD_SECONDS)
            except TimeoutError:
                raise AssertionError("the portal never saw Home Assistant leave") from None
    finally:
        hub.unwatch(setup.installation_id, notices)


async def _reconnect(setup: Setup) -> list[dict[str, object]]:
    await setup.ha.connect()
    await setup.ha.hello(monitoring=True)
    return await setup.ha.backlog()


async def test_a_live_command_to_an_offline_home_assistant_is_refused_at_once(
    setup: Setup,
) -> None:
    await setup.grant(["web_app"])
    shutter = await setup.device_id(SHUTTER)
    await _offline(setup)
    page = await setup.browser.post(
        setup.base + "/remote/web-app/command", {"device_id": str(shutter), "command": "close"}
    )
    assert page.status == 409
    assert "Home Assistant is offline: the command was not sent." in page.text
    async with setup.core.tx() as db:
        assert list(await db.scalars(select(RemoteAction))) == []
    assert await _reconnect(setup) == []


async def test_a_live_command_is_never_delivered_late(setup: Setup, clock: FakeClock) -> None:
    await setup.grant(["web_app"])
    shutter = await setup.device_id(SHUTTER)
    page = await setup.browser.post(
        setup.base + "/remote/web-app/command", {"device_id": str(shutter), "command": "close"}
    )
    assert page.status == 303
    # Home Assistant goes away before acknowledging it, and comes back a minute later.
    command = await setup.ha.expect("action")
    await _offline(setup)
    clock.advance(seconds=LIVE_COMMAND_TTL.total_seconds() + 1)
    assert await _reconnect(setup) == []
    async with setup.core.tx() as db:
        action = await db.scalar(select(RemoteAction))
    assert action is not None and action.action_id == command["payload"]["action_id"]
    assert (action.ok, action.error) == (False, "expired")
    page = await setup.browser.get(setup.base + "/remote/end")
    assert "not delivered: Home Assistant was offline" in page.text
    assert await _pending(setup.core, setup.installation_id) == 0


async def test_a_live_command_within_its_time_is_delivered_after_a_reconnect(
    setup: Setup, clock: FakeClock
) -> None:
    await setup.grant(["web_app"])
    shutter = await setup.device_id(SHUTTER)
    page = await setup.browser.post(
        setup.base + "/remote/web-app/command", {"device_id": str(shutter), "command": "open"}
    )
    assert page.status == 303
    command = await setup.ha.expect("action")
    await _offline(setup)
    clock.advance(seconds=LIVE_COMMAND_TTL.total_seconds() - 5)
    assert [f["id"] for f in await _reconnect(setup)] == [command["id"]]


async def test_a_withdrawn_remote_service_request_is_not_delivered(setup: Setup) -> None:
    await _offline(setup)
    for _ in range(2):
        page = await setup.browser.post(setup.base + "/remote-service", request_form())
        assert page.status == 303
    async with setup.core.tx() as db:
        current = await db.scalar(
            select(RemoteWindow.request_id).where(RemoteWindow.state == "requested")
        )
    backlog = await _reconnect(setup)
    assert [(f["type"], f["payload"]["request_id"]) for f in backlog] == [  # type: ignore[index]
        ("request_remote_service", current)
    ]


async def test_an_intervention_with_hundreds_of_actions_ends_in_one_bounded_frame(
    setup: Setup,
) -> None:
    await setup.grant()
    async with setup.core.tx() as db:
        window = await db.scalar(select(RemoteWindow).where(RemoteWindow.state == "granted"))
        assert window is not None
        for number in range(400):
            db.add(
                RemoteAction(
                    installation_id=setup.installation_id,
                    window_id=window.id,
                    action_id=f"00000000-0000-4000-8000-{number:012d}",
                    kind="web_app",
                    payload=json.dumps({"command": "open"}),
                    summary=f"Shutter {number}: " + "é" * 900,
                    actor_name="Alice Boss",
                    created_at=setup.core.now() - timedelta(minutes=1),
                    ok=False,
                    error="e" * 500,
                    result_at=setup.core.now(),
                )
            )
    page = await setup.browser.post(setup.base + "/remote/end", {"comment": "Done."})
    assert page.status == 303
    assert setup.ha.ws is not None
    message = await setup.ha.ws.receive(timeout=HANG_GUARD_SECONDS)
    while json.loads(message.data)["type"] != "intervention_ended":
        message = await setup.ha.ws.receive(timeout=HANG_GUARD_SECONDS)
    assert len(message.data.encode()) <= MAX_FRAME_BYTES
    payload = json.loads(message.data)["payload"]
    assert payload["comment"] == "Done."
    assert payload["actions"][0]["summary"].startswith("Shutter 0: ")
    assert len(payload["actions"]) + payload["omitted"] == 400
    assert payload["omitted"] > 0


async def test_an_interrupted_action_is_shown_as_such(setup: Setup) -> None:
    await setup.grant(["reboot"])
    page = await setup.browser.get(setup.base + "/devices")
    reboot_id = _field(page.raw, "action_id", f'action="{setup.base}/remote/reboot"')
    page = await setup.browser.post(setup.base + "/remote/reboot", {"action_id": reboot_id})
    assert page.status == 303
    frame = await setup.action()
    await setup.result(frame["payload"]["action_id"], ok=False, error="interrupted")
    page = await setup.browser.get(setup.base + "/remote/end")
    assert "interrupted: Home Assistant stopped before finishing it" in page.text
