"""Remote-service windows, portal side: refusals, expiry, revocation, reconnection, lapse."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select

from companion_server.models import RemoteAction, Role
from tests.companion import ha as sim
from tests.companion.helpers import FakeClock, PortalClient, mails, make_company, make_user
from tests.companion.interventions_common import ALL_KINDS, RTS, SHUTTER, Setup, portal, setup
from tests.companion.test_mail import running_smtp, smtp

__all__ = ["portal", "running_smtp", "setup", "smtp"]


async def test_refusals(setup: Setup, clock: FakeClock, portal: TestServer) -> None:
    browser, base = setup.browser, setup.base
    shutter = await setup.device_id(SHUTTER)
    rts = await setup.device_id(RTS)
    # No window.
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    assert (await browser.get(base + "/remote/web-app")).status == 409
    assert (await browser.get(base + "/remote/end")).status == 409
    # Expired on the portal's clock (time moved on).
    await setup.grant(hours=0.25)
    assert (await browser.get(base + "/devices")).raw.count('class="pencil"') == 3
    clock.advance(minutes=15, seconds=1)
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    assert 'data-remote="closed"' in (await browser.get(base)).raw
    # Revoked in Home Assistant mid-session.
    await setup.grant()
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    await setup.action()
    await setup.window("revoked")
    page = await browser.post(base + "/remote/reboot", {})
    assert page.status == 409
    page = await browser.get(base)
    assert 'data-last-window="revoked"' in page.raw
    # The web app, open meanwhile: its live update is told to leave (the page says why).
    assert (await browser.get(base + "/remote/web-app")).status == 409
    live = {"X-Live-Update": "1"}
    assert (await browser.get(base + "/remote/web-app", headers=live)).status == 204
    assert (await browser.get(base + "/devices", headers=live)).status == 200
    # A kind not granted; an RTS parameter; a parameter the product does not have.
    await setup.grant(kinds=["reboot"])
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/pair" not in page.raw
    form = {"device_id": str(shutter), "parameter": "label", "value": "x"}
    page = await browser.post(base + "/remote/parameters", form)
    assert page.status == 409 and "did not allow this kind" in page.text
    assert (await browser.get(base + "/remote/web-app")).status == 409
    assert (await browser.post(base + "/remote/web-app")).status == 409
    assert (await browser.get(base + "/remote/pair")).status == 409
    await setup.window("revoked")
    await setup.grant()
    page = await browser.post(
        base + "/remote/parameters", {"device_id": str(rts), "parameter": "label", "value": "x"}
    )
    assert page.status == 409 and "RTS product" in page.text
    page = await browser.post(
        base + "/remote/parameters", {"device_id": str(shutter), "parameter": "pin", "value": "1"}
    )
    assert page.status == 409
    # A forged action id (not a UUID) and a replayed one.
    page = await browser.post(base + "/remote/reboot", {"action_id": "1 OR 1=1"})
    assert page.status == 409 and "not valid any more" in page.text
    good = "0b7d0f5e-4f7c-4b8e-9a51-2f3f1c0e9d11"
    assert (await browser.post(base + "/remote/reboot", {"action_id": good})).status == 303
    assert (await browser.post(base + "/remote/reboot", {"action_id": good})).status == 409
    assert (await setup.action())["payload"]["action_id"] == good
    # A result for an action this box never got is refused; a replayed result is ignored.
    await setup.ha.send(
        sim.frame(
            "action_result",
            {
                "action_id": "4c7ad2a8-8f7e-4f1e-8e43-4b8d1f0a3c55",
                "ok": True,
                "at": "2026-03-02T09:00:00+00:00",
            },
        )
    )
    error = await setup.ha.expect("error")
    assert error["payload"]["code"] == "unknown_action"
    await setup.result(good)
    await setup.result(good, ok=False, error="late")
    async with setup.core.tx() as db:
        action = await db.scalar(select(RemoteAction).where(RemoteAction.action_id == good))
    assert action is not None and action.ok is True
    # Another company's administrator: 404 everywhere.
    other = await make_company(setup.core, "Rival")
    await make_user(setup.core, other, "rival@example.com", role=Role.ADMIN)
    rival = PortalClient(browser.base_url)
    try:
        assert (await rival.login("rival@example.com")).status == 303
        for path in ("/remote/reboot", "/remote/web-app", "/remote/end", "/remote-service"):
            assert (await rival.post(base + path, {})).status == 404, path
        for path in ("/remote/web-app", "/remote/pair", "/remote/end"):
            assert (await rival.get(base + path)).status == 404, path
        async with setup.core.tx() as db:
            count = len(list(await db.scalars(select(RemoteAction))))
        assert count == 2
    finally:
        await rival.close()


async def test_hello_reports_the_current_window(setup: Setup, clock: FakeClock) -> None:
    """After a reconnection, the window Home Assistant reports in ``hello`` is the truth."""
    browser, base = setup.browser, setup.base
    await setup.grant()
    assert 'data-remote="open"' in (await browser.get(base)).raw
    # Home Assistant reconnects without a window (revoked while the portal was unreachable).
    await setup.ha.send(sim.hello(monitoring=True))
    await setup.ha.expect("welcome")
    page = await browser.get(base)
    assert 'data-last-window="revoked"' in page.raw
    # The web app, open meanwhile: its live update is told to leave (the page says why).
    assert (await browser.get(base + "/remote/web-app")).status == 409
    live = {"X-Live-Update": "1"}
    assert (await browser.get(base + "/remote/web-app", headers=live)).status == 204
    assert (await browser.get(base + "/devices", headers=live)).status == 200
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    # ... and with one the portal did not know of (granted meanwhile).
    hello = sim.hello(monitoring=True)
    until = clock.now + timedelta(hours=2)
    hello["payload"]["window"] = {"until": until.isoformat(), "kinds": ["reboot", "bogus"]}
    await setup.ha.send(hello)
    await setup.ha.expect("welcome")
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "2:00:00" in page.text
    assert 'data-kind="reboot"' in page.raw and "bogus" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    assert (await setup.action())["payload"]["kind"] == "reboot"


async def test_end_after_the_window_lapsed(setup: Setup, clock: FakeClock) -> None:
    """Revoked with actions done: the installer still ends it, the customer gets the summary."""
    browser, base = setup.browser, setup.base
    await setup.grant(kinds=["reboot"], hours=0.25)
    clock.advance(minutes=16)
    page = await browser.get(base)
    assert "data-lapsed" not in page.raw  # expired without any action: nothing to end
    assert 'data-last-window="granted"' in page.raw
    assert (await browser.get(base + "/remote/end")).status == 409
    await setup.grant(kinds=["reboot"])
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    await setup.result((await setup.action())["payload"]["action_id"])
    await setup.window("revoked")
    page = await browser.get(base)
    assert "data-lapsed" in page.raw and 'data-last-window="revoked"' in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    page = await browser.get(base + "/remote/end")
    assert page.status == 200 and page.raw.count("<tr data-action=") == 1
    assert (await browser.post(base + "/remote/end", {"comment": ""})).status == 303
    ended = await setup.ha.expect("intervention_ended")
    assert [a["kind"] for a in ended["payload"]["actions"]] == ["reboot"]
    [mail] = await mails(setup.core, "home@example.com", "intervention_ended")
    assert "Redémarrer la box" in mail.body and "Commentaire" not in mail.body
    page = await browser.get(base)
    assert "data-lapsed" not in page.raw
    assert (await browser.post(base + "/remote/end", {})).status == 409


@pytest.mark.parametrize(
    ("stopped_minutes", "guessed", "requested"),
    [
        (61, "expired", True),
        # Granted with the service (no request), and Home Assistant's clock is ahead.
        (30, "revoked", False),
    ],
)
async def test_window_expired_while_home_assistant_was_stopped(
    setup: Setup, clock: FakeClock, stopped_minutes: int, guessed: str, requested: bool
) -> None:
    """A ``hello`` without the window closes it on a guess; the ``window`` frame is the truth."""
    browser, base = setup.browser, setup.base
    request_id = await setup.grant(hours=1, request_id=None if requested else "")
    until = clock.now + timedelta(hours=1)
    assert "/remote/reboot" in (await browser.get(base + "/devices")).raw
    assert setup.ha.ws is not None
    await setup.ha.ws.close()
    clock.advance(minutes=stopped_minutes)
    assert (await browser.login("boss@acme.example")).status == 303  # idle session ended
    await setup.ha.connect()
    await setup.ha.hello(monitoring=True)
    assert f'data-last-window="{guessed}"' in (await browser.get(base)).raw
    expired = sim.frame(
        "window",
        {
            "request_id": request_id or None,
            "state": "expired",
            "until": until.isoformat(),
            "kinds": ALL_KINDS,
        },
    )
    for _ in range(2):  # sent again after a reconnection: recorded once
        await setup.ha.send(expired)
        assert (await setup.ha.expect("ack"))["payload"]["id"] == expired["id"]
    page = await browser.get(base)
    assert 'data-remote="closed"' in page.raw and 'data-last-window="expired"' in page.raw
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/reboot" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    page = await browser.get(base + "/interventions")
    assert page.raw.count('data-entry="window_expired"') == 1
