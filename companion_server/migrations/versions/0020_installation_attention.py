"""The installations queue at scale: a stored attention score kept by triggers, its indexes.

``installations.attention`` is the "problems first" score of the work queue (4 active alerts
under Serv-e-go, 2 offline, 1 not linked), kept by the database itself wherever its facts
change (the installation's status, its state row, its alerts), whichever portal instance or
statement writes them: the queue reads a page and bounded counts from an index instead of
scoring every installation on each request. Expand only: portals still running the previous
revision keep working (their inserts get the default, the triggers score them).

A later migration must not rebuild ``installations``, ``installation_states`` or ``alerts``
with a batch (copy) operation on SQLite: that drops the tables' triggers.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The SQL below is assembled from this module's constants only (no outside value): S608.
def _score(target: str) -> str:
    """The attention score of installation ``target`` (an SQL expression), both dialects."""
    return f"""(
        SELECT CASE WHEN s.monitoring = 'granted' AND EXISTS (
                   SELECT 1 FROM alerts a WHERE a.active IS TRUE AND a.installation_id = i.id
               ) THEN 4 ELSE 0 END
             + CASE WHEN i.status = 'linked' AND (
                   s.connected IS NOT TRUE
                   OR (s.monitoring = 'granted' AND s.box_online IS FALSE)
               ) THEN 2 ELSE 0 END
             + CASE WHEN i.status <> 'linked' THEN 1 ELSE 0 END
        FROM installations i LEFT JOIN installation_states s ON s.installation_id = i.id
        WHERE i.id = {target}
    )"""  # noqa: S608


# (trigger name, table, event, SQLite WHEN condition or "", the installation concerned)
TRIGGERS = (
    ("tr_installations_attention_insert", "installations", "INSERT", "", "NEW.id"),
    (
        "tr_installations_attention_status",
        "installations",
        "UPDATE OF status",
        "OLD.status IS NOT NEW.status",
        "NEW.id",
    ),
    ("tr_states_attention_insert", "installation_states", "INSERT", "", "NEW.installation_id"),
    (
        "tr_states_attention_update",
        "installation_states",
        "UPDATE OF monitoring, connected, box_online",
        "OLD.monitoring IS NOT NEW.monitoring OR OLD.connected IS NOT NEW.connected "
        "OR OLD.box_online IS NOT NEW.box_online",
        "NEW.installation_id",
    ),
    ("tr_states_attention_delete", "installation_states", "DELETE", "", "OLD.installation_id"),
    ("tr_alerts_attention_insert", "alerts", "INSERT", "", "NEW.installation_id"),
    (
        "tr_alerts_attention_update",
        "alerts",
        "UPDATE OF active",
        "OLD.active IS NOT NEW.active",
        "NEW.installation_id",
    ),
    ("tr_alerts_attention_delete", "alerts", "DELETE", "", "OLD.installation_id"),
)

# PostgreSQL: the installation's row is locked first (as the UPDATE would: NO KEY, which
# leaves alone the KEY SHARE lock a transaction writing an alert of it holds), then scored
# by a statement of its own, which (in READ COMMITTED) sees what a concurrent transaction
# that held the lock committed;
# scored in the same statement, two writers of the same installation could each miss the
# other's change. The triggers are deferred to the commit: a transaction holds the
# installation's row only while committing, never while it waits for a state or alert row
# another holds (a bulk "every box offline" beside an alert and a state change of one box
# would otherwise deadlock).
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION installation_attention_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE target integer;
BEGIN
    IF TG_TABLE_NAME = 'installations' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.installation_id;
    ELSE
        target := NEW.installation_id;
    END IF;
    PERFORM 1 FROM installations WHERE id = target FOR NO KEY UPDATE;
    UPDATE installations SET attention = {_score("target")} WHERE id = target;
    RETURN NULL;
END
$$
"""  # noqa: S608


def _pg_when(condition: str) -> str:
    if not condition:
        return ""
    return " WHEN (" + condition.replace("IS NOT", "IS DISTINCT FROM") + ")"


def upgrade() -> None:
    """Apply the revision."""
    op.add_column(
        "installations",
        sa.Column("attention", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index(
        "ix_installations_company_attention", "installations", ["company_id", "attention", "id"]
    )
    op.create_index(
        "ix_installations_company_attention_name",
        "installations",
        ["company_id", "attention", "name", "id"],
    )
    op.create_index(
        "ix_remote_windows_open", "remote_windows", ["state", "until", "installation_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for name, table, event, condition, _ in TRIGGERS:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{_pg_when(condition)} "
                "EXECUTE FUNCTION installation_attention_refresh()"
            )
    else:
        for name, table, event, condition, target in TRIGGERS:
            when = f" WHEN {condition}" if condition else ""
            refresh = f"UPDATE installations SET attention = {_score(target)} WHERE id = {target}"  # noqa: S608
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} "
                f"BEGIN {refresh}; END"
            )
    op.execute(f"UPDATE installations SET attention = {_score('installations.id')}")  # noqa: S608


def downgrade() -> None:
    """Revert the revision."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS installation_attention_refresh()")
    op.drop_index("ix_remote_windows_open", table_name="remote_windows")
    op.drop_index("ix_installations_company_attention_name", table_name="installations")
    op.drop_index("ix_installations_company_attention", table_name="installations")
    op.drop_column("installations", "attention")
