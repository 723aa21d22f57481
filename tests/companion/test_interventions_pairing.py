"""Pairing remotes, portal side: scanned codes on any keyboard layout and eligible products."""

from __future__ import annotations

import re

import pytest

from companion_server.interventions.codes import UnreadableCode, parse_scan
from companion_server.interventions.rules import pairable
from companion_server.models import Device
from tests.companion import ha as sim
from tests.companion.interventions_common import (
    AWNING,
    PIN,
    RTS,
    Setup,
    _post_multi,
    _until_page_shows,
    devices,
    portal,
    setup,
)
from tests.companion.test_mail import running_smtp, smtp

__all__ = ["portal", "running_smtp", "setup", "smtp"]


@pytest.mark.parametrize(
    ("typed", "address", "layout"),
    [
        ("E53F27", "E53F27", None),
        ("IO:E53F27\r\n", "E53F27", None),
        ("SOMFY;IO:A53F27;SN:12345678", "A53F27", None),
        ("https://somfy.example/r?sn=7&io=00E53F27", "00E53F27", None),
        ("IO.Q%#F@&", "A53F27", "azerty-on-qwerty"),  # AZERTY reader, QWERTY PC
        ('IO:E("Féè', "E53F27", "qwerty-on-azerty"),  # QWERTY reader, AZERTY PC
        ("IO>E53F27", "E53F27", "qwertz-on-qwerty"),  # QWERTZ reader, QWERTY PC
        ("IOÖA53F27", "A53F27", "qwerty-on-qwertz"),  # QWERTY reader, QWERTZ PC
    ],
)
def test_scanned_codes(typed: str, address: str, layout: str | None) -> None:
    scan = parse_scan(typed)
    assert (scan.address, scan.layout) == (address, layout)


@pytest.mark.parametrize(
    "typed",
    ["", "   \n", "hello", "IO:Q53F2", "12345678;ABCDEF12", "IO:E53F27;IO:E53F28", "x" * 600],
)
def test_unreadable_codes(typed: str) -> None:
    with pytest.raises(UnreadableCode):
        parse_scan(typed)


async def test_remote_at_the_customers_then_paired(setup: Setup) -> None:
    """Pairing mode, the customer presses PROG, the remote appears, then it is paired."""
    browser, base = setup.browser, setup.base
    await setup.grant(kinds=["pair_remote"])
    remote = {
        "url": f"io://{PIN}/7788990",
        "label": "Kitchen remote",
        "protocol": "io",
        "ui_class": "RemoteController",
        "online": True,
        "editable": {"parameters": {}, "read_only_reason": "no_editable_parameter"},
    }
    await setup.ha.send(sim.snapshot([*devices(), remote]))
    await _until_page_shows(browser, base + "/remote/pair?source=customer", "Kitchen remote")
    page = await browser.get(base + "/remote/pair?source=customer")
    remote_id = re.search(r'name="remote_id"><option value="(\d+)"', page.raw)
    assert remote_id is not None
    awning = await setup.device_id(AWNING)
    rts = await setup.device_id(RTS)
    form = [("source", "customer"), ("remote_id", remote_id.group(1))]
    # Neither an RTS product nor a product that does not move or switch (the remote itself).
    for target in (rts, int(remote_id.group(1))):
        page = await _post_multi(browser, base + "/remote/pair", [*form, ("devices", str(target))])
        assert page.status == 409 and "io products that move or switch only" in page.text
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 400 and "Choose at least one product." in page.text
    page = await _post_multi(browser, base + "/remote/pair", [*form, ("devices", str(awning))])
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"]["remote_url"] == remote["url"]
    assert frame["payload"]["devices"] == [AWNING] and frame["payload"]["source"] == "customer"


@pytest.mark.parametrize(
    ("protocol", "ui_class", "expected"),
    [
        ("io", "RollerShutter", True),
        ("io", "GarageDoor", True),
        ("io", "Light", True),
        ("io", "ContactSensor", False),
        ("io", "OccupancySensor", False),
        ("io", "SmokeSensor", False),
        ("io", "RemoteController", False),
        ("rts", "RollerShutter", False),
    ],
)
def test_remotes_pair_to_io_products_that_move_or_switch(
    protocol: str, ui_class: str, expected: bool
) -> None:
    device = Device(url="io://1234-5678-9012/1", label="x", protocol=protocol, ui_class=ui_class)
    assert pairable(device) is expected
