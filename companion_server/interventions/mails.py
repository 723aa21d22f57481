"""What the customer is e-mailed of remote service: the request, and the end with its actions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from companion_server.hub import outbox
from companion_server.i18n import N_, Translator, translator
from companion_server.interventions.rules import PARAMETER_LABELS
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import Company, Registration

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.models import Installation, RemoteAction, User

COMMAND_LABELS: Final = {
    "open": N_("Open"),
    "close": N_("Close"),
    "stop": N_("Stop"),
    "my": N_("My"),
    "on": N_("On"),
    "off": N_("Off"),
}


async def _customer_language(db: AsyncSession, installation: Installation, fallback: str) -> str:
    language = await db.scalar(
        select(Registration.language)
        .where(Registration.installation_id == installation.id)
        .order_by(Registration.id.desc())
        .limit(1)
    )
    return language or fallback


async def mail_customer(
    db: AsyncSession,
    installation: Installation,
    actor: User,
    now: datetime,
    kind: MailKind,
    fields: Callable[[Translator], dict[str, Any]],
) -> None:
    """E-mail the customer, in their language, on behalf of the installer and company."""
    if not installation.customer_email:
        return
    company = await db.get(Company, installation.company_id)
    assert company is not None
    language = await _customer_language(db, installation, actor.language)
    enqueue(
        db,
        now,
        kind,
        installation.customer_email,
        language,
        company=company.name,
        installer=actor.name,
        **fields(translator(language)),
    )


def mail_detail(action: RemoteAction, _: Any) -> str:
    """What the customer's e-mail says of an action, in their language ("" for nothing)."""
    try:
        payload = json.loads(action.payload)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    device, _sep, _rest = action.summary.partition(": ")
    if action.kind == "parameters":
        parameter = str(payload.get("parameter", ""))
        label = _(PARAMETER_LABELS.get(parameter, parameter))
        return f"{device}: {label} = {payload.get('value')}"
    if action.kind == "pair_remote":
        if "devices" not in payload:
            return str(_("pairing mode on the box"))
        remote, _arrow, targets = action.summary.partition(" -> ")
        return str(_("remote control {remote} paired to {devices}", remote=remote, devices=targets))
    if action.kind == "web_app" and payload.get("command") in COMMAND_LABELS:
        return f"{device}: {_(COMMAND_LABELS[payload['command']])}"
    return ""


def result_text(action: RemoteAction, _: Any) -> str:
    """An action's result, as the customer's e-mail says it."""
    if action.ok:
        return str(_("done"))
    if action.error == outbox.EXPIRED:
        return str(_("not delivered: Home Assistant was offline"))
    if action.error == "interrupted":
        return str(_("interrupted: Home Assistant stopped before finishing it"))
    if action.ok is False:
        return str(_("refused by Home Assistant: {error}", error=action.error))
    return str(_("no answer yet"))
