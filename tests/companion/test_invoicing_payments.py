"""Payments: CAMT.053 matching, Stripe checkout at its HTTP boundary, signed webhooks once."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
import time
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
import pytest
import stripe

from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.invoicing.payments.bank import import_statement, parse_statement
from companion_server.invoicing.payments.base import balance
from companion_server.invoicing.payments.card import CardPayments, process_event
from companion_server.models import Invoice, Payment
from companion_server.settings import Settings
from tests.companion.conftest import fast_settings
from tests.companion.helpers import BrowserFactory
from tests.companion.invoicing_common import issue, line, shop

RECORDED = Path(__file__).parent / "recorded"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


def card_settings(database_url: str, tmp_path: Path) -> Settings:
    """Card payments on (test keys): the webhook route is live."""
    return fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        documents_dir=str(tmp_path / "documents"),
        stripe_secret_key="sk_test_recorded",
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Card payments on."""
    return card_settings(database_url, tmp_path)


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


class Replay(stripe.HTTPClient):
    """Stripe's HTTP boundary: answers with a recorded response, keeps what was asked."""

    name = "replay"

    def __init__(self, body: bytes, status: int = 200) -> None:
        super().__init__()
        self.body = body
        self.status = status
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        self.requests.append((method, url, parse_qs(post_data or "")))
        return self.body.decode(), self.status, {"request-id": "req_recorded"}

    def close(self) -> None:
        return None


async def test_card_checkout_session_through_the_sdk(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=1000))
    replay = Replay((RECORDED / "stripe_checkout_session.json").read_bytes())
    provider = CardPayments("sk_test_recorded", WEBHOOK_SECRET, http_client=replay)
    start = await provider.start(invoice, return_url="http://127.0.0.1:8080/my-invoices/1")
    assert start.redirect_url == "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6g7H8i9J0"
    method, url, form = replay.requests[0]
    assert (method, url) == ("post", "https://api.stripe.com/v1/checkout/sessions")
    assert form["line_items[0][price_data][unit_amount]"] == ["1200"]
    assert form["line_items[0][price_data][currency]"] == ["eur"]
    assert form["metadata[invoice_id]"] == [str(invoice.id)]


async def test_card_error_is_the_sdks(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s)
    body = json.dumps({"error": {"type": "invalid_request_error", "message": "No such key"}})
    provider = CardPayments("sk_test_bad", WEBHOOK_SECRET, http_client=Replay(body.encode(), 401))
    with pytest.raises(stripe.AuthenticationError):
        await provider.start(invoice, return_url="http://x/")


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def paid_event(invoice: Invoice, event_id: str = "evt_1", amount: int | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1772438400,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "payment_status": "paid",
                    "payment_intent": f"pi_{event_id}",
                    "amount_total": invoice.gross_cents if amount is None else amount,
                    "metadata": {
                        "invoice_id": str(invoice.id),
                        "company_id": str(invoice.company_id),
                    },
                }
            },
        }
    ).encode()


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
