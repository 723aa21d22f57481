"""Amounts as people read them: "1 234,50 €" in French, Spanish and Slovak, "€1,234.50" in English.

The one way the portal writes money: the services' and the invoices' pages, the invoice
PDFs, the e-mails.
"""

from __future__ import annotations


def euros(cents: int, language: str) -> str:
    """An amount in cents, with two decimals and the language's euro convention.

    Thousands are grouped with a no-break space (U+00A0): the invoice PDFs' DejaVu fonts
    and every mail reader show it, and an amount never breaks across lines.
    """
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if language == "en":
        return f"{sign}€{whole:,}.{fraction:02d}"
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{fraction:02d}\u00a0€"


def percent(basis_points: int, language: str) -> str:
    """A rate in basis points as a percentage, without useless decimals ("20 %", "5,5 %")."""
    whole, fraction = divmod(basis_points, 100)
    text = str(whole) if not fraction else f"{whole}.{fraction:02d}".rstrip("0")
    if language == "en":
        return f"{text}%"
    return f"{text.replace('.', ',')}\u00a0%"
