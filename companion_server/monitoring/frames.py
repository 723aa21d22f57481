"""What the portal does with each frame of a linked Home Assistant (one transaction each).

Acknowledged frames (``alert``, ``consent``, ``window``, ``action_result``) are recorded once
by id (``received_frames``) and acknowledged again when replayed. ``snapshot``,
``device_update`` and ``alert`` are accepted only while monitoring is granted; otherwise
they are dropped and answered with an ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from companion_server.hub import protocol
from companion_server.interventions import services as interventions
from companion_server.models import (
    Company,
    Device,
    Installation,
    InstallationLink,
    InstallationState,
    Monitoring,
    PortalFrame,
    RadioSample,
    ReceivedFrame,
)
from companion_server.monitoring.alert_frames import on_alert
from companion_server.registration.services import _end_link, log, normalize_pin

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.hub.protocol import Frame

LOGGER = logging.getLogger(__name__)

CONTACT_RESOLUTION = timedelta(seconds=5)
SAMPLE_EVERY = timedelta(minutes=5)


@dataclass(slots=True)
class Outcome:
    """What the connection does after a frame: replies, and what changed."""

    replies: list[str] = field(default_factory=list)
    changed: bool = False
    close: str | None = None
    ready: bool = False
    monitoring: str | None = None  # the consent state after the frame
    contact_at: datetime | None = None  # when ``last_contact_at`` was last written


@dataclass(slots=True)
class SnapshotParts:
    """The parts of one snapshot received so far on one connection.

    A snapshot's parts are sent one after the other on one connection, so this lives with the
    connection: a reconnection starts afresh (Home Assistant sends a new snapshot after
    ``hello``) and the parts of a snapshot cut by it never remove a device.
    """

    snapshot_id: str | None = None
    parts: int = 0
    received: set[int] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)

    def add(self, snapshot_id: str, part: int, parts: int, urls: set[str]) -> set[str] | None:
        """Record one part; the URLs of the whole snapshot once this part completes it."""
        if snapshot_id != self.snapshot_id or parts != self.parts:
            # Another snapshot began: the one in progress can no longer complete.
            self.snapshot_id, self.parts = snapshot_id, parts
            self.received, self.urls = set(), set()
        self.received.add(part)
        self.urls |= urls
        if len(self.received) < parts:
            return None
        complete = self.urls
        self.snapshot_id, self.parts, self.received, self.urls = None, 0, set(), set()
        return complete


@dataclass(slots=True)
class Context:
    """One frame being applied."""

    db: AsyncSession
    core: Core
    now: datetime
    installation: Installation
    state: InstallationState
    link: InstallationLink
    frame: Frame
    outcome: Outcome
    snapshot: SnapshotParts


async def apply_frame(
    core: Core,
    link_id: int,
    installation_id: int,
    frame: Frame,
    snapshot: SnapshotParts | None = None,
) -> Outcome:
    """Apply one validated frame of the installation's Home Assistant.

    ``snapshot``: the snapshot parts received so far on the frame's connection (none: the
    frame is applied on its own, and a snapshot in several parts never completes).
    """
    outcome = Outcome()
    now = core.now()
    async with core.tx() as db:
        link = await db.get(InstallationLink, link_id)
        installation = await db.get(Installation, installation_id)
        if link is None or link.revoked_at is not None or installation is None:
            outcome.close = "unlinked"
            return outcome
        state = await db.get(InstallationState, installation_id)
        if state is None:
            state = InstallationState(installation_id=installation_id, monitoring="none")
            db.add(state)
        if state.last_contact_at is None or now - state.last_contact_at >= CONTACT_RESOLUTION:
            state.last_contact_at = now
        if frame.type in protocol.ACKED:
            seen = await db.get(ReceivedFrame, (installation_id, frame.id.lower()))
            if seen is not None:
                outcome.replies.append(protocol.ack_frame(frame.id))
                return outcome
        if frame.type in protocol.MONITORING_ONLY and state.monitoring != Monitoring.GRANTED:
            outcome.replies.append(
                protocol.error_frame(
                    "monitoring_not_granted",
                    "monitoring is not granted: box data is not accepted",
                    frame.id,
                )
            )
            return outcome
        if state.last_contact_at == now:
            outcome.contact_at = now
        ctx = Context(
            db, core, now, installation, state, link, frame, outcome, snapshot or SnapshotParts()
        )
        await HANDLERS[frame.type](ctx)
        outcome.monitoring = state.monitoring
        if frame.type in protocol.ACKED and outcome.close is None:
            db.add(
                ReceivedFrame(
                    installation_id=installation_id,
                    frame_id=frame.id.lower(),
                    type=frame.type,
                    received_at=now,
                )
            )
            outcome.replies.append(protocol.ack_frame(frame.id))
    return outcome


# Telemetry (``device_update`` while monitoring is known granted) is the bulk of the traffic.
# It is written in batches: one transaction and a few executemany round trips for every
# update waiting at that moment, instead of one transaction per frame (with SQLite, each
# round trip to the driver's thread is what costs).
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
_COPIED = ("label", "protocol", "ui_class", "online", "rssi_level", "defect", "position")
_UPDATE_DEVICE = (
    update(Device)
    .where(Device.id == bindparam("target_device"))
    .values({name: bindparam(f"new_{name}") for name in (*_DEVICE_FIELDS, "updated_at")})
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
        self, link_id: int, installation_id: int, frame: Frame, contact_at: datetime | None
    ) -> Outcome | None:
        """Write one update; None: not the simple case (use :func:`apply_frame`)."""
        if self.task is None or self.task.done():
            return None
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(_Update(link_id, installation_id, frame, contact_at, future))
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
            live = {
                (installation_id, link_id)
                for installation_id, link_id in (
                    await conn.execute(
                        select(InstallationLink.installation_id, InstallationLink.id).where(
                            InstallationLink.installation_id.in_(installation_ids),
                            InstallationLink.revoked_at.is_(None),
                        )
                    )
                ).tuples()
            }
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
                _merge(device, url, item.frame.payload["changes"], now, samples)
                dirty[device["id"]] = device
                outcome = Outcome(changed=True, monitoring=Monitoring.GRANTED.value)
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
    for key in _COPIED:
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


async def connection_changed(core: Core, installation_id: int, link_id: int, up: bool) -> None:
    """Record that the installation's Home Assistant connected or went away."""
    now = core.now()
    async with core.tx() as db:
        link = await db.get(InstallationLink, link_id)
        if link is None or link.revoked_at is not None:
            return
        state = await db.get(InstallationState, installation_id)
        if state is None:
            return
        if state.connected != up:
            state.connected = up
            state.connected_changed_at = now
        state.last_contact_at = now


