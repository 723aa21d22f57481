"""Channel hardening: frame batches, alert ordering, action results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite, as in 0004: a batch operation would copy the table.


def upgrade() -> None:
    """Apply the revision."""
    op.add_column(
        "portal_frames", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_column("portal_frames", "expires_at")
