"""Customer accounts, their messages, and tickets.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 15:10:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# New tables and one plain column with a server default: no table is rebuilt (see 0004 on
# why that matters on SQLite). Portal-wide accounts (customers, support) belong to the
# company row marked ``portal`` because ``users.company_id`` stays NOT NULL: making it
# nullable would rebuild ``users`` on SQLite.


def _user_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete=ondelete
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Apply the revision."""
    op.add_column(
        "companies", sa.Column("portal", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "customer_installations",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("customer_installations", "customer_id", "CASCADE"),
        _fk("customer_installations", "installation_id", "installations"),
        sa.PrimaryKeyConstraint(
            "customer_id", "installation_id", name=op.f("pk_customer_installations")
        ),
    )
    op.create_index(
        "ix_customer_installations_installation", "customer_installations", ["installation_id"]
    )
    op.create_table(
        "customer_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _fk("customer_invitations", "installation_id", "installations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_customer_invitations_installation_id"),
        "customer_invitations",
        ["installation_id"],
    )
    op.create_table(
        "customer_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("customer_messages", "customer_id", "CASCADE"),
        _fk("customer_messages", "company_id", "companies"),
        _user_fk("customer_messages", "sender_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_messages")),
    )
    op.create_index("ix_customer_messages_customer", "customer_messages", ["customer_id", "id"])
    op.create_index(op.f("ix_customer_messages_company_id"), "customer_messages", ["company_id"])
    op.create_index(op.f("ix_customer_messages_sender_id"), "customer_messages", ["sender_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("device_url", sa.String(length=300), nullable=True),
        sa.Column("device_serial", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_role", sa.String(length=20), nullable=False),
        sa.Column("time_spent_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("tickets", "installation_id", "installations"),
        _fk("tickets", "company_id", "companies"),
        _user_fk("tickets", "customer_id", "SET NULL"),
        _user_fk("tickets", "assignee_id", "SET NULL"),
        _user_fk("tickets", "created_by_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
    )
    op.create_index("ix_tickets_company_id", "tickets", ["company_id", "id"])
    op.create_index("ix_tickets_installation", "tickets", ["installation_id", "id"])
    op.create_index("ix_tickets_customer", "tickets", ["customer_id", "id"])
    op.create_index(op.f("ix_tickets_assignee_id"), "tickets", ["assignee_id"])
    op.create_index(op.f("ix_tickets_created_by_id"), "tickets", ["created_by_id"])
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("ticket_comments", "ticket_id", "tickets"),
        _user_fk("ticket_comments", "author_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index("ix_ticket_comments_ticket", "ticket_comments", ["ticket_id", "id"])
    op.create_index(op.f("ix_ticket_comments_author_id"), "ticket_comments", ["author_id"])


def downgrade() -> None:
    """Revert the revision."""
    op.drop_table("ticket_comments")
    op.drop_table("tickets")
    op.drop_table("customer_messages")
    op.drop_table("customer_invitations")
    op.drop_table("customer_installations")
    op.drop_column("companies", "portal")
