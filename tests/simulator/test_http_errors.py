"""Status codes and error bodies for bad requests, as a real box answers them."""

from __future__ import annotations

import asyncio
from typing import Any
import urllib.parse

from aiohttp import ClientSession
import pytest

from box_simulator.server import BoxSimulator

from .conftest import TOKEN

SHUTTER = "io://1234-5678-9012/11803671"


async def call(
    session: ClientSession,
    sim: BoxSimulator,
    method: str,
    path: str,
    *,
    token: str | None = TOKEN,
    data: bytes | None = None,
    json: Any = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(
        method, sim.api_url + path, headers=headers, data=data, json=json, ssl=False
    ) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "Missing authorization token."), ("nope", "Not authenticated.")],
)
async def test_auth_required_everywhere_but_api_version(
    session: ClientSession, simulator: BoxSimulator, token: str | None, message: str
) -> None:
    for method, path in [("GET", "setup"), ("GET", "setup/devices"), ("POST", "events/register")]:
        status, body = await call(session, simulator, method, path, token=token)
        assert (status, body) == (401, {"errorCode": "RESOURCE_ACCESS_DENIED", "error": message})
    status, body = await call(session, simulator, "GET", "apiVersion", token=None)
    assert status == 200
    assert body == {"protocolVersion": "2025.3.2-5"}


async def test_unknown_device(session: ClientSession, simulator: BoxSimulator) -> None:
    url = "io://1234-5678-9012/99999999"
    status, body = await call(
        session, simulator, "GET", f"setup/devices/{urllib.parse.quote_plus(url)}"
    )
    assert (status, body["errorCode"], body["error"]) == (
        400,
        "NO_SUCH_DEVICE",
        f'No such device : "{url}"',
    )
    status, body = await call(
        session,
        simulator,
        "POST",
        "exec/apply",
        json={"label": "x", "actions": [{"deviceURL": url, "commands": [{"name": "open"}]}]},
    )
    assert (status, body["errorCode"]) == (400, "NO_SUCH_DEVICE")


@pytest.mark.parametrize(
    ("commands", "code", "fragment"),
    [
        ([{"name": "fly"}], "UNSUPPORTED_OPERATION", "No such command : fly"),
        ([{"name": "setClosure"}], "INVALID_FIELD_VALUE", "expected 1 parameter(s), got 0"),
        ([{"name": "setClosure", "parameters": [1, 2]}], "INVALID_FIELD_VALUE", "got 2"),
        ([{"name": "setClosure", "parameters": ["50"]}], "INVALID_FIELD_VALUE", "not an integer"),
        ([{"name": "setClosure", "parameters": [101]}], "INVALID_FIELD_VALUE", "not an integer"),
        ([{"name": "setName", "parameters": [""]}], "INVALID_FIELD_VALUE", "1 to 64 characters"),
        ([], "UNSPECIFIED_ERROR", "missing commands"),
    ],
)
async def test_bad_commands_change_nothing(
    session: ClientSession, simulator: BoxSimulator, commands: list[Any], code: str, fragment: str
) -> None:
    before = dict(simulator.box.devices[SHUTTER].states)
    status, body = await call(
        session,
        simulator,
        "POST",
        "exec/apply",
        json={"label": "x", "actions": [{"deviceURL": SHUTTER, "commands": commands}]},
    )
    assert (status, body["errorCode"]) == (400, code)
    assert fragment in body["error"]
    assert simulator.box.devices[SHUTTER].states == before
    assert simulator.box.executions == {}


