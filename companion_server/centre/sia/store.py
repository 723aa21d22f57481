"""A company's receiving centre as its administrators see and change it.

The page shows the settings without the key (only whether one is set), saves them through
:func:`parse_centre_settings`, switches forwarding off, sends a link test and lists the
last messages. The key is sealed before it is stored (``keystore.py``) and never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.centre.sia.client import Result, RetryPolicy, SiaTransmitter
from companion_server.centre.sia.events import MessageFormat
from companion_server.centre.sia.keystore import seal
from companion_server.centre.sia.settings import parse_centre_settings
from companion_server.centre.sia.turns import take_sequence, with_turn
from companion_server.models import Installation, SiaCentre, SiaMessage

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.centre.sia.turns import Turn
    from companion_server.core import Core

RECENT: Final = 20
LINK_TEST_TIMEOUT: Final = 10.0
FORM_FIELDS: Final = ("host", "port", "account", "receiver", "line", "message_format")


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One line of the link's recent messages."""

    id: int
    installation: str | None
    kind: str
    restore: bool
    device_label: str | None
    occurred_at: datetime
    sequence: int | None
    attempts: int
    state: str
    last_error: str | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class CentreView:
    """What the settings page shows: never the key, only whether one is set."""

    configured: bool
    enabled: bool
    values: dict[str, str]
    has_key: bool
    messages: list[SentMessage]


def _values(centre: SiaCentre | None) -> dict[str, str]:
    if centre is None:
        return {
            "host": "",
            "port": "",
            "account": "",
            "receiver": "0",
            "line": "0",
            "message_format": MessageFormat.SIA_DCS.value,
        }
    return {
        "host": centre.host,
        "port": str(centre.port),
        "account": centre.account,
        "receiver": centre.receiver,
        "line": centre.line,
        "message_format": centre.message_format,
    }


async def centre_view(core: Core, company_id: int) -> CentreView:
    """The company's centre settings and its last messages, newest first."""
    async with core.tx() as db:
        centre = await db.get(SiaCentre, company_id)
        rows = await db.execute(
            select(SiaMessage, Installation.name)
            .outerjoin(Installation, Installation.id == SiaMessage.installation_id)
            .where(SiaMessage.company_id == company_id)
            .order_by(SiaMessage.id.desc())
            .limit(RECENT)
        )
        messages = [
            SentMessage(
                id=message.id,
                installation=name,
                kind=message.kind,
                restore=message.restore,
                device_label=message.device_label,
                occurred_at=message.occurred_at,
                sequence=message.sequence,
                attempts=message.attempts,
                state=message.state,
                last_error=message.last_error,
                finished_at=message.finished_at,
            )
            for message, name in rows.tuples()
        ]
    return CentreView(
        configured=centre is not None,
        enabled=bool(centre and centre.enabled),
        values=_values(centre),
        has_key=bool(centre and centre.sealed_key),
        messages=messages,
    )


async def save_centre(core: Core, company_id: int, form: Mapping[str, str]) -> None:
    """Check and store the settings, and forward from now on.

    An empty key keeps the stored one unless ``remove_key`` is ticked (then messages go
    unencrypted). :class:`ValidationFailed` changes nothing.
    """
    new_key = form.get("key", "").strip()
    settings = parse_centre_settings(
        {name: form[name] for name in FORM_FIELDS if name in form} | {"key": new_key}
    )
    now = core.now()
    async with core.tx() as db:
        centre = await db.get(SiaCentre, company_id)
        if centre is None:
            centre = SiaCentre(company_id=company_id, last_sequence=0)
            db.add(centre)
        centre.enabled = True
        centre.host = settings.host
        centre.port = settings.port
        centre.account = settings.account
        centre.receiver = settings.receiver
        centre.line = settings.line
        centre.message_format = settings.message_format.value
        centre.updated_at = now
        if settings.key is not None:
            centre.sealed_key = seal(core.settings.secret_key, company_id, settings.key)
        elif form.get("remove_key"):
            centre.sealed_key = None


async def disable_centre(core: Core, company_id: int) -> None:
    """Stop forwarding: nothing new is queued, and what is pending waits (kept, not sent)."""
    async with core.tx() as db:
        centre = await db.get(SiaCentre, company_id)
        if centre is not None:
            centre.enabled = False
            centre.updated_at = core.now()


@dataclass(frozen=True, slots=True)
class _Test:
    sequence: int


async def link_test(core: Core, company_id: int) -> Result | str:
    """Send the ``NULL`` message with the stored settings; the centre's answer.

    A string instead when no test was sent: ``off`` (no centre, or switched off), ``busy``
    (a message is being sent right now) or ``key_unreadable``.
    """

    async def prepare(db: AsyncSession, centre: SiaCentre, turn: Turn) -> _Test | None:
        return _Test(take_sequence(centre))

    async def send(turn: Turn, test: _Test) -> Result | str:
        if turn.settings is None:
            return "key_unreadable"
        transmitter = SiaTransmitter(
            turn.settings, RetryPolicy(timeout=LINK_TEST_TIMEOUT, attempts=1)
        )
        return await transmitter.link_test(sequence=test.sequence)

    async def record(db: AsyncSession, test: _Test, result: Result | str) -> None:
        return None

    async with core.tx() as db:
        enabled = await db.scalar(
            select(SiaCentre.enabled).where(SiaCentre.company_id == company_id)
        )
    if not enabled:
        return "off"
    outcome = await with_turn(core, company_id, LINK_TEST_TIMEOUT, prepare, send, record)
    return "busy" if outcome is None else outcome
