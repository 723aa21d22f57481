"""What Home Assistant's centre frames do: alarms open cases, the owner's word is recorded.

Runs inside the frame's transaction (``centre/handlers.py``). Only an installation whose
subscription is active gets anything recorded; a case opens only when the subscription is
also complete (M8). The owner's word applies to the installation's open case, whatever
case id Home Assistant last knew (its cancel may cross the frame that told it of the case).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from companion_server.billing import monitoring as monitoring_service
from companion_server.centre import forwarding, store, subscriptions
from companion_server.centre.protocol_values import (
    HOME_ASSISTANT,
    MAX_NOTE,
    Action,
    ActionKind,
    CaseKind,
    ProtocolError,
)
from companion_server.models import CentreAlarm

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.models import Installation

LOGGER = logging.getLogger(__name__)


async def alarm(
    db: AsyncSession,
    installation: Installation,
    payload: dict[str, Any],
    now: datetime,
    changes: store.Changes,
) -> None:
    """A ``centre_alarm``: kept, forwarded, and raised ones open a case or add to it."""
    subscription = await subscriptions.of_installation(db, installation.id)
    if subscription is None or subscription.status != subscriptions.ACTIVE:
        LOGGER.info("Installation %s: centre alarm without a subscription", installation.id)
        return
    kind = CaseKind(payload["kind"])
    record = CentreAlarm(
        installation_id=installation.id,
        alarm_id=payload["alarm_id"].lower(),
        kind=kind.value,
        active=payload["active"],
        device_url=payload["device_url"],
        device_label=payload["device_label"],
        at=payload["at"],
        received_at=now,
    )
    db.add(record)
    await forwarding.alarm_received(
        db,
        company_id=installation.company_id,
        installation_id=installation.id,
        kind=kind.value,
        active=payload["active"],
        at=payload["at"],
        device_label=payload["device_label"],
    )
    changes.companies.add(installation.company_id)
    if not payload["active"]:
        return
    row = await store.open_case_of(db, installation.id)
    if row is not None:
        record.case_id = row.id
        note = f"{kind.value}: {payload['device_label'] or payload['device_url'] or ''}"
        action = Action(ActionKind.NEW_ALERT, HOME_ASSISTANT, now, note=note[:MAX_NOTE])
        await _record(db, row, action, changes)
        return
    if not subscription.opens_cases:
        LOGGER.info("Installation %s: subscription incomplete, no case", installation.id)
        return
    if not await monitoring_service.allows_cases(db, installation, now):
        LOGGER.info("Installation %s: no active monitoring service, no case", installation.id)
        return
    row, state = await store.open_new(
        db,
        company_id=installation.company_id,
        installation_id=installation.id,
        kind=kind,
        contacts=subscription.contacts,
        now=now,
    )
    record.case_id = row.id
    store.queue_case_frame(db, row, None, state, now, changes)


async def owner(
    db: AsyncSession,
    installation: Installation,
    payload: dict[str, Any],
    now: datetime,
    changes: store.Changes,
) -> None:
    """A ``centre_owner``: cancel, refused cancel or duress, on the open case.

    A duress with no case open opens an aggression case under duress; a cancel with none
    open is ignored. A step the protocol refuses (a cancel after a confirmed alarm) is
    logged and changes nothing: Home Assistant's frame is still acknowledged.
    """
    kind = ActionKind(payload["action"])
    row = await store.open_case_of(db, installation.id)
    if row is None:
        if kind is not ActionKind.OWNER_DURESS:
            return
        subscription = await subscriptions.of_installation(db, installation.id)
        contacts = subscription.contacts if subscription is not None else []
        if not contacts:
            LOGGER.warning("Installation %s: duress without any contact", installation.id)
            return
        row, _opened = await store.open_new(
            db,
            company_id=installation.company_id,
            installation_id=installation.id,
            kind=CaseKind.AGGRESSION,
            contacts=contacts,
            now=now,
        )
        changes.case(row, frame=False)
    await _record(db, row, Action(kind, HOME_ASSISTANT, now), changes)


async def _record(db: AsyncSession, row: Any, action: Action, changes: store.Changes) -> None:
    try:
        await store.write(db, row, store.state_of(row), action, changes)
    except ProtocolError as err:
        LOGGER.info("Case %s: %s refused (%s)", row.id, action.kind.value, err.message)
