"""Warranty ends stored on the devices on file; the indexes of the warranty and team lists.

``device_records.company_id`` (the installation's company) and ``warranty_ends_on`` (the
install date plus the months the company's warranty table gives the model) let the list of
warranties ending soon read one index range per page instead of computing every device's
end in Python; ``users (company_id, name, id)`` serves the team page by pages of 50.
Expand only: two nullable columns (``ADD COLUMN``, no table rebuild) and two
indexes; a portal still running the previous revision keeps working (its writes leave the two
columns empty, and the next change of the record or of the warranty table fills them).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 04:40:00.000000
"""

import calendar
from collections.abc import Sequence
from datetime import date

from alembic import op
import sqlalchemy as sa

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def _add_months(day: date, months: int) -> date:
    # The same rule as records/warranty.py (kept here: a migration does not import the app).
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _backfill() -> None:
    bind = op.get_bind()
    terms: dict[tuple[int, str], int] = {
        (company_id, model.casefold()): months
        for company_id, model, months in bind.execute(
            sa.text("SELECT company_id, model, months FROM warranty_terms")
        )
    }
    rows = bind.execute(
        sa.text(
            "SELECT r.id, i.company_id, r.installed_on, r.device_id, r.model, d.ui_class "
            "FROM device_records r JOIN installations i ON i.id = r.installation_id "
            "LEFT JOIN devices d ON d.id = r.device_id"
        )
    ).all()
    updates = []
    for record_id, company_id, installed_on, device_id, model, ui_class in rows:
        day = date.fromisoformat(installed_on) if isinstance(installed_on, str) else installed_on
        name = (ui_class if device_id is not None else model) or ""
        months = terms.get((company_id, name.casefold()))
        ends = None if day is None or months is None else _add_months(day, months)
        updates.append({"id": record_id, "company": company_id, "ends": ends})
    statement = sa.text(
        "UPDATE device_records SET company_id = :company, warranty_ends_on = :ends WHERE id = :id"
    ).bindparams(sa.bindparam("ends", type_=sa.Date()))
    for start in range(0, len(updates), BATCH):
        bind.execute(statement, updates[start : start + BATCH])


def upgrade() -> None:
    """Apply the revision."""
    op.add_column("device_records", sa.Column("company_id", sa.Integer(), nullable=True))
    op.add_column("device_records", sa.Column("warranty_ends_on", sa.Date(), nullable=True))
    _backfill()
    op.create_index(
        "ix_device_records_company_warranty",
        "device_records",
        ["company_id", "warranty_ends_on", "id"],
    )
    op.create_index("ix_users_company_name_id", "users", ["company_id", "name", "id"])


def downgrade() -> None:
    """Revert the revision (SQLite 3.35+ drops a column without rebuilding the table)."""
    op.drop_index("ix_users_company_name_id", table_name="users")
    op.drop_index("ix_device_records_company_warranty", table_name="device_records")
    op.drop_column("device_records", "warranty_ends_on")
    op.drop_column("device_records", "company_id")