# -- handlers ---------------------------------------------------------------------------


async def _hello(ctx: Context) -> None:
    payload = ctx.frame.payload
    state = ctx.state
    state.integration_version = payload["integration_version"]
    if not state.connected:
        state.connected = True
        state.connected_changed_at = ctx.now
    if normalize_pin(payload["pin"]) != ctx.installation.box_pin:
        LOGGER.warning("Installation %s: hello with another box's PIN", ctx.installation.id)
        ctx.outcome.replies.append(
            protocol.error_frame("pin_mismatch", "this link belongs to another box", ctx.frame.id)
        )
    granted = payload["monitoring"]
    if granted and state.monitoring != Monitoring.GRANTED:
        _set_monitoring(ctx, Monitoring.GRANTED)
    elif not granted and state.monitoring == Monitoring.GRANTED:
        _set_monitoring(ctx, Monitoring.REVOKED)
    await interventions.on_hello(ctx)
    company = await ctx.db.get(Company, ctx.installation.company_id)
    assert company is not None
    # The frames waiting for Home Assistant follow the welcome, one message each
    # (``Hub.flush``): inline, a long backlog would make a message larger than it accepts.
    ctx.outcome.replies.append(
        protocol.encode(
            "welcome",
            {
                "installation_id": ctx.installation.id,
                "company": {"id": company.id, "name": company.name},
            },
        )
    )
    ctx.outcome.ready = True
    ctx.outcome.changed = True


def _set_monitoring(ctx: Context, value: Monitoring) -> None:
    state = ctx.state
    state.monitoring = value.value
    state.monitoring_changed_at = ctx.now
    log(ctx.db, ctx.installation, ctx.now, f"monitoring_{value.value}")
    ctx.outcome.changed = True


async def _consent(ctx: Context) -> None:
    value = Monitoring(ctx.frame.payload["monitoring"])
    if ctx.state.monitoring != value:
        _set_monitoring(ctx, value)
    request_id = ctx.frame.payload.get("request_id")
    if request_id and request_id == ctx.state.monitoring_request_id:
        ctx.state.monitoring_request_id = None


