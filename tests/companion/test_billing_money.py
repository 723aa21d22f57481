"""One way to write money: the services' pages, the invoices' pages and PDFs, the e-mails."""

from __future__ import annotations

import pytest

from companion_server.billing.money import euros
from companion_server.invoicing.labels import TEMPLATE_HELPERS


@pytest.mark.parametrize(
    ("cents", "language", "written"),
    [
        (123456789, "fr", "1\u00a0234\u00a0567,89\u00a0€"),
        (-123456, "sk", "-1\u00a0234,56\u00a0€"),
        (5, "es", "0,05\u00a0€"),
        (99999, "fr", "999,99\u00a0€"),
        (123456, "en", "€1,234.56"),
        (-5, "en", "-€0.05"),
    ],
)
def test_thousands_are_grouped_with_a_no_break_space(
    cents: int, language: str, written: str
) -> None:
    assert euros(cents, language) == written


def test_the_invoices_write_money_as_the_services_do() -> None:
    assert TEMPLATE_HELPERS["money"] is euros
