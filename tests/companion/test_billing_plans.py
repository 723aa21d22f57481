"""Support plans: holders come first in the ticket queue, with their discount and free
remote diagnostics; a plan starts only inside the handover window."""

from __future__ import annotations

from datetime import date

import pytest

from companion_server.billing import plans
from companion_server.billing.cart import CartItem
from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.tickets.tracking import TicketQuery, ticket_page
from tests.companion.billing_common import handover, subscribe, world
from tests.companion.helpers import FakeClock
from tests.companion.tickets_common import linked_box, make_customer, open_ticket


async def test_plan_holders_come_first_in_the_ticket_queue(core: Core, clock: FakeClock) -> None:
    w = await world(core)
    await handover(core, w.installation, date(2026, 1, 15))
    other_box = await linked_box(core, w.company, "Villa Basic", pin="9999-8888-7777")
    basic = await make_customer(core, "basic@example.com", other_box.installation)
    first = await open_ticket(core, w.customer, w.installation, "Plan holder, older")
    second = await open_ticket(core, basic, other_box.installation, "Basic, newer")
    page = await ticket_page(core, w.admin.id, TicketQuery())
    assert [row.ticket.id for row in page.rows] == [second, first]  # newest first
    async with core.tx() as db:
        terms = await plans.plan_terms(db, w.installation.id, core.now())
    assert (terms.code, terms.free_remote_diagnostics) == ("plan_basic", False)
    await subscribe(core, w, CartItem("plan_premium"))
    page = await ticket_page(core, w.admin.id, TicketQuery())
    assert [row.ticket.id for row in page.rows] == [first, second]
    async with core.tx() as db:
        terms = await plans.plan_terms(db, w.installation.id, core.now())
    assert (terms.code, terms.discount_basis_points, terms.priority) == ("plan_premium", 2000, 2)
    assert terms.free_remote_diagnostics
    # One plan at a time.
    with pytest.raises(ValidationFailed):
        await subscribe(core, w, CartItem("plan_smart"))


@pytest.mark.parametrize(
    ("signed_on", "allowed"),
    [(date(2025, 12, 2), True), (date(2025, 12, 1), False), (date(2026, 3, 2), True)],
)
async def test_the_three_month_window_at_its_boundaries(
    core: Core, clock: FakeClock, signed_on: date, allowed: bool
) -> None:
    # The clock says 2 March 2026 (Paris): 2 Dec 2025 + 3 months is the last day.
    w = await world(core)
    await handover(core, w.installation, signed_on)
    if allowed:
        (sub,) = await subscribe(core, w, CartItem("plan_smart"))
        assert sub.code == "plan_smart"
    else:
        with pytest.raises(ValidationFailed):
            await subscribe(core, w, CartItem("plan_smart"))
