"""The ISO 11649 creditor reference a customer quotes on a bank transfer (``RF..``)."""

from __future__ import annotations

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10


def creditor_reference(company_id: int, number: int) -> str:
    """A reference unique over the portal: the company's id and the invoice's number.

    ISO 11649: ``RF``, two check digits (ISO 7064 mod 97-10 over the body followed by
    ``RF``), then the body of at most 21 letters or digits. ``C`` separates the two ids.
    """
    body = f"{company_id}C{number}"
    reference = f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    return str(iso11649.validate(reference))


def normalize_reference(text: str) -> str | None:
    """A valid creditor reference in ``text`` (spaces allowed), compacted; None otherwise."""
    compact = str(iso11649.compact(text))
    return compact if iso11649.is_valid(compact) else None
