"""The "Registration requests" list at scale: open codes by installation.

The list's page is the company's pending installations (index ``(company_id, status, id)``)
joined to their open code, newest code first. SQLite read each pending installation's codes
from the table to find the open one and its id (12 ms at 4,000 pending); with the open codes
indexed by installation the join and the sort read indexes only (2 ms). Expand only: a new
index; a portal still running the previous revision keeps working.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 08:10:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the revision."""
    open_codes = sa.text("used_at IS NULL AND superseded_at IS NULL")
    op.create_index(
        "ix_registrations_open_installation",
        "registrations",
        ["installation_id", "id"],
        sqlite_where=open_codes,
        postgresql_where=open_codes,
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index("ix_registrations_open_installation", table_name="registrations")
