"""Installation records: places, sub-installations, devices on file, documents, warranty terms.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 15:10:00.000000
"""

from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New tables only: nothing existing is rebuilt (see 0004 on why that matters on SQLite).


def upgrade() -> None:
    """Apply the revision."""
    op.create_table(
        "warranty_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_warranty_terms_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_terms")),
        sa.UniqueConstraint("company_id", "model", name=op.f("uq_warranty_terms_company_id")),
    )
    op.create_table(
        "installation_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_installation_documents_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_installation_documents_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_installation_documents_stored_name")),
    )
    op.create_index(
        op.f("ix_installation_documents_installation_id"),
        "installation_documents",
        ["installation_id"],
    )
    op.create_index(
        op.f("ix_installation_documents_uploaded_by_id"),
        "installation_documents",
        ["uploaded_by_id"],
    )
    op.create_table(
        "installation_places",
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_installation_places_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("installation_id", name=op.f("pk_installation_places")),
    )
    op.create_index(
        op.f("ix_installation_places_external_ref"), "installation_places", ["external_ref"]
    )
    op.create_table(
        "sub_installations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_sub_installations_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sub_installations")),
    )
    op.create_index(
        op.f("ix_sub_installations_installation_id"), "sub_installations", ["installation_id"]
    )
    op.create_table(
        "device_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("sub_installation_id", sa.Integer(), nullable=True),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_records_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_device_records_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub_installation_id"],
            ["sub_installations.id"],
            name=op.f("fk_device_records_sub_installation_id_sub_installations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_records")),
        sa.UniqueConstraint("device_id", name=op.f("uq_device_records_device_id")),
    )
    op.create_index(
        op.f("ix_device_records_installation_id"), "device_records", ["installation_id"]
    )
    op.create_index(
        op.f("ix_device_records_sub_installation_id"), "device_records", ["sub_installation_id"]
    )


def downgrade() -> None:
    """Revert the revision."""
    op.drop_index(op.f("ix_device_records_sub_installation_id"), table_name="device_records")
    op.drop_index(op.f("ix_device_records_installation_id"), table_name="device_records")
    op.drop_table("device_records")
    op.drop_index(op.f("ix_sub_installations_installation_id"), table_name="sub_installations")
    op.drop_table("sub_installations")
    op.drop_index(op.f("ix_installation_places_external_ref"), table_name="installation_places")
    op.drop_table("installation_places")
    op.drop_index(
        op.f("ix_installation_documents_uploaded_by_id"), table_name="installation_documents"
    )
    op.drop_index(
        op.f("ix_installation_documents_installation_id"), table_name="installation_documents"
    )
    op.drop_table("installation_documents")
    op.drop_table("warranty_terms")
