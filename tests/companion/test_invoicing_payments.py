"""Payments: CAMT.053 matching, Stripe checkout at its HTTP boundary, signed webhooks once."""

from __future__ import annotations

import json
import time

from aiohttp import web
import pytest
import stripe

from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.invoicing.payments.bank import import_statement, parse_statement
from companion_server.invoicing.payments.base import balance
from companion_server.invoicing.payments.card import CardPayments, process_event
from companion_server.models import Payment
from tests.companion.helpers import BrowserFactory
from tests.companion.invoicing_common import issue, line, shop
from tests.companion.stripe_common import (
    WEBHOOK_SECRET,
    StripeReplay,
    paid_event,
    recorded,
    settings,
    signed,
)

__all__ = ["settings"]


def camt(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-03T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S1</Id>" + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def entry(ref: str, amount: str, reference: str = "", text: str = "", credit: bool = True) -> str:
    remittance = (
        f"<Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd>" if reference else ""
    ) + (f"<Ustrd>{text}</Ustrd>" if text else "")
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-03</Dt></BookgDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf>{remittance}</RmtInf>"
        "</TxDtls></NtryDtls></Ntry>"
    )


async def test_camt_matches_paid_partial_unknown_and_twice_changes_nothing(core: Core) -> None:
    s = await shop(core)
    first = await issue(core, s, line(cents=1000))  # 12.00 due
    second = await issue(core, s, line(cents=5000))  # 60.00 due
    spaced = " ".join(second.creditor_reference[i : i + 4] for i in range(0, 12, 4)).lower()
    content = camt(
        entry("B1", "12.00", reference=first.creditor_reference),
        entry("B2", "20.5", text=f"Invoice {spaced}"),
        entry("B3", "7.00", reference="RF18539007547034"),
        entry("B4", "99.00", reference=first.creditor_reference, credit=False),
    )
    async with core.tx() as db:
        report = await import_statement(db, s.company.id, content, core.now())
    assert report.paid == [(first.creditor_reference, 1200)]
    assert report.partial == [(second.creditor_reference, 2050, 3950)]
    assert report.unknown == [("RF18539007547034", 700)]
    async with core.tx() as db:
        again = await import_statement(db, s.company.id, content, core.now())
        assert (again.paid, again.partial, again.unknown, again.known) == ([], [], [], 3)
        assert (await balance(db, first)).status == "paid"
        assert (await balance(db, second)).status == "partially_paid"
        assert len(list(await db.scalars(Payment.__table__.select()))) == 3


async def test_camt_of_another_company_is_not_matched(core: Core) -> None:
    a = await shop(core)
    b = await shop(core, "Rival")
    invoice = await issue(core, a)
    async with core.tx() as db:
        report = await import_statement(
            db,
            b.company.id,
            camt(entry("X", "23.88", reference=invoice.creditor_reference)),
            core.now(),
        )
    assert report.unknown and not report.paid


@pytest.mark.parametrize(
    "content",
    [
        b"not xml",
        b"<Document/>",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><Document>&e;</Document>',
        camt(entry("B", "1,00", reference="RF18539007547034")),
    ],
)
def test_bad_statements_are_refused(content: bytes) -> None:
    with pytest.raises(ValidationFailed):
        parse_statement(content)


async def test_card_checkout_session_through_the_sdk(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=1000))
    replay = StripeReplay((200, recorded("stripe_checkout_session.json")))
    provider = CardPayments("sk_test_recorded", WEBHOOK_SECRET, http_client=replay)
    start = await provider.start(invoice, return_url="http://127.0.0.1:8080/my-invoices/1")
    assert start.redirect_url == "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6g7H8i9J0"
    method, url, _, form = replay.requests[0]
    assert (method, url) == ("post", "https://api.stripe.com/v1/checkout/sessions")
    assert form["line_items[0][price_data][unit_amount]"] == ["1200"]
    assert form["line_items[0][price_data][currency]"] == ["eur"]
    assert form["metadata[invoice_id]"] == [str(invoice.id)]


async def test_card_error_is_the_sdks(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s)
    body = {"error": {"type": "invalid_request_error", "message": "No such key"}}
    provider = CardPayments("sk_test_bad", WEBHOOK_SECRET, http_client=StripeReplay((401, body)))
    with pytest.raises(stripe.AuthenticationError):
        await provider.start(invoice, return_url="http://x/")


async def test_webhook_signed_once_forged_refused(
    core: Core, browsers: BrowserFactory, server: web.Application
) -> None:
    s = await shop(core)
    invoice = await issue(core, s)
    client = await browsers.new()
    url = "/api/payments/stripe/webhook"
    payload = paid_event(invoice)
    forged = await client.request(
        "POST", url, data=payload, headers={"Stripe-Signature": signed(payload, "whsec_wrong")}
    )
    unsigned = await client.request("POST", url, data=payload)
    stale = await client.request(
        "POST",
        url,
        data=payload,
        headers={"Stripe-Signature": signed(payload, at=int(time.time()) - 3600)},
    )
    assert (forged.status, unsigned.status, stale.status) == (400, 400, 400)
    async with core.tx() as db:
        assert (await balance(db, invoice)).paid_cents == 0
    first = await client.request(
        "POST", url, data=payload, headers={"Stripe-Signature": signed(payload)}
    )
    replayed = await client.request(
        "POST", url, data=payload, headers={"Stripe-Signature": signed(payload)}
    )
    assert (first.status, json.loads(first.text)["duplicate"]) == (200, False)
    assert (replayed.status, json.loads(replayed.text)["duplicate"]) == (200, True)
    async with core.tx() as db:
        state = await balance(db, invoice)
        assert (state.paid_cents, state.status) == (invoice.gross_cents, "paid")


async def test_event_naming_another_company_pays_nothing(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s)
    data = json.loads(paid_event(invoice))
    data["data"]["object"]["metadata"]["company_id"] = str(invoice.company_id + 1)
    event = stripe.Event.construct_from(data, "sk_test")
    async with core.tx() as db:
        assert await process_event(db, event, core.now())
        assert (await balance(db, invoice)).paid_cents == 0
