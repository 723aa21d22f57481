"""The monitoring frames of Home Assistant: consent, snapshots, device updates and alerts."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from companion_server.hub.frame_values import DROPPED_DEVICES, INVALID_FIELDS
from companion_server.hub.protocol import next_digest
from companion_server.hub.telemetry import COPIED, SAMPLE_EVERY
from companion_server.journal import log
from companion_server.models import Device, Monitoring, RadioSample
from companion_server.monitoring.alert_frames import on_alert

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry

LOGGER = logging.getLogger(__name__)

# What a device's values are: a change to one of them is an update.
_KEPT = (*COPIED, "battery", "editable", "rssi")


def register(registry: FrameRegistry) -> None:
    """Handle ``consent``, ``snapshot``, ``device_update`` and ``alert``; follow ``hello``."""
    registry.on_hello(_hello)
    registry.handle("snapshot", _snapshot)
    registry.handle("device_update", _device_update)
    registry.handle("alert", on_alert)
    registry.handle("consent", _consent)


async def _hello(ctx: Context) -> None:
    """``hello`` says whether monitoring is granted in Home Assistant now."""
    granted = ctx.frame.payload["monitoring"]
    if granted and ctx.state.monitoring != Monitoring.GRANTED:
        _set_monitoring(ctx, Monitoring.GRANTED)
    elif not granted and ctx.state.monitoring == Monitoring.GRANTED:
        _set_monitoring(ctx, Monitoring.REVOKED)


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
    """Apply reported values; the radio level to sample, if one is due.

    A value the frame check left out (``INVALID_FIELDS``) keeps what is stored: it is
    logged, and the device's other values are applied.
    """
    if values.get(INVALID_FIELDS):
        LOGGER.warning(
            "Installation %s: device %s: values left out (%s)",
            ctx.installation.id,
            device.url,
            ", ".join(values[INVALID_FIELDS]),
        )
    sample: int | None = None
    before = [getattr(device, key) for key in _KEPT]
    for key in COPIED:
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
    # Only a change is an update: a snapshot repeating what is stored (every Home Assistant
    # after a portal restart) writes nothing for the device.
    if created or [getattr(device, key) for key in _KEPT] != before:
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
    if ctx.frame.payload.get(DROPPED_DEVICES):
        LOGGER.warning(
            "Installation %s: %s devices of a snapshot left out (no valid url)",
            ctx.installation.id,
            ctx.frame.payload[DROPPED_DEVICES],
        )
    state = ctx.state
    state.snapshot_digest = None  # until a snapshot in one frame is applied whole
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
    if payload.get("parts", 1) == 1:
        state.snapshot_digest = ctx.frame.digest


async def _device_update(ctx: Context) -> None:
    url = ctx.frame.payload["url"]
    ctx.state.snapshot_digest = next_digest(ctx.state.snapshot_digest, ctx.frame.payload)
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
