"""The receiving centre page: settings, translated errors, the link test, the last messages.

The app runs its SIA worker here, as in production; pysiaalarm is the receiving centre.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from companion_server.centre.sia.outbox import queue_alarm
from companion_server.core import Core
from companion_server.models import Company, Installation, Role, SiaCentre, User
from companion_server.settings import Settings
from tests.companion.conftest import fast_settings
from tests.companion.helpers import (
    BrowserFactory,
    Page,
    PortalClient,
    eventually,
    free_port,
    make_company,
    make_user,
)
from tests.companion.test_sia_outbox import ACCOUNT, KEY_HEX, KEY_TEXT, Centre, queued, receiver

__all__ = ["receiver"]  # the pysiaalarm fixture, shared with the outbox tests

PATH = "/company/alarm-centre"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The portal with its SIA worker running."""
    return fast_settings(database_url, public_url="http://127.0.0.1:8080", sia_worker=True)


def centre_form(centre_port: int, /, **changes: str) -> dict[str, str]:
    return {
        "host": "127.0.0.1",
        "port": str(centre_port),
        "account": ACCOUNT,
        "receiver": "12",
        "line": "3",
        "key": KEY_HEX,
        "message_format": "SIA-DCS",
    } | changes


async def admin_of(core: Core, name: str, language: str = "en") -> tuple[Company, User]:
    company = await make_company(core, name)
    email = f"boss-{name.lower().replace(' ', '-')}@example.com"
    return company, await make_user(core, company, email, role=Role.ADMIN, language=language)


async def stored(core: Core, company_id: int) -> SiaCentre | None:
    async with core.tx() as db:
        return await db.get(SiaCentre, company_id)


def assert_no_key(*texts: str) -> None:
    for text in texts:
        for secret in (KEY_HEX.lower(), KEY_HEX.upper(), KEY_TEXT):
            assert secret not in text


