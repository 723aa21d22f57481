"""The remote-service audit log: every installer action, hash-chained, in its own storage.

Each record holds ``prev``, the SHA-256 of the previous record's canonical JSON (sorted keys,
no spaces, UTF-8); the first record's ``prev`` is 64 zeros. The store also keeps ``head``,
the hash of the last record, so that removing records at the end is detected too.
Verification recomputes the chain: a modified, inserted or deleted record breaks it.

The chain makes edits evident; it does not stop someone who can write Home Assistant's
storage from rewriting the whole chain and its head (the portal's intervention log is the
second, independent copy of the actions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
import json
from typing import TYPE_CHECKING, Any, Final, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

STORAGE_VERSION: Final = 1
GENESIS: Final = "0" * 64

# Record types.
RECORD_ACTION: Final = "action"
RECORD_WINDOW: Final = "window"
RECORD_INTERVENTION_ENDED: Final = "intervention_ended"


class _StoredAudit(TypedDict):
    records: list[dict[str, Any]]
    head: str


def canonical(record: dict[str, Any]) -> bytes:
    """The canonical JSON of a record: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of a record's canonical JSON."""
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of checking the chain: ``ok`` and, if not, what is wrong and where."""

    ok: bool
    records: int
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (service response, diagnostics)."""
        return {
            "ok": self.ok,
            "records": self.records,
            "problems": list(self.problems),
            "first_bad_seq": self.first_bad_seq,
        }


def verify_chain(records: list[dict[str, Any]], head: str) -> Verification:
    """Check every link of the chain and the stored head."""
    problems: list[str] = []
    first_bad: int | None = None
    prev = GENESIS
    for index, record in enumerate(records):
        seq = record.get("seq")
        if record.get("prev") != prev:
            problems.append(
                f"record {seq} does not follow the one before it "
                "(a record was modified, inserted or deleted)"
            )
            first_bad = first_bad if first_bad is not None else index + 1
        if seq != index + 1:
            problems.append(f"record at position {index + 1} has sequence number {seq}")
            first_bad = first_bad if first_bad is not None else index + 1
        prev = record_hash(record)
    if prev != head:
        problems.append("the last record is not the one recorded as the head (records removed)")
        first_bad = first_bad if first_bad is not None else len(records)
    return Verification(
        ok=not problems, records=len(records), problems=problems, first_bad_seq=first_bad
    )


class AuditLog:
    """One entry's audit log; appends are synchronous in memory, saved right away."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the store; call ``async_load`` before use."""
        self._hass = hass
        self._store: Store[_StoredAudit] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        self.records: list[dict[str, Any]] = []
        self.head = GENESIS
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        """Read the log as stored (not verified: ``verify`` says whether it is intact)."""
        stored = await self._store.async_load()
        if stored is None:
            return
        self.records = list(stored.get("records", []))
        self.head = str(stored.get("head", GENESIS))

    @callback
    def async_append(self, record_type: str, **fields: Any) -> dict[str, Any]:
        """Append a record (``time`` and ``seq`` added) and save the log."""
        record: dict[str, Any] = {
            "seq": len(self.records) + 1,
            "time": dt_util.utcnow().isoformat(),
            "type": record_type,
            **_jsonable(fields),
            "prev": self.head,
        }
        self.records.append(record)
        self.head = record_hash(record)
        data: _StoredAudit = {"records": self.records, "head": self.head}
        self._hass.async_create_task(self._store.async_save(data), eager_start=True)
        for listener in list(self._listeners):
            listener()
        return record

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every append."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    def verify(self) -> Verification:
        """Check the chain as it is in memory (as loaded from storage, plus appends)."""
        return verify_chain(self.records, self.head)

    def export(self, limit: int | None = None) -> dict[str, Any]:
        """The log for the homeowner: verification and records (newest last), with hashes."""
        records = self.records if limit is None else self.records[-limit:] if limit else []
        return {
            "verification": self.verify().as_dict(),
            "head": self.head,
            "records": [{**record, "hash": record_hash(record)} for record in records],
        }


def _jsonable(value: Any) -> Any:
    """Fields as plain JSON (a record is hashed and stored as JSON)."""
    result: Any = json.loads(json.dumps(value, default=str))
    return result


def storage_key(entry_id: str) -> str:
    """Store key of one entry's audit log."""
    return f"{DOMAIN}.{entry_id}.audit"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's audit log (the entry was deleted)."""
    await Store[_StoredAudit](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()
