"""The administrator's side: the catalogue, the VAT rate, and the handover protocols.

A signed handover protocol (its date and the uploaded document) opens the 3-month window in
which a support plan can start (D7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing import catalogue
from companion_server.customers.accounts import company_admin
from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import N_
from companion_server.keyset import after_key, decode_cursor, encode_cursor, split_page
from companion_server.models import (
    BillingProfile,
    Installation,
    InstallationDocument,
    InstallationHandover,
)

if TYPE_CHECKING:
    from companion_server.core import Core


HANDOVERS_PAGE = 50  # installations per page of the handover protocols


@dataclass(frozen=True, slots=True)
class CataloguePage:
    """The company's catalogue and billing profile."""

    entries: list[catalogue.Entry]
    profile: BillingProfile


async def catalogue_page(core: Core, actor_id: int) -> CataloguePage:
    """The administrator's company's catalogue (the seeds' prices until changed)."""
    async with core.tx() as db:
        actor = await company_admin(db, actor_id)
        return CataloguePage(
            await catalogue.entries(db, actor.company_id),
            await catalogue.profile(db, actor.company_id),
        )


async def update_item(core: Core, actor_id: int, code: str, change: catalogue.ItemChange) -> None:
    """Change one item of the administrator's company's catalogue."""
    async with core.tx() as db:
        actor = await company_admin(db, actor_id)
        await catalogue.update_item(db, actor.company_id, code, change)


async def update_profile(core: Core, actor_id: int, vat: str, time_zone: str) -> None:
    """Change the company's VAT rate and billing time zone."""
    async with core.tx() as db:
        actor = await company_admin(db, actor_id)
        await catalogue.update_profile(db, actor.company_id, vat, time_zone)


@dataclass(frozen=True, slots=True)
class HandoverRow:
    """An installation of the company, its handover protocol and the documents to pick from."""

    installation: Installation
    handover: InstallationHandover | None
    documents: list[InstallationDocument]


@dataclass(frozen=True, slots=True)
class HandoverPage:
    """One page of the handover protocols, by installation name, and where the next starts."""

    rows: list[HandoverRow]
    next_after: str | None


async def handover_rows(core: Core, actor_id: int, after: str | None = None) -> HandoverPage:
    """The company's installations with their handover protocol, by name.

    A page of :data:`HANDOVERS_PAGE` at a time, by keyset (name, id): a range of the
    (company, name, id) index; the page's protocols and documents in one query each.
    """
    start = decode_cursor(after, str)
    async with core.tx() as db:
        actor = await company_admin(db, actor_id)
        query = select(Installation).where(Installation.company_id == actor.company_id)
        if start is not None:
            query = query.where(after_key(Installation.name, Installation.id, start))
        found, last = split_page(
            list(
                await db.scalars(
                    query.order_by(Installation.name, Installation.id).limit(HANDOVERS_PAGE + 1)
                )
            ),
            HANDOVERS_PAGE,
        )
        ids = [installation.id for installation in found]
        documents: dict[int, list[InstallationDocument]] = {i: [] for i in ids}
        for document in await db.scalars(
            select(InstallationDocument)
            .where(InstallationDocument.installation_id.in_(ids))
            .order_by(InstallationDocument.id.desc())
        ):
            documents[document.installation_id].append(document)
        handovers = {
            handover.installation_id: handover
            for handover in await db.scalars(
                select(InstallationHandover).where(InstallationHandover.installation_id.in_(ids))
            )
        }
        return HandoverPage(
            [HandoverRow(i, handovers.get(i.id), documents[i.id]) for i in found],
            None if last is None else encode_cursor(last.name, last.id),
        )


async def record_handover(
    core: Core, actor_id: int, installation_id: int, signed_on: str, document_id: int | None
) -> None:
    """Record the date the handover protocol was signed and its uploaded document."""
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(signed_on.strip())
    except ValueError:
        day = None
        errors["signed_on"] = N_("Give the date the protocol was signed.")
    async with core.tx() as db:
        actor = await company_admin(db, actor_id)
        installation = await db.get(Installation, installation_id)
        if installation is None or installation.company_id != actor.company_id:
            raise NotFound()
        document = None if document_id is None else await db.get(InstallationDocument, document_id)
        if document is None or document.installation_id != installation.id:
            errors["document_id"] = N_("Choose the signed protocol among the documents.")
        elif day is not None and day > core.now().date():
            errors["signed_on"] = N_("The protocol cannot be signed in the future.")
        if errors:
            raise ValidationFailed(errors)
        assert day is not None and document is not None
        row = await db.get(InstallationHandover, installation.id)
        if row is None:
            db.add(
                InstallationHandover(
                    installation_id=installation.id,
                    signed_on=day,
                    document_id=document.id,
                    recorded_at=core.now(),
                )
            )
        else:
            row.signed_on = day
            row.document_id = document.id
            row.recorded_at = core.now()
