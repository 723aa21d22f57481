"""The company's warranty table: the months of warranty it gives each model.

Administrators edit it; each change stores again the warranty's end of the company's
devices on file (records/ends.py), which the lists of what ends soon read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.models import WarrantyTerm
from companion_server.parsing import parse_int
from companion_server.records.ends import restamp_company, table_in
from companion_server.records.services import clean_text
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from companion_server.core import Core

MAX_MONTHS = 600
MAX_TERMS = 500


async def term_table(core: Core, company_id: int) -> dict[str, int]:
    """The company's months per model (models compared without case)."""
    async with core.tx() as db:
        return await table_in(db, company_id)


async def terms(core: Core, actor_id: int) -> list[WarrantyTerm]:
    """The company's warranty table, by model (administrators)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        return list(
            await db.scalars(
                select(WarrantyTerm)
                .where(WarrantyTerm.company_id == actor.company_id)
                .order_by(WarrantyTerm.model)
            )
        )


async def save_term(core: Core, actor_id: int, values: dict[str, str]) -> None:
    """Set the months of warranty of a model (a new row or a changed one)."""
    errors: dict[str, str] = {}
    model = clean_text(values.get("model", ""), "model", errors, limit=100, required=True)
    months = parse_int(values.get("months", "").strip(), 1, MAX_MONTHS)
    if months is None:
        errors["months"] = "Enter a number of months between 1 and 600."
    if errors or months is None:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        existing = list(
            await db.scalars(
                select(WarrantyTerm).where(WarrantyTerm.company_id == actor.company_id)
            )
        )
        same = [t for t in existing if t.model.casefold() == model.casefold()]
        if same:
            same[0].months = months
        elif len(existing) >= MAX_TERMS:
            raise ValidationFailed({"model": "The warranty table is full."})
        else:
            db.add(WarrantyTerm(company_id=actor.company_id, model=model, months=months))
        await db.flush()
        await restamp_company(db, actor.company_id)


async def delete_term(core: Core, actor_id: int, term_id: int) -> None:
    """Remove a model from the warranty table."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        term = await db.get(WarrantyTerm, term_id)
        if term is None or term.company_id != actor.company_id:
            raise NotFound()
        await db.delete(term)
        await db.flush()
        await restamp_company(db, actor.company_id)
