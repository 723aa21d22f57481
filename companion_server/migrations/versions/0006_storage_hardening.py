"""Storage hardening: indexes and progress marks of the retention job.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Indexes for the retention job's scans by age; a new table for its progress. No table is
# rebuilt (see 0004 on why that matters on SQLite).


def upgrade() -> None:
    """Apply the revision."""
    op.create_index("ix_received_frames_received_at", "received_frames", ["received_at"])
    op.create_index("ix_portal_frames_acked_at", "portal_frames", ["acked_at"])
    op.create_index("ix_radio_samples_at", "radio_samples", ["at"])
    op.create_table(
        "retention_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_retention_marks")),
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_table("retention_marks")
    op.drop_index("ix_radio_samples_at", table_name="radio_samples")
    op.drop_index("ix_portal_frames_acked_at", table_name="portal_frames")
    op.drop_index("ix_received_frames_received_at", table_name="received_frames")
