"""The invoice PDF is rendered after the commit: a crash in between loses no number."""

from __future__ import annotations

import pytest

from companion_server.billing.money import euros
from companion_server.core import Core
from companion_server.invoicing import document
from companion_server.models import Invoice
from tests.companion.helpers import BrowserFactory
from tests.companion.invoicing_common import issue, line, pdf_path, pdf_text, shop


async def test_render_crash_leaves_numbered_invoice_rendered_on_first_download(
    core: Core, browsers: BrowserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await shop(core)
    first = await issue(core, s, line(cents=1000))
    real_build = document.build
    calls = []

    def crash_once(*args: object) -> bytes:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("renderer died")
        return real_build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(document, "build", crash_once)
    crashed = await issue(core, s, line(cents=4990), line("b:1", 1010))
    assert not pdf_path(core, crashed).exists()
    async with core.tx() as db:
        stored = await db.get(Invoice, crashed.id)
    assert stored is not None and stored.number == first.number + 1
    after = await issue(core, s, line(cents=500))
    assert after.number == crashed.number + 1  # gapless: the crash took no number

    client = await browsers.new()
    assert (await client.login(s.customer.email)).status == 303
    url = f"{client.base_url}/my-invoices/{crashed.id}/pdf"
    async with client.session.get(url) as response:
        assert response.status == 200
        text = pdf_text(await response.read())
    for cents in (stored.net_cents, stored.vat_cents, stored.gross_cents):
        assert euros(cents, "en") in text
    assert stored.gross_cents == 4990 + 1010 + 1200
    assert pdf_path(core, crashed).is_file()
    rendered = len(calls)
    async with client.session.get(url) as response:  # the file now exists: not rendered again
        assert response.status == 200
    assert len(calls) == rendered
