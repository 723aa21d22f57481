"""Migrations: applied on first start, idempotent, and in step with the models."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select

from companion_server.core import Core
from companion_server.db import (
    alembic_config,
    create_engine,
    current_revision,
    head_revision,
    migrate,
    modelled,
)
from companion_server.models import Base, Device, RadioSample
from tests.companion.ha import registered


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": modelled}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_schema_matches_models(core: Core) -> None:
    assert await current_revision(core.engine) == head_revision()
    async with core.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {
        "companies",
        "users",
        "sessions",
        "installations",
        "installation_assignments",
        "mail_outbox",
        "audit_events",
        "invitations",
        "user_tokens",
        "rate_limits",
    } <= tables


async def test_migrate_is_idempotent(core: Core) -> None:
    await migrate(core.engine)
    await migrate(core.engine)
    assert await current_revision(core.engine) == head_revision()


async def test_fresh_sqlite_file_is_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nested" / "dir" / "portal.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        assert await current_revision(engine) is None
        await migrate(engine)
        assert path.exists()
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


def _alembic(connection: Connection, step: Callable[[Config, str], None], revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    step(cfg, revision)


async def test_cover_positions_revision_keeps_the_products(core: Core) -> None:
    """Down before 0004 and up again: products and radio history stay, no position yet."""
    registration, _ = await registered(core)
    async with core.tx() as db:
        device = Device(
            installation_id=registration.installation_id,
            url="io://1234-5678-9012/1",
            label="Living room shutter",
            rssi=72,
            updated_at=core.now(),
        )
        db.add(device)
        await db.flush()
        db.add(RadioSample(device_id=device.id, at=core.now(), rssi=72))
    for step, revision in ((command.downgrade, "0003"), (command.upgrade, "head")):
        async with core.engine.begin() as conn:
            await conn.run_sync(_alembic, step, revision)
    async with core.tx() as db:
        [stored] = list(await db.scalars(select(Device)))
        samples = list(await db.scalars(select(RadioSample.rssi)))
    assert (stored.label, stored.rssi, stored.position, samples) == (
        "Living room shutter",
        72,
        None,
        [72],
    )
