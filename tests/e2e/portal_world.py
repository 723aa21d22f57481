"""The authorization matrix's world in a portal process's database, and the states to add.

The browser crawl visits every GET page of the matrix (``tests/companion/test_authz_matrix``)
in this world, then again with a busy installation: many products (a Devices table longer
than a screen), radio history, alerts, a log, and a remote-service window requested, then
open (the sticky bar, the Parameters column, the wizard, the web app and the end page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
import uuid

from sqlalchemy import select, update

from companion_server.core import Core, build_core
from companion_server.journal import log
from companion_server.models import (
    Alert,
    Device,
    Installation,
    RadioSample,
    RemoteAction,
    RemoteWindow,
    User,
)
from companion_server.settings import Settings
from tests.companion.helpers import PASSWORD
from tests.companion.test_authz_matrix import World, build_world

SECRET_KEY = "browser-test-secret-key-0123456789abcdef"  # the portal fixture's
KINDS = ["parameters", "reboot", "pair_remote", "web_app"]
PRODUCTS = 30
EDITABLE = {
    "parameters": {
        "label": {"type": "string", "max_length": 64, "value": "Living room shutter"},
        "my_position": {"type": "int", "min": 0, "max": 100, "value": 50},
    },
    "read_only_reason": None,
}


def run_in_portal_db(database_url: str, job: Callable[[Core], Awaitable[Any]]) -> Any:
    """Run ``job`` on the portal's database (in a thread: Playwright's sync API owns this one)."""

    async def run() -> Any:
        core = build_core(
            Settings(
                database_url=database_url,
                secret_key=SECRET_KEY,
                argon2_time_cost=1,
                argon2_memory_kib=8,
                argon2_parallelism=1,
                # The portal runs in its database's folder: its documents are there.
                documents_dir=str(Path(database_url.split(":///", 1)[1]).parent / "data/documents"),
            )
        )
        try:
            return await job(core)
        finally:
            await core.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


async def matrix_world(core: Core) -> World:
    """The matrix's two companies, sessions and single-use links."""
    return await build_world(core, await core.passwords.hash(PASSWORD))


async def busy(core: Core, installation_id: int) -> None:
    """Many products (one offline with a low battery, an RTS one, a remote), history, alerts."""
    now = core.now()
    async with core.tx() as db:
        installation = await db.get(Installation, installation_id)
        assert installation is not None
        await db.execute(
            update(Device)
            .where(Device.installation_id == installation_id)
            .values(label="Living room shutter with a rather long name", ui_class="RollerShutter")
        )
        for n in range(2, PRODUCTS + 2):
            db.add(
                Device(
                    installation_id=installation_id,
                    url=f"io://{installation_id}/{n}",
                    label=f"Shutter of room {n}",
                    protocol="io",
                    ui_class="RollerShutter",
                    online=n != 3,
                    rssi=20 + n * 2,
                    rssi_level="good",
                    battery="low" if n == 3 else None,
                    defect="lowBattery" if n == 3 else None,
                    position=n,
                    editable=json.dumps(EDITABLE),
                    updated_at=now,
                )
            )
        db.add_all(
            [
                Device(
                    installation_id=installation_id,
                    url=f"rts://{installation_id}/16712345",
                    label="Garage door",
                    protocol="rts",
                    ui_class="GarageDoor",
                    editable=json.dumps({"parameters": {}, "read_only_reason": "rts_one_way"}),
                    updated_at=now,
                ),
                Device(
                    installation_id=installation_id,
                    url=f"io://{installation_id}/99",
                    label="Hall remote",
                    protocol="io",
                    ui_class="RemoteController",
                    updated_at=now,
                ),
            ]
        )
        first = await db.scalar(
            select(Device).where(Device.installation_id == installation_id).order_by(Device.id)
        )
        assert first is not None
        first.editable = json.dumps(EDITABLE)
        for minutes in range(0, 240, 10):
            db.add(RadioSample(device_id=first.id, at=now - timedelta(minutes=minutes), rssi=60))
        db.add(
            Alert(
                installation_id=installation_id,
                alert_id="low-1",
                device_url=f"io://{installation_id}/3",
                type="battery_low",
                active=True,
                at=now,
                received_at=now,
            )
        )
        actor = await db.scalar(select(User).where(User.company_id == installation.company_id))
        log(db, installation, now, "linked")
        log(db, installation, now, "note", actor=actor, detail="Checked the shutter.", private=True)


async def request_window(core: Core, installation_id: int) -> None:
    """A remote-service request waiting for the customer."""
    now = core.now()
    async with core.tx() as db:
        db.add(
            RemoteWindow(
                installation_id=installation_id,
                request_id=str(uuid.uuid4()),
                state="requested",
                kinds=json.dumps(KINDS),
                hours=8,
                requested_at=now,
                changed_at=now,
            )
        )


async def speak(core: Core, language: str) -> None:
    """Every user's pages in ``language`` (longer words than English: the bar, the tables)."""
    async with core.tx() as db:
        await db.execute(update(User).values(language=language))


async def open_window(core: Core, installation_id: int) -> None:
    """The request granted for 8 hours with every kind, and one action carried out."""
    now = core.now()
    async with core.tx() as db:
        window = await db.scalar(
            select(RemoteWindow)
            .where(RemoteWindow.installation_id == installation_id)
            .order_by(RemoteWindow.id.desc())
        )
        assert window is not None
        window.state = "granted"
        window.until = now + timedelta(hours=8)
        window.changed_at = now
        await db.flush()
        db.add(
            RemoteAction(
                installation_id=installation_id,
                window_id=window.id,
                action_id=str(uuid.uuid4()),
                kind="reboot",
                payload="{}",
                summary="",
                actor_name="admin-a",
                created_at=now,
                ok=True,
                result_at=now,
            )
        )
