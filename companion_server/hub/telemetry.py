"""The telemetry writer: ``device_update`` frames written in batches (one per process).

Telemetry (``device_update`` while monitoring is known granted) is the bulk of the traffic.
It is written in batches: one transaction and a few executemany round trips for every
update waiting at that moment, instead of one transaction per frame (with SQLite, each
round trip to the driver's thread is what costs). Anything but the simple case (an unknown
device, a link ended meanwhile) falls back to the frame's own handler.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from companion_server.db import is_busy
from companion_server.hub.dispatch import CONTACT_RESOLUTION, Outcome
from companion_server.hub.frame_values import INVALID_FIELDS
from companion_server.hub.protocol import next_digest
from companion_server.models import (
    Device,
    InstallationLink,
    InstallationState,
    Monitoring,
    RadioSample,
)

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.hub.protocol import Frame

LOGGER = logging.getLogger(__name__)

# A radio level unchanged is still sampled this often.
SAMPLE_EVERY = timedelta(minutes=5)
_DEVICE_FIELDS = (
    "label",
    "protocol",
    "ui_class",
    "online",
    "rssi",
    "rssi_level",
    "battery",
    "defect",
    "position",
    "editable",
    "last_sample_at",
)
# Reported values stored as they come (a missing label is the URL).
COPIED = ("label", "protocol", "ui_class", "online", "rssi_level", "defect", "position")
_UPDATE_DEVICE = (
    update(Device)
    .where(Device.id == bindparam("target_device"))
    .values({name: bindparam(f"new_{name}") for name in (*_DEVICE_FIELDS, "updated_at")})
)
# A connection's mark: the installation's devices move on from the snapshot digested, and
# only the connection knows where to (it stores the digest when it ends, if still marked).
_MARK_STATE = (
    update(InstallationState)
    .where(InstallationState.installation_id == bindparam("state_id"))
    .values(snapshot_digest=bindparam("mark"))
)
_TOUCH_STATE = (
    update(InstallationState)
    .where(InstallationState.installation_id == bindparam("state_id"))
    .values(last_contact_at=bindparam("contact_at"))
)
BATCH_MAX = 500


@dataclass(slots=True)
class _Update:
    link_id: int
    installation_id: int
    frame: Frame
    contact_at: datetime | None
    known: str | None  # the connection's snapshot digest before the frame
    mark: str  # written in the digest's place while the connection streams updates
    future: asyncio.Future[Outcome | None]


class TelemetryWriter:
    """Writes ``device_update`` frames in batches (one per process, started by the hub)."""

    def __init__(self, core: Core) -> None:
        """Nothing queued yet."""
        self.core = core
        self.queue: asyncio.Queue[_Update] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task."""
        self.task = asyncio.create_task(self._run(), name="telemetry-writer")

    async def stop(self) -> None:
        """Stop; waiting frames get None (their handlers fall back to one transaction)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if not item.future.done():
                item.future.set_result(None)

    async def submit(
        self,
        link_id: int,
        installation_id: int,
        frame: Frame,
        contact_at: datetime | None,
        known: str | None,
        mark: str,
    ) -> Outcome | None:
        """Write one update; None: not the simple case (apply it through the registry).

        ``known``: the connection's snapshot digest; the outcome's is the one after the frame.
        ``mark``: the connection's mark, stored in the digest's place.
        """
        if self.task is None or self.task.done():
            return None
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(
            _Update(link_id, installation_id, frame, contact_at, known, mark, future)
        )
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < BATCH_MAX and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                results = await self._write(batch)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.future.done():
                        item.future.set_result(None)
                raise
            except Exception as err:
                if is_busy(err):
                    # Each frame's handler tries again, then answers it: no trace needed.
                    LOGGER.warning("Telemetry batch of %s frames: database busy", len(batch))
                else:
                    LOGGER.exception("Telemetry batch of %s frames failed", len(batch))
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(err)
                continue
            for item, result in zip(batch, results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)

    async def _write(self, batch: list[_Update]) -> list[Outcome | None]:
        now = self.core.now()
        installation_ids = {item.installation_id for item in batch}
        results: list[Outcome | None] = [None] * len(batch)
        async with self.core.engine.begin() as conn:
            live: set[tuple[int, int]] = set()
            stored: dict[int, str | None] = {}  # the snapshot digests, as read
            links = await conn.execute(
                select(
                    InstallationLink.installation_id,
                    InstallationLink.id,
                    InstallationState.snapshot_digest,
                )
                .outerjoin(
                    InstallationState,
                    InstallationState.installation_id == InstallationLink.installation_id,
                )
                .where(
                    InstallationLink.installation_id.in_(installation_ids),
                    InstallationLink.revoked_at.is_(None),
                )
            )
            for installation_id, link_id, digest in links.tuples():
                live.add((installation_id, link_id))
                stored[installation_id] = digest
            marks: dict[int, str] = {}
            devices: dict[tuple[int, str], dict[str, Any]] = {}
            rows = await conn.execute(
                select(
                    Device.id,
                    Device.installation_id,
                    Device.url,
                    *(getattr(Device, name) for name in _DEVICE_FIELDS),
                ).where(Device.installation_id.in_(installation_ids))
            )
            for device_id, installation_id, url, *values in rows.tuples():
                devices[(installation_id, url)] = {
                    "id": device_id,
                    **dict(zip(_DEVICE_FIELDS, values, strict=True)),
                }
            dirty: dict[int, dict[str, Any]] = {}
            samples: list[dict[str, Any]] = []
            touched: dict[int, datetime] = {}
            for index, item in enumerate(batch):
                url = item.frame.payload["url"]
                device = devices.get((item.installation_id, url))
                if device is None or (item.installation_id, item.link_id) not in live:
                    continue
                changes = item.frame.payload["changes"]
                if changes.get(INVALID_FIELDS):
                    # Applied in order with the rest of the batch, without the values left out.
                    LOGGER.warning(
                        "Installation %s: device %s: values left out (%s)",
                        item.installation_id,
                        url,
                        ", ".join(changes[INVALID_FIELDS]),
                    )
                _merge(device, url, changes, now, samples)
                dirty[device["id"]] = device
                marks[item.installation_id] = item.mark
                outcome = Outcome(
                    changed=True,
                    monitoring=Monitoring.GRANTED.value,
                    snapshot_digest=next_digest(item.known, item.frame.payload),
                )
                if item.contact_at is None or now - item.contact_at >= CONTACT_RESOLUTION:
                    touched[item.installation_id] = now
                    outcome.contact_at = now
                results[index] = outcome
            if samples:
                await conn.execute(insert(RadioSample), samples)
            if dirty:
                await conn.execute(
                    _UPDATE_DEVICE,
                    [
                        {
                            "target_device": device_id,
                            "new_updated_at": now,
                            **{f"new_{name}": device[name] for name in _DEVICE_FIELDS},
                        }
                        for device_id, device in dirty.items()
                    ],
                )
            # The stored digest no longer says what the devices are: from the first update
            # of a connection on, its mark stands in for it (once, not once a frame).
            marked = [
                {"state_id": key, "mark": mark}
                for key, mark in marks.items()
                if stored.get(key) != mark
            ]
            if marked:
                await conn.execute(_MARK_STATE, marked)
            if touched:
                await conn.execute(
                    _TOUCH_STATE,
                    [{"state_id": key, "contact_at": value} for key, value in touched.items()],
                )
        return results


def _merge(
    device: dict[str, Any],
    url: str,
    changes: dict[str, Any],
    now: datetime,
    samples: list[dict[str, Any]],
) -> None:
    for key in COPIED:
        if key in changes:
            device[key] = changes[key] if key != "label" else (changes[key] or url)
    if "battery" in changes:
        battery = changes["battery"]
        device["battery"] = None if battery is None else str(battery)[:40]
    if "editable" in changes:
        device["editable"] = json.dumps(changes["editable"])[:4000]
    if "rssi" in changes:
        rssi = None if changes["rssi"] is None else round(changes["rssi"])
        last = device["last_sample_at"]
        due = last is None or now - last >= SAMPLE_EVERY
        if rssi is not None and (rssi != device["rssi"] or due):
            device["last_sample_at"] = now
            samples.append({"device_id": device["id"], "at": now, "rssi": rssi})
        device["rssi"] = rssi
