"""Cover positions: a product's closure in percent, as Home Assistant reports it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:19:11.724227
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite (3.35 and later drop columns): a batch operation would
# copy the table and drop the old one, and with foreign keys on, that deletes the radio
# history of every product (ON DELETE CASCADE).


def upgrade() -> None:
    """Apply the revision."""
    op.add_column("devices", sa.Column("position", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert the revision."""
    op.drop_column("devices", "position")
