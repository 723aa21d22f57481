"""The EN 16931 XML of an invoice (UN/CEFACT CII, Factur-X profile EN 16931).

Built from the issued rows only, so that the XML says exactly what the PDF prints; checked
against the Factur-X XSD by ``factur-x`` before it is embedded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import facturx
from lxml import etree

from companion_server.invoicing.amounts import euros, totals
from companion_server.invoicing.labels import CREDIT_NOTE, TYPE_CODES, display_number

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from companion_server.models import Invoice, InvoiceLine

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
# UNTDID 4461: 58 = SEPA credit transfer.
SEPA_TRANSFER = "58"
# UN/ECE rec. 20: C62 = one (unit).
UNIT = "C62"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, day: date) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _rate(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}"


def _quantity(milli: int) -> str:
    sign = "-" if milli < 0 else ""
    return f"{sign}{abs(milli) // 1000}.{abs(milli) % 1000:03d}"


def _party(parent: etree._Element, tag: str, name: str, address: tuple[str, ...]) -> None:
    party = _el(parent, tag)
    _el(party, "ram:Name", name)
    street, postcode, city, country = address
    postal = _el(party, "ram:PostalTradeAddress")
    if postcode:
        _el(postal, "ram:PostcodeCode", postcode)
    if street:
        _el(postal, "ram:LineOne", street)
    if city:
        _el(postal, "ram:CityName", city)
    _el(postal, "ram:CountryID", country)


def _line(parent: etree._Element, line: InvoiceLine) -> None:
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    # EN 16931 forbids a negative price (BR-27): a credit line has a negative quantity.
    quantity = line.quantity_milli if line.unit_price_cents >= 0 else -line.quantity_milli
    price = _el(_el(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    _el(price, "ram:ChargeAmount", euros(abs(line.unit_price_cents)))
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", _quantity(quantity), unitCode=UNIT)
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", "S")
    _el(tax, "ram:RateApplicablePercent", _rate(line.vat_rate_basis_points))
    if line.period_start is not None and line.period_end is not None:
        period = _el(settlement, "ram:BillingSpecifiedPeriod")
        _date(period, "ram:StartDateTime", line.period_start)
        _date(period, "ram:EndDateTime", line.period_end)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", euros(line.net_cents))


def invoice_xml(
    invoice: Invoice, lines: Sequence[InvoiceLine], credited_number: int | None
) -> bytes:
    """The CII XML of an issued invoice or credit note, checked against the XSD."""
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", display_number(invoice.number))
    _el(document, "ram:TypeCode", TYPE_CODES[invoice.kind])
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        _line(transaction, line)
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    seller = _el(agreement, "ram:SellerTradeParty")
    _el(seller, "ram:Name", invoice.seller_name)
    postal = _el(seller, "ram:PostalTradeAddress")
    _el(postal, "ram:PostcodeCode", invoice.seller_postcode)
    _el(postal, "ram:LineOne", invoice.seller_street)
    _el(postal, "ram:CityName", invoice.seller_city)
    _el(postal, "ram:CountryID", invoice.seller_country)
    registration = _el(seller, "ram:SpecifiedTaxRegistration")
    _el(registration, "ram:ID", invoice.seller_vat_id, schemeID="VA")
    buyer_address = (
        invoice.buyer_street,
        invoice.buyer_postcode,
        invoice.buyer_city,
        invoice.buyer_country,
    )
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer_name, buyer_address)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", invoice.creditor_reference)
    _el(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    if invoice.kind != CREDIT_NOTE:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", SEPA_TRANSFER)
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", invoice.seller_iban)
    result = totals((line.net_cents, line.vat_rate_basis_points) for line in lines)
    for group in result.groups:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", euros(group.vat_cents))
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:BasisAmount", euros(group.net_cents))
        _el(tax, "ram:CategoryCode", "S")
        _el(tax, "ram:RateApplicablePercent", _rate(group.rate_basis_points))
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _date(terms, "ram:DueDateDateTime", invoice.due_date)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", euros(result.net_cents))
    _el(summation, "ram:TaxBasisTotalAmount", euros(result.net_cents))
    _el(summation, "ram:TaxTotalAmount", euros(result.vat_cents), currencyID=invoice.currency)
    _el(summation, "ram:GrandTotalAmount", euros(result.gross_cents))
    _el(summation, "ram:DuePayableAmount", euros(result.gross_cents))
    if credited_number is not None:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", display_number(credited_number))
    xml = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml
