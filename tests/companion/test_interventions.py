"""Remote intervention, portal side: the whole story, who may act, grants and live states."""

from __future__ import annotations

from sqlalchemy import select

from companion_server.installations.services import assign
from companion_server.mail import worker
from companion_server.models import Company, Installation, User
from tests.companion import ha as sim
from tests.companion.helpers import FakeClock, PortalClient, mails, make_user
from tests.companion.interventions_common import (
    ALL_KINDS,
    AWNING,
    SHUTTER,
    Setup,
    _field,
    _post_multi,
    _until_page_shows,
    portal,
    request_form,
    setup,
)
from tests.companion.test_mail import SmtpServer, running_smtp, smtp

__all__ = ["portal", "running_smtp", "setup", "smtp"]


async def test_remote_intervention_story(setup: Setup, smtp: SmtpServer, clock: FakeClock) -> None:
    browser, base = setup.browser, setup.base
    # P13: the request e-mails the customer and asks Home Assistant (acked frame).
    page = await browser.get(base)
    assert 'data-remote="closed"' in page.raw and "Request remote service" in page.text
    page = await browser.post(base + "/remote-service", {"kinds": "parameters", "hours": "9"})
    assert page.status == 400  # over 8 hours
    # Nothing is chosen for the installer: no kind or no duration is a 400, nothing sent.
    page = await browser.post(base + "/remote-service", {"hours": "8"})
    assert page.status == 400 and "Choose at least one kind of action." in page.text
    page = await browser.post(base + "/remote-service", {"kinds": "reboot"})
    assert page.status == 400 and "Choose how long the window lasts." in page.text
    page = await browser.post(base + "/remote-service", request_form())
    assert page.status == 303
    request = await setup.ha.expect("request_remote_service")
    assert request["payload"]["kinds"] == ALL_KINDS and request["payload"]["hours"] == 8
    assert request["payload"]["installer"] == "Alice Boss"
    page = await browser.get(base)
    assert 'data-remote="requested"' in page.raw
    await setup.grant(request_id=request["payload"]["request_id"])
    # P14: the banner with the time left and the granted kinds.
    clock.advance(minutes=20)
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "7:40:00" in page.text
    assert 'data-until="2026-03-02T16:00:00+00:00"' in page.raw
    assert 'data-kind="pair_remote"' in page.raw and "End remote intervention" in page.text
    assert '<script src="/static/remote.js" defer></script>' in page.raw
    # P15: pencils on io products; RTS read-only with the reason.
    page = await browser.get(base + "/devices")
    assert page.raw.count('class="pencil"') == 3  # shutter: name + "my"; awning: name
    assert 'data-read-only="rts_one_way"' in page.raw and "RTS product: one-way radio" in page.text
    shutter = await setup.device_id(SHUTTER)
    form = page.raw[page.raw.index('data-parameter="my_position"') :]
    action_id = _field(form, "action_id")
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "101",
        },
    )
    assert page.status == 400 and "out of range" in page.text
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "30",
        },
    )
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"] == {
        "action_id": action_id,
        "kind": "parameters",
        "device_url": SHUTTER,
        "parameter": "my_position",
        "value": 30,
    }
    await setup.result(action_id)
    # The same form posted again (a replayed action id) is refused.
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "30",
        },
    )
    assert page.status == 409 and "already sent" in page.text
    page = await browser.get(base + "/interventions")
    assert "Remote action: io parameter" in page.text
    assert "Living room shutter: my_position = 30: ok" in page.text
    # P16: reboot.
    page = await browser.get(base + "/devices")
    reboot_id = _field(page.raw, "action_id", 'action="' + base + '/remote/reboot"')
    assert (await browser.post(base + "/remote/reboot", {"action_id": reboot_id})).status == 303
    frame = await setup.action()
    assert frame["payload"]["kind"] == "reboot" and frame["payload"]["action_id"] == reboot_id
    await setup.result(reboot_id, ok=False, error="box_unreachable")
    # P19-P22: a remote in the installer's hands, scanned by an AZERTY reader on this QWERTY
    # PC, paired to two products; an unreadable scan first.
    page = await browser.get(base + "/remote/pair")
    assert "At the customer's" in page.text and "In my hands" in page.text
    page = await browser.get(base + "/remote/pair?source=installer")
    assert "data-scan" in page.raw
    pair_id = _field(page.raw, "action_id")
    awning = await setup.device_id(AWNING)
    targets = [("devices", str(shutter)), ("devices", str(awning))]
    form = [("action_id", pair_id), ("source", "installer"), ("code", "hello world"), *targets]
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 400 and "The scan is unreadable" in page.text
    assert "data-unreadable" in page.raw
    form = [("action_id", pair_id), ("source", "installer"), ("code", "IO.Q%#F@&\n"), *targets]
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 303, page.text
    frame = await setup.action()
    assert frame["payload"]["kind"] == "pair_remote"
    assert frame["payload"]["source"] == "installer" and frame["payload"]["code"] == "A53F27"
    assert sorted(frame["payload"]["devices"]) == sorted([SHUTTER, AWNING])
    await setup.result(pair_id)
    # The remote at the customer's: pairing mode on the box.
    page = await browser.get(base + "/remote/pair?source=customer")
    customer_id = _field(page.raw, "action_id")
    page = await browser.post(
        base + "/remote/pair", {"action_id": customer_id, "source": "customer"}
    )
    assert page.status == 303 and page.location == base + "/remote/pair?source=customer"
    frame = await setup.action()
    assert frame["payload"] == {
        "action_id": customer_id,
        "kind": "pair_remote",
        "source": "customer",
    }
    await setup.result(customer_id)
    # P23: the web app, itself recorded as an action; live states; a command through HA.
    page = await browser.post(base + "/remote/web-app")
    assert page.status == 303 and page.location == base + "/remote/web-app"
    frame = await setup.action()
    assert frame["payload"]["kind"] == "web_app"
    await setup.result(frame["payload"]["action_id"])
    page = await browser.get(base + "/remote/web-app")
    assert page.status == 200 and "Terrace awning" in page.text and "70 %" in page.text
    await setup.ha.send(sim.frame("device_update", {"url": SHUTTER, "changes": {"rssi": 41}}))
    await _until_page_shows(browser, base + "/remote/web-app", "41 %")
    page = await browser.post(
        base + "/remote/web-app/command", {"device_id": str(shutter), "command": "close"}
    )
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"]["kind"] == "web_app" and frame["payload"]["command"] == "close"
    assert frame["payload"]["device_url"] == SHUTTER
    await setup.result(frame["payload"]["action_id"])
    # P17-P18: the summary, the comment, the frame and the customer's e-mail (in French).
    page = await browser.get(base + "/remote/end")
    # One End button: the form's, not the banner's link as well.
    assert page.raw.count('href="' + base + '/remote/end"') == 0
    assert page.text.count("End the intervention and inform the customer") == 1
    assert page.status == 200 and page.raw.count("<tr data-action=") == 6
    assert "refused by Home Assistant: box_unreachable" in page.text
    page = await browser.post(base + "/remote/end", {"comment": "New remote: A53F27."})
    assert page.status == 303
    ended = await setup.ha.expect("intervention_ended")
    assert ended["payload"]["comment"] == "New remote: A53F27."
    kinds = [a["kind"] for a in ended["payload"]["actions"]]
    assert kinds == ["parameters", "reboot", "pair_remote", "pair_remote", "web_app", "web_app"]
    await worker.deliver_due(setup.core)
    [message] = [m for m in smtp.inbox.messages if "intervention" in str(m["Subject"])]
    assert message["To"] == "home@example.com"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "Acme Installers a terminé l'intervention" in str(message["Subject"])
    assert "Votre application web a été ouverte pendant l'intervention." in body
    assert "Living room shutter: Position « My » (%) = 30 (effectuée)" in body
    assert "télécommande A53F27 appairée à Living room shutter, Terrace awning" in body
    assert "mode appairage sur la box" in body and "Living room shutter: Fermer" in body
    assert "refusée par Home Assistant : box_unreachable" in body
    assert "New remote: A53F27." in body
    # The window is closed on the portal side: the controls are gone, actions refused.
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/reboot" not in page.raw
    page = await browser.post(base + "/remote/reboot", {})
    assert page.status == 409 and "No remote-service window is open" in page.text
    page = await browser.get(base + "/interventions")
    assert "Remote intervention ended" in page.text and "Remote service granted" in page.text


