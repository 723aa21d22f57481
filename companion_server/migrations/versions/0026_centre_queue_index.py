"""The monitoring centre's queue by keyset: open cases by urgency, then age.

The queue read every open case of the company and sorted them in Python; a storm of alarms
(a regional power cut) leaves thousands open. The urgency is the case's kind (which never
changes), so the index holds it as an expression: no column to backfill or keep up to date.
The expression must stay spelled as ``models.centre.QUEUE_URGENCY_SQL`` (the queries use that
text, and a planner matches an expression index by its text). Expand only: a new index; a
portal still running the previous revision keeps working.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29 11:20:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

URGENCY = (
    "(\nCASE kind\n"
    "    WHEN 'aggression' THEN 0\n"
    "    WHEN 'fire' THEN 0\n"
    "    WHEN 'intrusion' THEN 1\n"
    "    WHEN 'tamper' THEN 2\n"
    "    ELSE 3\nEND)"
)


def upgrade() -> None:
    """Apply the revision."""
    open_cases = sa.text("closed_at IS NULL")
    op.create_index(
        "ix_centre_cases_queue",
        "centre_cases",
        ["company_id", sa.text(URGENCY), "opened_at", "id"],
        sqlite_where=open_cases,
        postgresql_where=open_cases,
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index("ix_centre_cases_queue", table_name="centre_cases")
