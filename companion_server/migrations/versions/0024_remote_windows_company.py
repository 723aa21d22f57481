"""A company's open remote-service windows as one index range: ``remote_windows.company_id``.

The work queue's "window" count and filter asked, per installation of the company, whether
it had an open window: about 1,001 index probes per page at 100,000 installations (4.5 to
6.6 ms of PostgreSQL). With the company on the window, they read the company's open
windows from one index, ``(company_id, state, until, installation_id)``.

Expand only, safe while portals of revision 0023 still serve: the column is nullable and
the database fills it on every insert that does not give it (those portals' inserts, bulk
statements), so no window is ever left out of its company's count. The column is added in
place (``ALTER TABLE ... ADD COLUMN``): no batch rebuild, which on SQLite would drop the
triggers of revision 0020 had it touched their tables (it touches none of them).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 10:45:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "tr_remote_windows_company"

# PostgreSQL fills the row before it is written; SQLite's triggers cannot change NEW, so
# there the row is updated right after its insert, in the same statement.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION remote_windows_company() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.company_id IS NULL THEN
        NEW.company_id := (SELECT company_id FROM installations WHERE id = NEW.installation_id);
    END IF;
    RETURN NEW;
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER tr_remote_windows_company BEFORE INSERT ON remote_windows
FOR EACH ROW EXECUTE FUNCTION remote_windows_company()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER tr_remote_windows_company AFTER INSERT ON remote_windows
FOR EACH ROW WHEN NEW.company_id IS NULL BEGIN
    UPDATE remote_windows
    SET company_id = (SELECT company_id FROM installations WHERE id = NEW.installation_id)
    WHERE id = NEW.id;
END
"""
BACKFILL = """
UPDATE remote_windows
SET company_id = (
    SELECT company_id FROM installations WHERE installations.id = remote_windows.installation_id
)
WHERE company_id IS NULL
"""


def upgrade() -> None:
    """Apply the revision."""
    op.add_column("remote_windows", sa.Column("company_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)
    # After the trigger: a window inserted meanwhile by another instance is filled by either.
    op.execute(BACKFILL)
    op.create_index(
        "ix_remote_windows_company_open",
        "remote_windows",
        ["company_id", "state", "until", "installation_id"],
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index("ix_remote_windows_company_open", table_name="remote_windows")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON remote_windows")
        op.execute("DROP FUNCTION IF EXISTS remote_windows_company()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    # SQLite drops a column in place (3.35+): no rebuild of the table.
    op.drop_column("remote_windows", "company_id")
