"""Bank transfer: the invoice's creditor reference and EPC QR code, and CAMT.053 matching.

The administrator uploads the bank's end-of-day statement (ISO 20022 ``camt.053``). Every
credit entry is matched to an invoice by the ISO 11649 reference the customer quoted
(structured, or found in the free text); a payment counts once, by the bank's reference of
the entry, so the same statement uploaded twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
import hashlib
import re
from typing import TYPE_CHECKING

from lxml import etree
from segno import helpers
from sqlalchemy import select

from companion_server.errors import ValidationFailed
from companion_server.invoicing.labels import INVOICE
from companion_server.invoicing.payments.base import PaymentStart, balance, record_payment
from companion_server.invoicing.references import normalize_reference
from companion_server.models import Invoice

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PROVIDER = "bank"
REFERENCE_IN_TEXT = re.compile(r"RF\s?\d\d(?:\s?[0-9A-Z]){1,21}", re.IGNORECASE)
AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
BAD_FILE = "This is not a CAMT.053 bank statement."


class BankTransfer:
    """Pay by transfer: the PDF carries the IBAN, the reference and the EPC QR code."""

    name = PROVIDER

    async def start(self, invoice: Invoice, *, return_url: str) -> PaymentStart:
        """Nothing to open: the customer's bank does the rest from the invoice."""
        del invoice, return_url
        return PaymentStart(PROVIDER, None)


def qr_data_uri(invoice: Invoice, amount_cents: int) -> str:
    """The EPC069-12 code of a transfer of ``amount_cents`` for the invoice, as an image URI."""
    qr = helpers.make_epc_qr(
        name=invoice.seller_name[:70],
        iban=invoice.seller_iban,
        amount=Decimal(amount_cents).scaleb(-2),
        reference=invoice.creditor_reference,
        bic=invoice.seller_bic or None,
    )
    return str(qr.svg_data_uri(scale=4, border=4))


@dataclass(frozen=True, slots=True)
class Credit:
    """One incoming transfer of the statement."""

    external_id: str
    amount_cents: int
    booked: date
    reference: str | None
    text: str


@dataclass
class Report:
    """What an upload did, entry by entry."""

    paid: list[tuple[str, int]] = field(default_factory=list)
    partial: list[tuple[str, int, int]] = field(default_factory=list)
    unknown: list[tuple[str, int]] = field(default_factory=list)
    known: int = 0


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _child(element: etree._Element, *path: str) -> etree._Element | None:
    current: etree._Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if _local(c) == name), None)
    return current


def _text(element: etree._Element, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _cents(raw: str) -> int:
    if not AMOUNT.fullmatch(raw):
        raise ValidationFailed({"file": BAD_FILE})
    whole, _, part = raw.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def parse_statement(content: bytes) -> list[Credit]:
    """The credit entries of a camt.053 file (any version of the schema)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as err:
        raise ValidationFailed({"file": BAD_FILE}) from err
    statements = [e for e in root.iter() if isinstance(e.tag, str) and _local(e) == "Stmt"]
    if _local(root) != "Document" or not statements:
        raise ValidationFailed({"file": BAD_FILE})
    credits: list[Credit] = []
    for statement in statements:
        statement_id = _text(statement, "Id")
        entries = [e for e in statement if _local(e) == "Ntry"]
        for index, entry in enumerate(entries):
            if _text(entry, "CdtDbtInd") != "CRDT" or _text(entry, "Sts", "Cd") == "PDNG":
                continue
            booked_raw = _text(entry, "BookgDt", "Dt") or _text(entry, "ValDt", "Dt")
            try:
                booked = date.fromisoformat(booked_raw[:10])
            except ValueError as err:
                raise ValidationFailed({"file": BAD_FILE}) from err
            details = _child(entry, "NtryDtls")
            transactions = (
                [t for t in details if _local(t) == "TxDtls"] if details is not None else []
            )
            for sub, tx in enumerate(transactions or [entry]):
                amount = _text(tx, "Amt") or _text(tx, "AmtDtls", "TxAmt", "Amt")
                amount = amount or _text(entry, "Amt")
                structured = _text(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
                free = " ".join(
                    (u.text or "")
                    for u in tx.iter()
                    if isinstance(u.tag, str) and _local(u) == "Ustrd"
                )
                found = REFERENCE_IN_TEXT.search(free)
                reference = normalize_reference(structured) or (
                    normalize_reference(found.group(0)) if found else None
                )
                own = _text(tx, "Refs", "AcctSvcrRef") or _text(entry, "AcctSvcrRef")
                key = (
                    own
                    or hashlib.sha256(
                        f"{statement_id}|{index}|{sub}|{booked_raw}|{amount}|{free}".encode()
                    ).hexdigest()
                )
                if own and len(transactions) > 1 and not _text(tx, "Refs", "AcctSvcrRef"):
                    key = f"{own}/{sub}"
                credits.append(Credit(key, _cents(amount), booked, reference, free.strip()))
    return credits


async def import_statement(
    db: AsyncSession, company_id: int, content: bytes, now: datetime
) -> Report:
    """Record the statement's credits for the company's invoices; report each."""
    report = Report()
    for credit in parse_statement(content):
        invoice = None
        if credit.reference is not None:
            invoice = await db.scalar(
                select(Invoice).where(
                    Invoice.company_id == company_id,
                    Invoice.creditor_reference == credit.reference,
                    Invoice.kind == INVOICE,
                )
            )
        label = credit.reference or credit.text[:60] or "-"
        new = await record_payment(
            db,
            company_id=company_id,
            invoice_id=invoice.id if invoice else None,
            provider=PROVIDER,
            external_id=credit.external_id,
            reference=credit.reference or credit.text,
            amount_cents=credit.amount_cents,
            received_at=datetime.combine(credit.booked, time(12), UTC),
            now=now,
        )
        if not new:
            report.known += 1
        elif invoice is None:
            report.unknown.append((label, credit.amount_cents))
        else:
            state = await balance(db, invoice)
            if state.outstanding_cents == 0:
                report.paid.append((label, credit.amount_cents))
            else:
                report.partial.append((label, credit.amount_cents, state.outstanding_cents))
    return report
