"""Advance payments of interventions (D6): one row per advance invoice.

Expand only (a new table): portals still running the previous revision keep working.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 01:24:24.755656
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "intervention_advances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("override_by_id", sa.Integer(), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_reason", sa.String(length=300), nullable=False),
        sa.Column("settled_by_invoice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_intervention_advances_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_intervention_advances_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_intervention_advances_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"],
            ["users.id"],
            name=op.f("fk_intervention_advances_override_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_intervention_advances_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["settled_by_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_intervention_advances_settled_by_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_advances")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_intervention_advances_invoice_id")),
    )
    op.create_index(
        "ix_intervention_advances_installation", "intervention_advances", ["installation_id", "id"]
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index("ix_intervention_advances_installation", table_name="intervention_advances")
    op.drop_table("intervention_advances")