def _apply_device(
    ctx: Context, device: Device, values: dict[str, Any], *, created: bool = False
) -> int | None:
    """Apply reported values; the radio level to sample, if one is due."""
    sample: int | None = None
    for key in _COPIED:
        if key in values:
            setattr(device, key, values[key] if key != "label" else (values[key] or device.url))
    if "battery" in values:
        battery = values["battery"]
        device.battery = None if battery is None else str(battery)[:40]
    if "editable" in values:
        device.editable = json.dumps(values["editable"])[:4000]
    if "rssi" in values:
        rssi = None if values["rssi"] is None else round(values["rssi"])
        due = device.last_sample_at is None or ctx.now - device.last_sample_at >= SAMPLE_EVERY
        if rssi is not None and (created or rssi != device.rssi or due):
            device.last_sample_at = ctx.now
            sample = rssi
        device.rssi = rssi
    device.updated_at = ctx.now
    return sample


async def _add_samples(ctx: Context, samples: list[tuple[Device, int]]) -> None:
    if not samples:
        return
    if any(device.id is None for device, _ in samples):
        await ctx.db.flush()  # new devices get their ids, once for all
    ctx.db.add_all(
        RadioSample(device_id=device.id, at=ctx.now, rssi=rssi) for device, rssi in samples
    )


async def _snapshot(ctx: Context) -> None:
    box = ctx.frame.payload["box"]
    state = ctx.state
    if "online" in box and box["online"] != state.box_online:
        state.box_online = box["online"]
        state.box_online_since = ctx.now
    for key, attr in (("activated", "box_activated"), ("up_to_date", "box_up_to_date")):
        if key in box:
            setattr(state, attr, box[key])
    if "firmware" in box:
        state.firmware = box["firmware"]
    existing = {
        d.url: d
        for d in await ctx.db.scalars(
            select(Device).where(Device.installation_id == ctx.installation.id)
        )
    }
    seen: set[str] = set()
    samples: list[tuple[Device, int]] = []
    for values in ctx.frame.payload["devices"]:
        url = values["url"]
        if url in seen:
            continue
        seen.add(url)
        device = existing.get(url)
        created = device is None
        if device is None:
            device = Device(
                installation_id=ctx.installation.id, url=url, label=url, updated_at=ctx.now
            )
            ctx.db.add(device)
        sample = _apply_device(ctx, device, values, created=created)
        if sample is not None:
            samples.append((device, sample))
    await _add_samples(ctx, samples)
    ctx.outcome.changed = True
    payload = ctx.frame.payload
    # A snapshot in one frame (no part fields) is complete by itself.
    snapshot_id = payload.get("snapshot_id", ctx.frame.id)
    listed = ctx.snapshot.add(snapshot_id, payload.get("part", 0), payload.get("parts", 1), seen)
    if listed is None:
        return
    # Every part is in: a device none of them listed is gone from the box.
    gone = [d.id for url, d in existing.items() if url not in listed]
    if gone:
        await ctx.db.execute(delete(Device).where(Device.id.in_(gone)))


async def _device_update(ctx: Context) -> None:
    url = ctx.frame.payload["url"]
    device = await ctx.db.scalar(
        select(Device).where(Device.installation_id == ctx.installation.id, Device.url == url)
    )
    created = device is None
    if device is None:
        device = Device(installation_id=ctx.installation.id, url=url, label=url, updated_at=ctx.now)
        ctx.db.add(device)
    sample = _apply_device(ctx, device, ctx.frame.payload["changes"], created=created)
    if sample is not None:
        await _add_samples(ctx, [(device, sample)])
    ctx.outcome.changed = True


async def _window(ctx: Context) -> None:
    await interventions.on_window(ctx)


async def _action_result(ctx: Context) -> None:
    await interventions.on_action_result(ctx)


async def _unlinked(ctx: Context) -> None:
    await _end_link(ctx.db, ctx.core, ctx.installation, "home_assistant", None)
    ctx.outcome.close = "unlinked"
    ctx.outcome.changed = True


async def _ack(ctx: Context) -> None:
    await ctx.db.execute(
        update(PortalFrame)
        .where(
            PortalFrame.installation_id == ctx.installation.id,
            PortalFrame.frame_id == ctx.frame.payload["id"].lower(),
            PortalFrame.acked_at.is_(None),
        )
        .values(acked_at=ctx.now)
    )


async def _error(ctx: Context) -> None:
    payload = ctx.frame.payload
    LOGGER.warning(
        "Installation %s: Home Assistant reports %s: %s (ref %s)",
        ctx.installation.id,
        payload["code"],
        payload["message"],
        payload.get("ref"),
    )


HANDLERS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "hello": _hello,
    "snapshot": _snapshot,
    "device_update": _device_update,
    "alert": on_alert,
    "consent": _consent,
    "window": _window,
    "action_result": _action_result,
    "unlinked": _unlinked,
    "ack": _ack,
    "error": _error,
}
