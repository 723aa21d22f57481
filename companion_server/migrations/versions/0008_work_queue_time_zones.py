"""Work queue: indexes of the installations list, alert follow-ups, the users' time zones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 11:30:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A new table, a plain nullable column and indexes: no table is rebuilt (see 0004 on why
# that matters on SQLite). Follow-ups have their own table because SQLite cannot add a
# column with a foreign key without rebuilding ``alerts``.


def upgrade() -> None:
    """Apply the revision."""
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.create_index("ix_installations_company_name", "installations", ["company_id", "name", "id"])
    op.create_index("ix_alerts_active_installation", "alerts", ["active", "installation_id"])
    op.create_table(
        "alert_follow_ups",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_by_name", sa.String(length=200), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_follow_ups_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_alert_follow_ups_acknowledged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["users.id"],
            name=op.f("fk_alert_follow_ups_assigned_to_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_follow_ups")),
    )
    op.create_index(
        op.f("ix_alert_follow_ups_acknowledged_by_id"), "alert_follow_ups", ["acknowledged_by_id"]
    )
    op.create_index(
        op.f("ix_alert_follow_ups_assigned_to_id"), "alert_follow_ups", ["assigned_to_id"]
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index(op.f("ix_alert_follow_ups_assigned_to_id"), table_name="alert_follow_ups")
    op.drop_index(op.f("ix_alert_follow_ups_acknowledged_by_id"), table_name="alert_follow_ups")
    op.drop_table("alert_follow_ups")
    op.drop_index("ix_alerts_active_installation", table_name="alerts")
    op.drop_index("ix_installations_company_name", table_name="installations")
    op.drop_column("users", "time_zone")
