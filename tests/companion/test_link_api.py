"""POST /api/v1/link and /api/v1/unlink: codes, PINs, attempts, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
import hmac

from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import (
    Alert,
    Device,
    Installation,
    InstallationLink,
    InstallationState,
    InterventionEntry,
    RadioSample,
    Registration,
)
from companion_server.registration import services
from companion_server.registration.codes import MAX_CODE_ATTEMPTS
from companion_server.registration.linking import LINK_PER_IP
from companion_server.registration.services import resend
from tests.companion import ha as sim
from tests.companion.ha import PIN, HomeAssistant, registered
from tests.companion.helpers import HANG_GUARD_SECONDS, FakeClock, mails
from tests.companion.test_hub import count


@pytest.fixture
async def ha(server: TestServer) -> AsyncIterator[HomeAssistant]:
    client = HomeAssistant(str(server.make_url("/")))
    try:
        yield client
    finally:
        await client.close()


async def test_right_code_and_pin_link(core: Core, ha: HomeAssistant) -> None:
    reg, _ = await registered(core)
    [mail] = await mails(core, "home@example.com", "box_registration")
    assert reg.code in mail.body and "Link an installer" in mail.body
    assert core.settings.public_url in mail.body
    status, body = await ha.link(reg.code.lower().replace("-", " "), PIN.replace("-", ""))
    assert status == 200
    assert body["installation_id"] == reg.installation_id
    assert body["company"] == {"id": reg.company_id, "name": "Acme Installers"}
    assert len(body["token"]) >= 43  # 256 bits, URL-safe base 64
    async with core.tx() as db:
        link = await db.scalar(select(InstallationLink))
        installation = await db.get(Installation, reg.installation_id)
        stored = list(await db.scalars(select(Registration.code_hash)))
    assert link is not None and installation is not None
    assert installation.status == "linked"
    assert body["token"] not in link.token_hash and len(link.token_hash) == 64
    assert reg.code not in str(stored) and link.ha_name == "Home"


async def test_one_answer_for_every_failure(
    core: Core, ha: HomeAssistant, clock: FakeClock
) -> None:
    reg, _admin_id = await registered(core)
    other, _ = await registered(core, "2222-3333-4444", "Other Co", "boss@other.example")
    # wrong code, another box's PIN, another request's code
    for code, pin in (("AAAAA-AAAAA", PIN), (reg.code, "2222-3333-4444"), (other.code, PIN)):
        assert await ha.link(code, pin) == (400, {"error": "invalid_code"})
    # used
    assert (await ha.link(reg.code))[0] == 200
    assert await ha.link(reg.code) == (400, {"error": "invalid_code"})
    # expired
    clock.advance(days=7, seconds=1)
    assert await ha.link(other.code, "2222-3333-4444") == (400, {"error": "invalid_code"})
    # malformed bodies
    async with ha.session.post(f"{ha.base_url}/api/v1/link", data=b"{not json") as response:
        assert response.status == 400
    async with ha.session.post(f"{ha.base_url}/api/v1/link", json={"code": 1, "pin": []}) as r:
        assert r.status == 400


async def test_resend_invalidates_the_old_code(core: Core, ha: HomeAssistant) -> None:
    reg, admin_id = await registered(core)
    again = await resend(core, admin_id, reg.installation_id, email="fixed@example.com")
    assert again.code != reg.code
    assert await ha.link(reg.code) == (400, {"error": "invalid_code"})
    assert [m.to_addr for m in await mails(core, kind="box_registration")] == [
        "home@example.com",
        "fixed@example.com",
    ]
    assert (await ha.link(again.code))[0] == 200


async def test_attempts_are_limited_per_request(core: Core, ha: HomeAssistant) -> None:
    reg, _ = await registered(core)
    for _ in range(MAX_CODE_ATTEMPTS):
        assert (await ha.link(reg.code, "9999-9999-9999"))[0] == 400
    # The code was tried with wrong PINs: it no longer works, the installer sends a new one.
    assert await ha.link(reg.code) == (400, {"error": "invalid_code"})


async def test_rate_limit_per_address(core: Core, ha: HomeAssistant) -> None:
    await registered(core)
    for _ in range(LINK_PER_IP.limit):
        assert (await ha.link("ZZZZZ-ZZZZZ", "9999-9999-9999"))[0] == 400
    async with ha.session.post(
        f"{ha.base_url}/api/v1/link", json={"code": "x", "pin": "y"}
    ) as response:
        assert response.status == 429
        assert int(response.headers["Retry-After"]) > 0


async def test_code_and_pin_are_compared_in_constant_time(
    core: Core, ha: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, _ = await registered(core)
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: object, b: object) -> bool:
        calls.append((a, b))
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (await ha.link(reg.code))[0] == 200
    assert len(calls) >= 2
    assert any(isinstance(a, bytes) and a == PIN.encode() for a, _ in calls)


async def test_pin_linked_to_another_company_is_refused(core: Core, ha: HomeAssistant) -> None:
    reg, _ = await registered(core)
    assert (await ha.link(reg.code))[0] == 200
    with pytest.raises(services.RuleViolation) as err:
        await registered(core, PIN, "Rival Co", "boss@rival.example")
    assert "another installer company" in err.value.message
    assert "Acme" not in err.value.message


async def test_unlink_stops_the_token(core: Core, ha: HomeAssistant) -> None:
    reg, _ = await registered(core)
    await ha.link(reg.code)
    headers = {"Authorization": f"Bearer {ha.token}"}
    async with ha.session.post(f"{ha.base_url}/api/v1/unlink", headers=headers) as response:
        assert response.status == 204
    async with ha.session.post(f"{ha.base_url}/api/v1/unlink", headers=headers) as response:
        assert response.status == 401
    async with core.tx() as db:
        installation = await db.get(Installation, reg.installation_id)
    assert installation is not None and installation.status == "unlinked"


async def test_unlink_forgets_the_box_data(core: Core, ha: HomeAssistant) -> None:
    reg, _ = await registered(core)
    await ha.link(reg.code)
    await ha.connect()
    await ha.hello(monitoring=True)
    await ha.send(sim.snapshot())
    await ha.send(sim.alert())
    await ha.expect("ack")
    box_data = (Device, RadioSample, Alert)
    assert [await count(core, model) for model in box_data] == [2, 2, 1]

    headers = {"Authorization": f"Bearer {ha.token}"}
    async with ha.session.post(f"{ha.base_url}/api/v1/unlink", headers=headers) as response:
        assert response.status == 204
    assert [await count(core, model) for model in box_data] == [0, 0, 0]
    async with core.tx() as db:
        state = await db.get(InstallationState, reg.installation_id)
        log = list(await db.scalars(select(InterventionEntry.kind)))
    assert state is not None and state.monitoring == "none"
    assert (state.box_online, state.firmware) == (None, None)
    # The record of what happened stays.
    assert log[-1] == "unlinked_by_home_assistant"


async def test_a_late_close_of_an_ended_link_leaves_the_new_connection(
    core: Core, ha: HomeAssistant
) -> None:
    """The bus may bring "close the old link" after Home Assistant connected with its new one."""
    reg, _ = await registered(core)
    await ha.link(reg.code)
    await ha.connect()
    await ha.hello(monitoring=True)
    async with core.tx() as db:
        link = await db.scalar(select(InstallationLink))
    assert link is not None and core.hub is not None
    await core.hub.close_links(reg.installation_id, [link.id + 1], "unlinked")
    await ha.send(sim.alert())
    assert (await ha.expect("ack"))["type"] == "ack"  # still served
    await core.hub.close_links(reg.installation_id, [link.id], "unlinked")
    assert ha.ws is not None
    closed = await ha.ws.receive(timeout=HANG_GUARD_SECONDS)
    assert closed.type is WSMsgType.CLOSE and closed.extra == "unlinked"
