"""What the areas read with a ``hello``: each fact once, in the frame's own query."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.sql.selectable import ScalarSelect

from companion_server.app import frame_registry
from companion_server.hub.dispatch import FrameRegistry
from companion_server.models import CustomerInstallation, Ticket


def _owner() -> ScalarSelect[Any]:
    return (
        select(CustomerInstallation.customer_id)
        .where(CustomerInstallation.installation_id == bindparam("installation_id"))
        .limit(1)
        .scalar_subquery()
    )


def test_the_box_owner_asked_by_two_areas_is_read_once() -> None:
    registry = frame_registry()
    statement = str(registry._rows("hello"))
    assert "box_owner" in registry.hello_facts
    assert statement.count("AS box_owner") == 1
    # Every other frame reads the row alone.
    assert "box_owner" not in str(registry._rows("telemetry"))


def test_the_same_name_for_another_question_is_refused() -> None:
    registry = FrameRegistry()
    registry.on_hello(None, facts={"box_owner": _owner()})
    registry.on_hello(None, facts={"box_owner": _owner()})
    assert list(registry.hello_facts) == ["box_owner"]
    other = (
        select(Ticket.id)
        .where(Ticket.installation_id == bindparam("installation_id"))
        .limit(1)
        .scalar_subquery()
    )
    with pytest.raises(ValueError, match="another fact"):
        registry.on_hello(None, facts={"box_owner": other})
    assert str(registry.hello_facts["box_owner"]) == str(_owner())
