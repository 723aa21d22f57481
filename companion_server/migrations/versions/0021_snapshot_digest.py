"""Reconnection storms: the digest of the snapshot applied last, per installation.

After a portal restart every Home Assistant sends its snapshot again, mostly unchanged: with
the digest stored, a snapshot saying the same is neither validated, read nor written.
Expand only: a new nullable column (a plain ``ADD COLUMN`` on SQLite, no table rebuild, so
the attention triggers of 0020 stay). An instance of the previous revision ignores it; a
device it changes meanwhile leaves a digest behind, which costs at most one skipped snapshot
until Home Assistant's next update of that device.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 04:40:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``installation_states.snapshot_digest``."""
    op.add_column(
        "installation_states", sa.Column("snapshot_digest", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_column("installation_states", "snapshot_digest")
