"""Substring search of the installations on SQLite: an FTS5 trigram index kept by triggers.

SQLite has no index a ``LIKE '%text%'`` can use: the list's search read every installation
of the company (about 100 ms at 100,000). FTS5's ``trigram`` tokenizer (SQLite 3.34+)
indexes every three characters of the name, the customer's e-mail and the box PIN without
its dashes, case-folded; a search of three characters or more reads the installations
holding them. ``installations_search`` holds one row per installation (its ``rowid`` is the
installation's id), written by triggers on ``installations`` whichever portal instance or
statement writes it. PostgreSQL has pg_trgm's indexes (revision 0018): nothing here.

Expand only: a new table and triggers; portals of revision 0024 keep working (their writes
are indexed by the triggers, their searches do not read the table). A SQLite built without
FTS5 or the tokenizer gets nothing: the search reads the rows as before. Like revision
0020's, these triggers would be dropped by a batch (copy) rebuild of ``installations``.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 10:50:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "installations_search"
CREATE_TABLE = """
CREATE VIRTUAL TABLE installations_search
USING fts5(name, customer_email, pin, tokenize = 'trigram')
"""
TRIGGERS = {
    "tr_installations_search_insert": """
CREATE TRIGGER tr_installations_search_insert AFTER INSERT ON installations
FOR EACH ROW BEGIN
    INSERT INTO installations_search (rowid, name, customer_email, pin)
    VALUES (NEW.id, NEW.name, NEW.customer_email, replace(NEW.box_pin, '-', ''));
END
""",
    "tr_installations_search_update": """
CREATE TRIGGER tr_installations_search_update
AFTER UPDATE OF name, customer_email, box_pin ON installations
FOR EACH ROW BEGIN
    UPDATE installations_search
    SET name = NEW.name, customer_email = NEW.customer_email,
        pin = replace(NEW.box_pin, '-', '')
    WHERE rowid = NEW.id;
END
""",
    "tr_installations_search_delete": """
CREATE TRIGGER tr_installations_search_delete AFTER DELETE ON installations
FOR EACH ROW BEGIN
    DELETE FROM installations_search WHERE rowid = OLD.id;
END
""",
}
FILL = """
INSERT INTO installations_search (rowid, name, customer_email, pin)
SELECT id, name, customer_email, replace(box_pin, '-', '') FROM installations
"""


def _creates_table() -> bool:
    """Create the table if this SQLite has FTS5 and its trigram tokenizer; whether it did."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text(CREATE_TABLE))
    except sa.exc.OperationalError:
        return False  # no FTS5 or no trigram tokenizer (SQLite before 3.34)
    return True


def upgrade() -> None:
    """Apply the revision."""
    if not _creates_table():
        return
    for trigger in TRIGGERS.values():
        op.execute(trigger)
    op.execute(FILL)


def downgrade() -> None:
    """Revert the revision."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
