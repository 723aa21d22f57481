"""Alert e-mails per alert settings, delivered through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from companion_server.accounts.logins import LoginFailed, login
from companion_server.accounts.operator import lock_account
from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.installations.services import assign
from companion_server.mail import worker
from companion_server.models import Role
from companion_server.monitoring.services import alert_settings, save_alert_settings
from companion_server.registration.services import register_box
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.helpers import FakeClock, make_company, make_user
from tests.companion.test_mail import SmtpServer, mail_settings, running_smtp, smtp, start_portal

__all__ = ["running_smtp", "smtp"]


async def test_alerts_mail_whom_the_settings_say(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    server = await start_portal(
        mail_settings(database_url, running_smtp, public_url="http://portal.example"), clock
    )
    client = HomeAssistant(str(server.make_url("/")))
    try:
        core: Core = server.app[CORE]
        company = await make_company(core, "Alarm Co")
        admin = await make_user(core, company, "admin@alarm.example", role=Role.ADMIN)
        fire_fan = await make_user(core, company, "fire@alarm.example", language="fr")
        stranger = await make_user(core, company, "other@alarm.example")
        reg = await register_box(core, admin.id, pin=sim.PIN, customer_email="home@example.com")
        await assign(core, admin.id, reg.installation_id, fire_fan.id, "127.0.0.1")
        # The installer chooses fire alerts only; they cannot change the administrator's.
        await save_alert_settings(
            core,
            fire_fan.id,
            reg.installation_id,
            {(fire_fan.id, "fire"), (admin.id, "tamper"), (stranger.id, "fire")},
        )
        current = await alert_settings(core, admin.id, reg.installation_id)
        assert {p.email for p in current.people} == {"admin@alarm.example", "fire@alarm.example"}
        assert (fire_fan.id, "fire") in current.chosen
        assert (admin.id, "intrusion") in current.chosen  # the registering admin: all types
        assert (admin.id, "tamper") in current.chosen  # unchanged by the installer
        assert not any(user_id == stranger.id for user_id, _ in current.chosen)
        assert (await client.link(reg.code))[0] == 200
        await client.connect()
        await client.hello(monitoring=True)
        await client.send(sim.alert("a-1", "intrusion"))
        await client.expect("ack")
        await client.send(sim.alert("a-2", "fire", device_url="io://1234-5678-9012/3"))
        await client.expect("ack")
        await worker.deliver_due(core)
        received = sorted((m["To"], m["Subject"]) for m in running_smtp.inbox.messages)
        assert [to for to, _ in received] == [
            "admin@alarm.example",
            "admin@alarm.example",
            "fire@alarm.example",
            "home@example.com",  # the registration code
        ]
        fire_mail = next(m for m in running_smtp.inbox.messages if m["To"] == "fire@alarm.example")
        assert "Incendie ou fumée" in fire_mail["Subject"]  # in the recipient's language
        body = fire_mail.get_body().get_content()  # type: ignore[union-attr]
        assert f"http://portal.example/installations/{reg.installation_id}/alerts" in body
    finally:
        await client.close()
        await server.close()


async def test_a_stranger_locking_an_account_does_not_stop_its_alert_mail(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    server = await start_portal(mail_settings(database_url, running_smtp), clock)
    client = HomeAssistant(str(server.make_url("/")))
    try:
        core: Core = server.app[CORE]
        company = await make_company(core, "Alarm Co")
        admin = await make_user(core, company, "admin@alarm.example", role=Role.ADMIN)
        reg = await register_box(core, admin.id, pin=sim.PIN, customer_email="home@example.com")
        for _ in range(3):  # a stranger's wrong passwords lock the account for new logins
            with pytest.raises(LoginFailed):
                await login(
                    core, email=admin.email, password="wrong", ip="203.0.113.9", user_agent="x"
                )
        assert (await client.link(reg.code))[0] == 200
        await client.connect()
        await client.hello(monitoring=True)
        await client.send(sim.alert("a-1", "intrusion"))
        await client.expect("ack")
        await lock_account(core, admin.email, locked=True)  # an operator's lock
        await client.send(sim.alert("a-2", "intrusion", device_url="io://1234-5678-9012/3"))
        await client.expect("ack")
        await worker.deliver_due(core)
        alerts = [m for m in running_smtp.inbox.messages if m["To"] == "admin@alarm.example"]
        assert len(alerts) == 2  # the lock mail and the alert before the operator's lock
        assert sum("Intrusion" in str(m["Subject"]) for m in alerts) == 1
    finally:
        await client.close()
        await server.close()
