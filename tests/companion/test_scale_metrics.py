"""``GET /metrics``: Prometheus' text format, for the token or the configured addresses only."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
import pytest

from companion_server.app import create_app
from companion_server.core import Core
from companion_server.models import OutboxMessage
from companion_server.settings import Settings, SettingsError
from tests.companion.conftest import fast_settings
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import FakeClock

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> web.Application:
    """A portal whose metrics need the token, or a request from 10.9.8.0/24."""
    settings = fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        metrics_token=TOKEN,
        metrics_addresses=("10.9.8.0/24",),
        trusted_proxies=("127.0.0.1",),
    )
    return create_app(settings, clock=clock)


async def _get(server: TestServer, **headers: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url("/metrics"), headers=headers) as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def _values(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_connections_frames_and_backlogs(
    core: Core, server: TestServer
) -> None:
    reg, _ = await registered(core)
    ha = HomeAssistant(str(server.make_url("/")))
    try:
        assert (await ha.link(reg.code))[0] == 200
        await ha.connect()
        await ha.hello()
        status, kind, text = await _get(server, Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert kind.startswith("text/plain; version=0.0.4")
        values = _values(text)
        assert values["somfy_pro_ha_connections"] == 1
        assert values["somfy_pro_frames_received_total"] == 1
        assert values["somfy_pro_ha_handshakes"] == 0  # welcomed
        assert values["somfy_pro_ha_refused_total"] == 0
        assert values["somfy_pro_telemetry_queue"] == 0
        mail_before = values["somfy_pro_mail_backlog"]
        async with core.tx() as db:
            db.add(
                OutboxMessage(
                    kind="invitation",
                    to_addr="someone@example.com",
                    language="en",
                    subject="Subject",
                    body="Body",
                    created_at=core.now(),
                    attempts=0,
                    next_attempt_at=core.now(),
                )
            )
        values = _values((await _get(server, Authorization=f"Bearer {TOKEN}"))[2])
        assert values["somfy_pro_mail_backlog"] == mail_before + 1
        assert values["somfy_pro_outbox_frames"] >= 0
    finally:
        await ha.close()


async def test_metrics_are_refused_without_the_token_or_address(server: TestServer) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": TOKEN},
    ):
        status, _, text = await _get(server, **headers)
        assert (status, text) == (401, "unauthorized\n")
    # From an allowed address, as the trusted proxy reports it.
    status, _, _ = await _get(server, **{"X-Forwarded-For": "10.9.8.7"})
    assert status == 200
    status, _, _ = await _get(server, **{"X-Forwarded-For": "10.9.9.7"})
    assert status == 401


def test_metrics_settings_are_checked() -> None:
    with pytest.raises(SettingsError):
        Settings(metrics_token="short")
    with pytest.raises(SettingsError):
        Settings(metrics_addresses=("not-an-address",))
    env = {"COMPANION_METRICS_ADDRESSES": "127.0.0.1, 10.0.0.0/8"}
    assert Settings.from_env(env).metrics_addresses == ("127.0.0.1", "10.0.0.0/8")
