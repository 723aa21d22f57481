"""Account hardening: failed logins of unknown addresses, kept like an account's lock.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A new table only: nothing of SQLite's batch copies (see 0004) is needed.


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "unknown_address_failures",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_unknown_address_failures")),
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_table("unknown_address_failures")
