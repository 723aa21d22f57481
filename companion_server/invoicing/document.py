"""The invoice file: the printed layout made PDF/A-3 with its EN 16931 XML inside.

``factur-x`` embeds the XML (``factur-x.xml``, relationship ``Data``) and writes the PDF/A
and Factur-X XMP metadata; PDF/A also wants an output intent naming the colour space the
page is printed in, which ReportLab does not write: an sRGB profile (Pillow's littleCMS)
is added here with ``pypdf``, the library ``factur-x`` itself edits PDFs with.
"""

from __future__ import annotations

from functools import cache
import io
from typing import TYPE_CHECKING

import facturx
from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from companion_server.i18n import translator
from companion_server.invoicing import cii, pdf
from companion_server.invoicing.labels import KIND_LABELS, display_number

if TYPE_CHECKING:
    from collections.abc import Sequence

    from companion_server.models import Invoice, InvoiceLine


@cache
def _srgb_profile() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _add_output_intent(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    profile = DecodedStreamObject()
    profile.set_data(_srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    credited_number: int | None,
    fonts: pdf.Fonts,
) -> bytes:
    """The PDF/A-3 of an issued invoice, its XML checked against the Factur-X XSD."""
    xml = cii.invoice_xml(invoice, lines, credited_number)
    printed = _add_output_intent(pdf.render(invoice, lines, credited_number, fonts))
    _ = translator(invoice.language)
    title = f"{_(KIND_LABELS[invoice.kind])} {display_number(invoice.number)}"
    result = facturx.generate_from_binary(
        printed,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": invoice.seller_name,
            "keywords": "Factur-X",
            "title": title,
            "subject": title,
        },
        lang=invoice.language,
    )
    return bytes(result)
