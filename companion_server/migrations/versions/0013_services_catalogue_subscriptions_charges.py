"""Services: catalogue, billing profiles, subscriptions, charges, addresses, handovers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 17:45:40.711172
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# New tables only: nothing existing is rebuilt (see 0004 on why that matters on SQLite).


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "billing_profiles",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("vat_rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_billing_profiles_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_billing_profiles")),
    )
    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("monthly_price_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("discount_basis_points", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_catalogue_items_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_items")),
        sa.UniqueConstraint("company_id", "code", name=op.f("uq_catalogue_items_company_id")),
    )
    op.create_table(
        "billing_addresses",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.id"],
            name=op.f("fk_billing_addresses_customer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_billing_addresses")),
    )
    op.create_table(
        "service_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("monthly_price_cents", sa.Integer(), nullable=False),
        sa.Column("vat_rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("anchor_day", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("billed_until", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_service_subscriptions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.id"],
            name=op.f("fk_service_subscriptions_customer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_service_subscriptions_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["catalogue_items.id"],
            name=op.f("fk_service_subscriptions_item_id_catalogue_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_subscriptions")),
    )
    op.create_index(
        "ix_service_subscriptions_customer", "service_subscriptions", ["customer_id", "company_id"]
    )
    op.create_index(
        op.f("ix_service_subscriptions_installation_id"),
        "service_subscriptions",
        ["installation_id"],
    )

    op.create_table(
        "installation_handovers",
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["installation_documents.id"],
            name=op.f("fk_installation_handovers_document_id_installation_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_installation_handovers_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("installation_id", name=op.f("pk_installation_handovers")),
    )
    op.create_index(
        op.f("ix_installation_handovers_document_id"), "installation_handovers", ["document_id"]
    )

    op.create_table(
        "service_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("quantity_milli", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("vat_rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_service_charges_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.id"],
            name=op.f("fk_service_charges_customer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["service_subscriptions.id"],
            name=op.f("fk_service_charges_subscription_id_service_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_charges")),
        sa.UniqueConstraint("source", name=op.f("uq_service_charges_source")),
    )
    op.create_index("ix_service_charges_customer", "service_charges", ["customer_id", "company_id"])
    op.create_index(op.f("ix_service_charges_invoice_id"), "service_charges", ["invoice_id"])
    op.create_index(
        op.f("ix_service_charges_subscription_id"), "service_charges", ["subscription_id"]
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index(op.f("ix_service_charges_subscription_id"), table_name="service_charges")
    op.drop_index(op.f("ix_service_charges_invoice_id"), table_name="service_charges")
    op.drop_index("ix_service_charges_customer", table_name="service_charges")

    op.drop_table("service_charges")
    op.drop_index(
        op.f("ix_installation_handovers_document_id"), table_name="installation_handovers"
    )

    op.drop_table("installation_handovers")
    op.drop_index(
        op.f("ix_service_subscriptions_installation_id"), table_name="service_subscriptions"
    )
    op.drop_index("ix_service_subscriptions_customer", table_name="service_subscriptions")

    op.drop_table("service_subscriptions")
    op.drop_table("billing_addresses")
    op.drop_table("catalogue_items")
    op.drop_table("billing_profiles")