async def test_malformed_json_and_unknown_path(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    status, body = await call(session, simulator, "POST", "exec/apply", data=b"{not json")
    assert (status, body["errorCode"]) == (400, "UNSPECIFIED_ERROR")
    status, body = await call(session, simulator, "POST", "exec/apply", json=["actions"])
    assert status == 400
    status, body = await call(session, simulator, "GET", "nothing/here")
    assert (status, body) == (404, {"errorCode": "INVALID_API_CALL", "error": "No such resource"})
    status, body = await call(session, simulator, "DELETE", "setup")
    assert status == 404
    # and the box keeps serving
    status, _ = await call(session, simulator, "GET", "setup/gateways")
    assert status == 200


async def test_unknown_listener_and_expiry(session: ClientSession, simulator: BoxSimulator) -> None:
    status, body = await call(session, simulator, "POST", "events/nope/fetch")
    assert (status, body) == (
        400,
        {"errorCode": "UNSPECIFIED_ERROR", "error": "No registered event listener"},
    )
    _, registered = await call(session, simulator, "POST", "events/register")
    listener = registered["id"]
    assert (await call(session, simulator, "POST", f"events/{listener}/fetch")) == (200, [])
    # ten minutes without a fetch: the box forgets the listener
    simulator.box.listeners[listener].last_fetch -= 601
    status, body = await call(session, simulator, "POST", f"events/{listener}/fetch")
    assert (status, body["error"]) == (400, "No registered event listener")
    # unregistering an unknown listener is accepted, and every POST returns JSON
    assert (await call(session, simulator, "POST", f"events/{listener}/unregister")) == (200, {})


async def test_states_endpoints(session: ClientSession, simulator: BoxSimulator) -> None:
    quoted = urllib.parse.quote_plus(SHUTTER)
    status, body = await call(
        session, simulator, "GET", f"setup/devices/{quoted}/states/core:ClosureState"
    )
    assert (status, body) == (200, {"name": "core:ClosureState", "type": 1, "value": 0})
    status, body = await call(session, simulator, "GET", f"setup/devices/{quoted}/states/core:Nope")
    assert status == 400
    status, body = await call(session, simulator, "GET", f"setup/devices/{quoted}")
    assert body["deviceURL"] == SHUTTER
    assert body["available"] is True


async def test_exec_current_and_cancel(session: ClientSession, simulator: BoxSimulator) -> None:
    simulator.box.move_seconds = 30
    _, listener = await call(session, simulator, "POST", "events/register")
    _, started = await call(
        session,
        simulator,
        "POST",
        "exec/apply",
        json={
            "label": "slow",
            "actions": [{"deviceURL": SHUTTER, "commands": [{"name": "close"}]}],
        },
    )
    exec_id = started["execId"]
    status, current = await call(session, simulator, "GET", "exec/current")
    assert [e["id"] for e in current] == [exec_id]
    assert current[0]["actionGroup"]["label"] == "slow"
    status, one = await call(session, simulator, "GET", f"exec/current/{exec_id}")
    assert one["state"] == "IN_PROGRESS"
    # pyoverkiz 1.x sends a double slash before exec/current/setup/...
    async with session.delete(
        simulator.api_url + f"/exec/current/setup/{exec_id}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        ssl=False,
    ) as response:
        assert response.status == 200
        assert await response.json() == {}
    assert (await call(session, simulator, "GET", "exec/current")) == (200, [])
    _, events = await call(session, simulator, "POST", f"events/{listener['id']}/fetch")
    assert events[-1]["name"] == "ExecutionStateChangedEvent"
    assert (events[-1]["newState"], events[-1]["failureType"]) == ("FAILED", "CMDCANCELLED")
    status, body = await call(session, simulator, "DELETE", f"exec/current/setup/{exec_id}")
    assert (status, body["error"]) == (400, "Unknown object.")
    status, body = await call(session, simulator, "DELETE", "exec/current/setup")
    assert status == 200


async def test_command_on_offline_device_fails(
    session: ClientSession, simulator: BoxSimulator
) -> None:
    simulator.box.set_device_online(SHUTTER, False)
    _, listener = await call(session, simulator, "POST", "events/register")
    await call(
        session,
        simulator,
        "POST",
        "exec/apply",
        json={"label": "x", "actions": [{"deviceURL": SHUTTER, "commands": [{"name": "close"}]}]},
    )
    for _ in range(20):
        _, events = await call(session, simulator, "POST", f"events/{listener['id']}/fetch")
        failed = [e for e in events if e.get("newState") == "FAILED"]
        if failed:
            break
        await asyncio.sleep(0.02)
    assert failed[0]["failedCommands"][0]["deviceURL"] == SHUTTER
    assert simulator.box.devices[SHUTTER].state("core:ClosureState") == 0
