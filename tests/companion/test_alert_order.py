"""Alert frames in any order and any number of times end as delivered in time order.

Property-based (hypothesis): a few occurrences, each raised and maybe cleared, their frames
delivered shuffled and repeated; on the pure rule, then through the real channel's frame
handler and database. A raise that arrives after its own clear never sends an e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import tempfile
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import select

from companion_server.app import frame_registry
from companion_server.core import Core
from companion_server.hub.protocol import Frame
from companion_server.models import Alert, InstallationLink, InstallationState
from companion_server.monitoring.alert_frames import AlertState, apply_change
from companion_server.registration.linking import link
from tests.companion.ha import registered
from tests.companion.helpers import mails

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="portal-hypothesis-"))

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    """One alert frame's content."""

    alert_id: str
    active: bool
    at: datetime


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Change], list[Change]]:
    """The changes in time order, and the same delivered shuffled with repeats."""
    changes: list[Change] = []
    for number in range(draw(st.integers(1, 3))):
        alert_id = f"a-{number}"
        # Few distinct minutes: ties between a raise and a clear happen often.
        raised = T0 + timedelta(minutes=draw(st.integers(0, 4)))
        changes.append(Change(alert_id, True, raised))
        if draw(st.booleans()):
            changes.append(Change(alert_id, False, T0 + timedelta(minutes=draw(st.integers(0, 4)))))
    in_order = sorted(changes, key=lambda c: (c.at, not c.active))
    shuffled = list(draw(st.permutations(changes)))
    for repeat in draw(st.lists(st.sampled_from(changes), max_size=4)):
        shuffled.insert(draw(st.integers(0, len(shuffled))), repeat)
    return in_order, shuffled


def _replay(changes: list[Change]) -> tuple[dict[str, AlertState], dict[str, int]]:
    states: dict[str, AlertState] = {}
    mailed: dict[str, int] = {}
    for change in changes:
        states[change.alert_id], mail = apply_change(
            states.get(change.alert_id), change.active, change.at
        )
        mailed[change.alert_id] = mailed.get(change.alert_id, 0) + mail
    return states, mailed


@settings(max_examples=500, deadline=None, database=None)
@given(deliveries())
def test_any_order_and_repeats_give_the_in_order_state(
    case: tuple[list[Change], list[Change]],
) -> None:
    in_order, shuffled = case
    expected, expected_mails = _replay(in_order)
    states, mailed = _replay(shuffled)
    assert states == expected
    for alert_id, count in mailed.items():
        assert count <= expected_mails[alert_id] <= 1
        # An alert still active was mailed once; one already cleared may not have been.
        assert count == int(states[alert_id].active) or not states[alert_id].active


def test_a_raise_after_its_clear_is_recorded_cleared_and_not_mailed() -> None:
    cleared, mail = apply_change(None, False, T0 + timedelta(minutes=5))
    assert not mail
    late, mail = apply_change(cleared, True, T0)
    assert late == AlertState(False, T0, T0 + timedelta(minutes=5))
    assert not mail


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=deliveries())
async def test_the_channel_applies_shuffled_alerts_as_in_order(
    core: Core, case: tuple[list[Change], list[Change]]
) -> None:
    in_order, shuffled = case
    expected, expected_mails = _replay(in_order)
    installation_id, link_id, admin = await _monitored_installation(core)
    frames = frame_registry()
    frame_ids: dict[Change, str] = {}
    for change in shuffled:
        # A repeat is the same frame resent (same id), acknowledged again and ignored.
        frame_id = frame_ids.setdefault(change, str(uuid.uuid4()))
        payload = {
            "alert_id": change.alert_id,
            "device_url": "io://1234-5678-9012/2",
            "device_label": "Door sensor",
            "type": "intrusion",
            "active": change.active,
            "at": change.at,
        }
        await frames.apply(core, link_id, installation_id, Frame(frame_id, "alert", payload))
    async with core.tx() as db:
        rows = list(await db.scalars(select(Alert).where(Alert.installation_id == installation_id)))
    assert {row.alert_id: AlertState(row.active, row.at, row.cleared_at) for row in rows} == (
        expected
    )
    sent = len(await mails(core, admin, "alert"))
    assert sum(1 for state in expected.values() if state.active) <= sent
    assert sent <= sum(expected_mails.values())


async def _monitored_installation(core: Core) -> tuple[int, int, str]:
    """A linked installation with monitoring granted; its administrator's address."""
    number = uuid.uuid4().int % 10**8
    pin = f"9{number:011d}"
    admin = f"boss{number}@acme.example"
    reg, _ = await registered(core, pin, f"Company {number}", admin)
    ip = f"10.0.{number % 250}.{number // 250 % 250}"  # each its own link budget
    result = await link(core, code=reg.code, pin=pin, instance_id="ha", name="Home", ip=ip)
    async with core.tx() as db:
        installation_id = int(result.installation_id)
        state = await db.get(InstallationState, installation_id)
        assert state is not None
        state.monitoring = "granted"
        link_id = await db.scalar(
            select(InstallationLink.id).where(
                InstallationLink.installation_id == installation_id,
                InstallationLink.revoked_at.is_(None),
            )
        )
    assert link_id is not None
    return installation_id, link_id, admin
