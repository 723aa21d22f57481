"""Retention with a fake clock: what goes, what stays, in batches, one runner at a time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select, text

from companion_server import retention
from companion_server.app import create_app
from companion_server.app_keys import CORE, RETENTION_JOB
from companion_server.core import Core, build_core
from companion_server.models import (
    AuditEvent,
    Device,
    Installation,
    InstallationLink,
    InstallationState,
    InterventionEntry,
    OutboxMessage,
    PortalFrame,
    RadioSample,
    ReceivedFrame,
)
from companion_server.settings import Settings
from tests.companion.helpers import FakeClock, make_company


@pytest.fixture
def small_batches(settings: Settings) -> Settings:
    # Batches of 4 rows: every purge below takes several transactions.
    return settings.replace(retention_batch=4, retention_interval_minutes=0)


@pytest.fixture
async def store(small_batches: Settings, clock: FakeClock) -> Any:
    core = build_core(small_batches, clock)
    try:
        yield core
    finally:
        await core.close()


async def _installation(
    core: Core, name: str, *, linked: bool, connected_at: datetime | None
) -> Installation:
    company = await make_company(core, f"{name} Co")
    now = core.now()
    async with core.tx() as db:
        installation = Installation(
            company_id=company.id, name=name, status="linked", created_at=now
        )
        db.add(installation)
        await db.flush()
        db.add(
            InstallationLink(
                installation_id=installation.id,
                token_hash=f"hash-{name}",
                instance_id="ha",
                ha_name=name,
                created_at=now,
                revoked_at=None if linked else now,
            )
        )
        db.add(
            InstallationState(
                installation_id=installation.id,
                connected=connected_at is not None,
                connected_changed_at=connected_at or now - timedelta(hours=1),
            )
        )
        return installation


async def _frame(core: Core, installation: Installation, frame_id: str, at: datetime) -> None:
    async with core.tx() as db:
        db.add(
            ReceivedFrame(
                installation_id=installation.id, frame_id=frame_id, type="alert", received_at=at
            )
        )


async def _ids(core: Core, column: Any) -> set[Any]:
    async with core.tx() as db:
        return set(await db.scalars(select(column)))


async def test_policy_purges_old_rows_and_keeps_the_rest(store: Core, clock: FakeClock) -> None:
    core = store
    t0 = clock()
    day = timedelta(days=1)
    # HA of "back" reconnected a day after the old frames came: its resend found them.
    back = await _installation(core, "back", linked=True, connected_at=t0 + day)
    # HA of "away" has not connected since: it may still resend what it sent at t0.
    away = await _installation(core, "away", linked=True, connected_at=None)
    gone = await _installation(core, "gone", linked=False, connected_at=None)
    for number in range(6):
        await _frame(core, back, f"back-old-{number}", t0)
        await _frame(core, away, f"away-old-{number}", t0)
        await _frame(core, gone, f"gone-old-{number}", t0)
    await _frame(core, back, "back-recent", t0 + 80 * day)
    async with core.tx() as db:
        for number in range(6):
            db.add(
                PortalFrame(
                    installation_id=back.id,
                    frame_id=f"acked-{number}",
                    type="request_monitoring",
                    payload="{}",
                    created_at=t0,
                    acked_at=t0,
                )
            )
        db.add(
            PortalFrame(
                installation_id=away.id,
                frame_id="pending",
                type="request_monitoring",
                payload="{}",
                created_at=t0,
            )
        )
        device_a = Device(installation_id=back.id, url="io://a", label="A", updated_at=t0)
        device_b = Device(installation_id=back.id, url="io://b", label="B", updated_at=t0)
        db.add_all([device_a, device_b])
        await db.flush()
        for device in (device_a, device_b):
            # Every 10 minutes for 3 hours on day 50, 2 hours on day 90; one very old sample.
            for start, hours in ((t0 + 50 * day, 3), (t0 + 90 * day, 2)):
                db.add_all(
                    RadioSample(device_id=device.id, at=start + timedelta(minutes=m), rssi=m)
                    for m in range(0, hours * 60, 10)
                )
            db.add(RadioSample(device_id=device.id, at=t0 - 300 * day, rssi=1))
        for number, (sent, failed) in enumerate(
            [(t0, None), (t0, None), (t0 + 50 * day, None), (None, t0), (None, None)]
        ):
            db.add(
                OutboxMessage(
                    kind="alert",
                    to_addr=f"m{number}@example.com",
                    language="en",
                    subject="s",
                    body="b",
                    created_at=t0,
                    attempts=1,
                    next_attempt_at=t0,
                    sent_at=sent,
                    failed_at=failed,
                )
            )
        db.add(AuditEvent(at=t0 - 400 * day, kind="login_failed"))
        db.add(
            InterventionEntry(
                installation_id=back.id, company_id=back.company_id, at=t0 - 400 * day, kind="note"
            )
        )
    clock.advance(days=100)

    purged = await retention.run_once(core)

    assert purged == {
        "received_frames": 12,
        "portal_frames": 6,
        "radio_samples_downsampled": 2 * (18 - 3),
        "radio_samples_dropped": 2,
        "mail_outbox": 3,
    }
    frames = await _ids(core, ReceivedFrame.frame_id)
    assert frames == {f"away-old-{n}" for n in range(6)} | {"back-recent"}
    assert await _ids(core, PortalFrame.frame_id) == {"pending"}
    async with core.tx() as db:
        samples = list(await db.execute(select(RadioSample.device_id, RadioSample.at)))
    for device in (device_a.id, device_b.id):
        times = sorted(at for device_id, at in samples if device_id == device)
        old = [at for at in times if at < t0 + 60 * day]
        # The first sample of each of the 3 hours is kept; day 90 (< 30 days old) is whole.
        assert old == [t0 + 50 * day + timedelta(hours=h) for h in range(3)]
        assert len(times) == 3 + 12
    assert await _ids(core, OutboxMessage.to_addr) == {"m2@example.com", "m4@example.com"}
    assert len(await _ids(core, AuditEvent.id)) == 1
    assert len(await _ids(core, InterventionEntry.id)) == 1

    # A second run finds nothing more; later, day 90 gets downsampled in its turn.
    assert set((await retention.run_once(core) or {}).values()) == {0}
    clock.advance(days=40)
    again = await retention.run_once(core)
    assert again is not None and again["radio_samples_downsampled"] == 2 * (12 - 2)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_one_instance_runs_it_at_a_time(store: Core, clock: FakeClock) -> None:
    core = store
    installation = await _installation(core, "gone", linked=False, connected_at=None)
    await _frame(core, installation, "old", clock())
    clock.advance(days=100)
    other = build_core(core.settings, clock)
    try:
        async with other.engine.connect() as conn:
            # Another instance is in the middle of a run.
            lock_id = retention.RETENTION_LOCK_ID
            assert await conn.scalar(text(f"SELECT pg_try_advisory_lock({lock_id})"))
            assert await retention.run_once(core) is None
            assert await _ids(core, ReceivedFrame.frame_id) == {"old"}
            await conn.execute(text(f"SELECT pg_advisory_unlock({lock_id})"))
        purged = await retention.run_once(core)
        assert purged is not None and purged["received_frames"] == 1
    finally:
        await other.close()


async def test_the_portal_runs_it_by_itself(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build_core(settings, clock)
    try:
        installation = await _installation(before, "gone", linked=False, connected_at=None)
        await _frame(before, installation, "old", clock() - timedelta(days=100))
    finally:
        await before.close()
    monkeypatch.setattr(retention, "FIRST_RUN_SECONDS", 0)
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    try:
        core = server.app[CORE]
        async with asyncio.timeout(30):
            while await _ids(core, ReceivedFrame.frame_id):
                await asyncio.sleep(0.05)
        assert not server.app[RETENTION_JOB].done()  # and it goes on
    finally:
        await server.close()
