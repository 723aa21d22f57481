"""Indexes of the lists at scale: customers by name, open codes, trigram search (PostgreSQL).

Expand only (new indexes, no table or column change): portals still running the previous
revision keep working while it is applied.

Revision ID: 0018
Revises: 0015
Create Date: 2026-11-28 22:30:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Substring search ("contains") of the installations list: a B-tree cannot serve a pattern
# with a leading wildcard; pg_trgm's GIN index can, on PostgreSQL, when the extension ships
# (Debian's postgresql package carries it). SQLite scans the company's rows.
TRIGRAM_INDEXES = {
    "ix_installations_name_trgm": "lower(name)",
    "ix_installations_email_trgm": "lower(customer_email)",
}


def _has_trigrams() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    available = bind.scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
    )
    if not available:
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False  # not allowed to create it: searching works, without the index
    return True


def upgrade() -> None:
    """Apply the revision."""
    op.create_index("ix_users_name_id", "users", ["name", "id"])
    op.create_index(
        "ix_installations_company_status", "installations", ["company_id", "status", "id"]
    )
    open_codes = sa.text("used_at IS NULL AND superseded_at IS NULL")
    op.create_index(
        "ix_registrations_open",
        "registrations",
        ["id"],
        sqlite_where=open_codes,
        postgresql_where=open_codes,
    )
    if _has_trigrams():
        for name, expression in TRIGRAM_INDEXES.items():
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON installations "
                f"USING gin ({expression} gin_trgm_ops)"
            )


def downgrade() -> None:
    """Revert the revision."""
    for name in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_registrations_open", table_name="registrations")
    op.drop_index("ix_installations_company_status", table_name="installations")
    op.drop_index("ix_users_name_id", table_name="users")
