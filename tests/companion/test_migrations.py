"""Migrations: applied on first start, idempotent, and in step with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from companion_server.core import Core
from companion_server.db import create_engine, current_revision, head_revision, migrate
from companion_server.models import Base


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
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