async def test_admin_saves_tests_and_sees_the_forwarded_alarm(
    client: PortalClient, core: Core, receiver: Centre, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    company, admin = await admin_of(core, "Acme")
    await client.login(admin.email)
    empty = await client.get(PATH)
    assert empty.status == 200 and "No receiving centre is set up." in empty.text
    assert "Send a test message" not in empty.text

    saved = await client.post(PATH, centre_form(receiver.port))
    assert (saved.status, saved.location) == (303, f"{PATH}?done=saved")
    page = await client.get(saved.location)
    assert "The receiving centre is saved" in page.text and "Forwarding is on." in page.text
    assert 'value="A1B2C3"' in page.text and "A key is saved" in page.text
    assert 'name="key" type="password" value=""' in page.raw

    tested = await client.post(PATH + "/test")
    assert tested.status == 200
    assert "The centre acknowledged the test message (number 0001)." in tested.text
    assert [(e.message_type.value, e.sequence) for e in receiver.events] == [("NULL", "0001")]

    async with core.tx() as db:
        installation = Installation(
            company_id=company.id, name="Villa Rose", status="linked", created_at=core.now()
        )
        db.add(installation)
        await db.flush()
        await queue_alarm(
            db,
            company_id=company.id,
            installation_id=installation.id,
            kind="aggression",
            active=True,
            at=core.now(),
            device_label="Keypad",
        )

    async def forwarded() -> bool:  # the app's worker polls every second
        return len(receiver.events) >= 2

    await eventually(forwarded, "the alarm at the centre", every=0.1)
    assert [(e.code, e.sequence) for e in receiver.events][1] == ("PA", "0002")
    pages: list[Page] = []

    async def shown_delivered() -> bool:  # recorded right after the centre's answer
        pages.append(await client.get(PATH))
        return "Delivered" in pages[-1].text

    await eventually(shown_delivered, "the delivery on the page", every=0.1)
    listed = pages[-1]
    row = listed.text[listed.text.index('data-message="') :]
    assert "Aggression" in row and "Villa Rose" in row and "Keypad" in row
    assert "0002" in row and "Delivered" in row
    assert_no_key(empty.raw, page.raw, tested.raw, listed.raw, caplog.text)


async def test_errors_are_translated_and_change_nothing(
    client: PortalClient, core: Core, receiver: Centre
) -> None:
    company, admin = await admin_of(core, "Dupont", language="fr")
    await client.login(admin.email)
    assert (await client.post(PATH, centre_form(receiver.port))).status == 303
    before = await stored(core, company.id)

    bad = centre_form(
        receiver.port,
        host="bad host!",
        port="70000",
        account="XYZ",
        key="abc",
        message_format="XML",
        receiver="",
        line="1234567",
    )
    page = await client.post(PATH, bad)
    assert page.status == 400
    for message in (
        "Saisissez le nom d'hôte ou l'adresse IP du centre",
        "Saisissez un numéro de port entre 1 et 65535.",
    ):
        assert message in page.text
    assert page.text.count('aria-invalid="true"') == 7
    assert 'value="bad host!"' in page.text  # typed values come back to be fixed
    after = await stored(core, company.id)
    assert before is not None and after is not None
    assert (after.host, after.port, after.account, after.sealed_key, after.updated_at) == (
        before.host,
        before.port,
        before.account,
        before.sealed_key,
        before.updated_at,
    )
    # A good form with a wrong field still sends the key back nowhere.
    echo = await client.post(PATH, centre_form(receiver.port, port="0"))
    assert echo.status == 400
    assert_no_key(echo.raw)


async def test_key_kept_replaced_removed_and_forwarding_switched_off(
    client: PortalClient, core: Core, receiver: Centre
) -> None:
    company, admin = await admin_of(core, "Keys")
    await client.login(admin.email)
    await client.post(PATH, centre_form(receiver.port))
    sealed = (await stored(core, company.id)).sealed_key  # type: ignore[union-attr]
    await client.post(PATH, centre_form(receiver.port, key="", line="4"))
    kept = await stored(core, company.id)
    assert kept is not None and (kept.sealed_key, kept.line) == (sealed, "4")
    await client.post(PATH, centre_form(receiver.port, key="", remove_key="1"))
    assert (await stored(core, company.id)).sealed_key is None  # type: ignore[union-attr]
    page = await client.get(PATH)
    assert "A key is saved" not in page.text

    off = await client.post(PATH + "/disable")
    assert off.location == f"{PATH}?done=disabled"
    page = await client.get(off.location)
    assert "Forwarding is switched off." in page.text
    tested = await client.post(PATH + "/test")
    assert "Save the settings first: forwarding is switched off." in tested.text
    assert await queued(core, company.id, None) is None
    assert receiver.events == []


async def test_link_test_reports_an_unreachable_centre(client: PortalClient, core: Core) -> None:
    _, admin = await admin_of(core, "Down")
    await client.login(admin.email)
    await client.post(PATH, centre_form(free_port()))
    page = await client.post(PATH + "/test")
    assert page.status == 200
    assert "The centre could not be reached: check the host and the port." in page.text


async def test_each_administrator_sees_and_changes_only_their_company(
    browsers: BrowserFactory, core: Core, receiver: Centre
) -> None:
    company_a, admin_a = await admin_of(core, "Alpha")
    company_b, admin_b = await admin_of(core, "Beta")
    alpha, beta = await browsers.new(), await browsers.new()
    await alpha.login(admin_a.email)
    await beta.login(admin_b.email)
    await alpha.post(PATH, centre_form(receiver.port))
    page_b = await beta.get(PATH)
    assert "No receiving centre is set up." in page_b.text and ACCOUNT not in page_b.text
    await beta.post(PATH, centre_form(receiver.port, account="BBB222", key=""))
    await beta.post(PATH + "/disable")
    a = await stored(core, company_a.id)
    b = await stored(core, company_b.id)
    assert a is not None and (a.account, a.enabled) == (ACCOUNT, True)
    assert b is not None and (b.account, b.enabled, b.sealed_key) == ("BBB222", False, None)
    installer = await make_user(core, company_a, "fitter@example.com")
    fitter = await browsers.new()
    await fitter.login(installer.email)
    assert (await fitter.get(PATH)).status == 403
    assert (await fitter.post(PATH + "/disable")).status == 403
    assert (await stored(core, company_a.id)).enabled  # type: ignore[union-attr]
    async with core.tx() as db:
        assert len(list(await db.scalars(select(SiaCentre)))) == 2