async def test_installer_sees_only_assigned(setup: Setup) -> None:
    async with setup.core.tx() as db:
        installation = await db.get(Installation, setup.installation_id)
        assert installation is not None
        company = await db.get(Company, installation.company_id)
        admin_id = await db.scalar(select(User.id).where(User.email == "boss@acme.example"))
    assert company is not None and admin_id is not None
    installer = await make_user(setup.core, company, "ian@acme.example")
    await setup.grant()
    client = PortalClient(setup.browser.base_url)
    try:
        assert (await client.login("ian@acme.example")).status == 303
        assert (await client.post(setup.base + "/remote/reboot", {})).status == 404
        await assign(setup.core, admin_id, setup.installation_id, installer.id, "127.0.0.1")
        assert (await client.post(setup.base + "/remote/reboot", {})).status == 303
        frame = await setup.action()
        assert frame["payload"]["kind"] == "reboot"
    finally:
        await client.close()


async def test_grant_from_home_assistant_without_request_and_declined(setup: Setup) -> None:
    browser, base = setup.browser, setup.base
    # The homeowner opens a window with the service (no request from the portal).
    await setup.grant(kinds=["web_app"], hours=2, request_id="")
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "2:00:00" in page.text
    assert 'data-kind="web_app"' in page.raw and 'data-kind="reboot"' not in page.raw
    await setup.window("expired")
    assert 'data-last-window="expired"' in (await browser.get(base)).raw
    # A request the customer declines.
    assert (await browser.post(base + "/remote-service", request_form(["reboot"], 2))).status == 303
    request = await setup.ha.expect("request_remote_service")
    assert request["payload"]["kinds"] == ["reboot"]
    await setup.ha.send(
        sim.frame("window", {"request_id": request["payload"]["request_id"], "state": "declined"})
    )
    await setup.ha.expect("ack")
    page = await browser.get(base)
    assert 'data-last-window="declined"' in page.raw
    [mail] = await mails(setup.core, "home@example.com", "remote_service_request")
    assert mail.language == "fr" and "Redémarrer la box" in mail.body


async def test_cover_position_shown_and_updated_live(setup: Setup) -> None:
    """The product's page and the customer's web app show a cover's position as it changes."""
    browser, base = setup.browser, setup.base
    product = f"{base}/devices/{await setup.device_id(SHUTTER)}"
    assert 'data-position="100">100 % closed</dd>' in (await browser.get(product)).raw
    page = await browser.get(f"{base}/devices/{await setup.device_id(AWNING)}")
    assert "Terrace awning" in page.text and "data-position" not in page.raw
    await setup.grant(kinds=["web_app"])
    page = await browser.get(base + "/remote/web-app")
    assert '<span data-state="position">100 % closed</span>' in page.raw
    await setup.ha.send(sim.frame("device_update", {"url": SHUTTER, "changes": {"position": 35}}))
    await _until_page_shows(browser, base + "/remote/web-app", "35 % closed")
    assert 'data-position="35">35 % closed</dd>' in (await browser.get(product)).raw
    await browser.post("/language", {"language": "fr", "next": "/"})
    assert "fermé à 35 %" in (await browser.get(product)).text
