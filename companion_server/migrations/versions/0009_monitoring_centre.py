"""Monitoring centre: subscriptions, cases, alarms; the role an invitation gives.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New tables and a column with a server default: no table is rebuilt (see 0004 on SQLite).
_OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    """Apply the revision."""
    op.add_column(
        "invitations",
        sa.Column("role", sa.String(length=20), server_default="installer", nullable=False),
    )
    op.create_table(
        "centre_subscriptions",
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("on_site", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_centre_subscriptions_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("installation_id", name=op.f("pk_centre_subscriptions")),
    )
    op.create_table(
        "centre_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_centre_cases_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_centre_cases_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["users.id"],
            name=op.f("fk_centre_cases_claimed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_cases")),
    )
    op.create_index("ix_centre_cases_company_open", "centre_cases", ["company_id", "closed_at"])
    op.create_index("ix_centre_cases_phase_deadline", "centre_cases", ["phase", "deadline"])
    op.create_index(op.f("ix_centre_cases_installation_id"), "centre_cases", ["installation_id"])
    op.create_index(op.f("ix_centre_cases_claimed_by_id"), "centre_cases", ["claimed_by_id"])
    op.create_index(
        "uq_centre_cases_open_installation",
        "centre_cases",
        ["installation_id"],
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_table(
        "centre_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("alarm_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("device_url", sa.String(length=300), nullable=True),
        sa.Column("device_label", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_centre_alarms_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["centre_cases.id"],
            name=op.f("fk_centre_alarms_case_id_centre_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_alarms")),
    )
    op.create_index("ix_centre_alarms_installation_at", "centre_alarms", ["installation_id", "at"])
    op.create_index(op.f("ix_centre_alarms_case_id"), "centre_alarms", ["case_id"])


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index(op.f("ix_centre_alarms_case_id"), table_name="centre_alarms")
    op.drop_index("ix_centre_alarms_installation_at", table_name="centre_alarms")
    op.drop_table("centre_alarms")
    op.drop_index("uq_centre_cases_open_installation", table_name="centre_cases")
    op.drop_index(op.f("ix_centre_cases_claimed_by_id"), table_name="centre_cases")
    op.drop_index(op.f("ix_centre_cases_installation_id"), table_name="centre_cases")
    op.drop_index("ix_centre_cases_phase_deadline", table_name="centre_cases")
    op.drop_index("ix_centre_cases_company_open", table_name="centre_cases")
    op.drop_table("centre_cases")
    op.drop_table("centre_subscriptions")
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_column("role")
