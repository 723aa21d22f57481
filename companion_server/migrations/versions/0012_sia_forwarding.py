"""SIA DC-09 forwarding: each company's receiving centre and the outbox of its alarms.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 15:20:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "sia_centres",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=16), nullable=False),
        sa.Column("receiver", sa.String(length=6), nullable=False),
        sa.Column("line", sa.String(length=6), nullable=False),
        sa.Column("message_format", sa.String(length=10), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=True),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sia_centres_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_sia_centres")),
    )
    op.create_table(
        "sia_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=True),
        sa.Column("account", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("restore", sa.Boolean(), nullable=False),
        sa.Column("device_label", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sia_outbox_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_sia_outbox_installation_id_installations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sia_outbox")),
    )
    op.create_index("ix_sia_outbox_company_state", "sia_outbox", ["company_id", "state", "id"])
    op.create_index(op.f("ix_sia_outbox_installation_id"), "sia_outbox", ["installation_id"])


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index(op.f("ix_sia_outbox_installation_id"), table_name="sia_outbox")
    op.drop_index("ix_sia_outbox_company_state", table_name="sia_outbox")
    op.drop_table("sia_outbox")
    op.drop_table("sia_centres")
