"""Tickets by e-mail: claims on received messages and the refusal replies sent.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "inbound_mail_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_inbound_mail_claims_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mail_claims")),
        sa.UniqueConstraint("key", name=op.f("uq_inbound_mail_claims_key")),
    )
    op.create_index("ix_inbound_mail_claims_claimed_at", "inbound_mail_claims", ["claimed_at"])
    op.create_index(op.f("ix_inbound_mail_claims_ticket_id"), "inbound_mail_claims", ["ticket_id"])
    op.create_table(
        "inbound_mail_replies",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_inbound_mail_replies")),
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_table("inbound_mail_replies")
    op.drop_index(op.f("ix_inbound_mail_claims_ticket_id"), table_name="inbound_mail_claims")
    op.drop_index("ix_inbound_mail_claims_claimed_at", table_name="inbound_mail_claims")
    op.drop_table("inbound_mail_claims")
