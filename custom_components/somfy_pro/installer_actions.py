"""Installer actions: checked in Home Assistant, executed on the box, recorded in the audit log.

Not Home Assistant actions: what an installer does in a remote-service window, arriving from
the portal channel, one entry point per portal frame:

- ``action``: checked (``action_checks``), run on the box, recorded; answered with an
  ``action_result`` ``{"action_id", "ok", "error"?, "at"}``.
- ``request_remote_service``: raises the repair issue whose fix flow approves (``window`` frame
  "granted") or declines ("declined").
- ``intervention_ended``: closes the window, fires ``somfy_pro_intervention_ended`` and shows
  the homeowner a notification (``intervention_summary``).

Every check is made here, on Home Assistant's clock and data, whatever the portal says.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from . import portal_delivery as delivery, portal_frames as frames
from .action_checks import (
    DETAIL_KEYS,
    ERROR_BOX_ERROR,
    ERROR_BOX_UNREACHABLE,
    ERROR_INVALID_ACTION,
    ERROR_KIND_NOT_GRANTED,
    ERROR_NOT_READY,
    ERROR_WINDOW_CLOSED,
    ERROR_WRONG_BOX,
    ActionRefused,
    Plan,
    bounded,
    check,
)
from .audit import RECORD_ACTION
from .box_api import BoxConnectionError, BoxError
from .const import DOMAIN, LOGGER
from .intervention_summary import async_notify_intervention_ended
from .portal_frames import MAX_ID_LENGTH
from .remote_window import KINDS, MAX_HOURS, linked_installer

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.config_entries import ConfigEntry

    from .box_api import BoxClient
    from .coordinator import SomfyProCoordinator
    from .remote_service import RemoteService

REQUEST_ISSUE_PREFIX: Final = "remote_service_request_"
# The frames of the portal the installer actions take.
FRAME_TYPES: Final = (frames.ACTION, frames.REQUEST_REMOTE_SERVICE, frames.INTERVENTION_ENDED)


def request_issue_id(entry_id: str) -> str:
    """The repair issue of the entry's pending remote-service request (one at a time)."""
    return f"{REQUEST_ISSUE_PREFIX}{entry_id}"


class InstallerActions:
    """What an installer does on one box through the portal, within the homeowner's window."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: BoxClient,
        coordinator: SomfyProCoordinator,
        remote: RemoteService,
    ) -> None:
        """Act on the box of ``entry`` through ``client``, within ``remote``'s window."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._coordinator = coordinator
        self._remote = remote

    def _installer(self) -> dict[str, Any]:
        """The linked installer, as the audit log records it when no window names one."""
        installer = linked_installer(self._entry)
        return {
            "company": installer.company if installer else None,
            "company_id": installer.company_id if installer else None,
            "name": None,
        }

    # -- the portal channel's entry point -----------------------------------------------------

    async def async_handle_portal_frame(
        self, frame_type: str, payload: Any
    ) -> dict[str, Any] | None:
        """Handle a remote-service frame of the portal; return the frame to post, if any.

        ``action`` -> its ``action_result``; ``request_remote_service`` -> the repair issue
        (None); ``intervention_ended`` -> window closed, event and notification (None). Raises
        ValueError for a malformed request or an unknown type (answered with an ``error``).
        """
        if frame_type == frames.ACTION:
            result = await self.async_handle_action(payload)
            return frames.new_frame(frames.ACTION_RESULT, result)
        if frame_type == frames.REQUEST_REMOTE_SERVICE:
            self.async_handle_request_remote_service(payload)
            return None
        if frame_type == frames.INTERVENTION_ENDED:
            await self.async_handle_intervention_ended(payload)
            return None
        raise ValueError(f"not a remote-service frame: {frame_type}")

    @callback
    def async_interrupted(self, action_id: str, kind: str) -> dict[str, Any]:
        """Record an action accepted before Home Assistant stopped; its ``action_result``."""
        LOGGER.warning("Installer action %s (%s) interrupted by a stop", action_id, kind)
        self._remote.audit.async_append(
            RECORD_ACTION,
            action_id=action_id,
            kind=kind,
            installer=self._installer(),
            ok=False,
            error=delivery.ERROR_INTERRUPTED,
        )
        return delivery.interrupted_result(action_id, dt_util.utcnow())

    # -- action frames ------------------------------------------------------------------------

    async def async_handle_action(self, payload: Any) -> dict[str, Any]:
        """Check an installer's action, run it on the box, record it; return ``action_result``."""
        entry = self._entry
        at = dt_util.utcnow()
        action_id = payload.get("action_id") if isinstance(payload, dict) else None
        if not isinstance(action_id, str):
            action_id = ""
        kind = payload.get("kind") if isinstance(payload, dict) else None
        details: dict[str, Any] = {}
        who: dict[str, Any] | None = None
        error: str | None = None
        try:
            if not action_id or not isinstance(payload, dict) or kind not in KINDS:
                raise ActionRefused(ERROR_INVALID_ACTION)
            if entry.state is not ConfigEntryState.LOADED:
                raise ActionRefused(ERROR_NOT_READY)
            details = {key: bounded(payload[key]) for key in DETAIL_KEYS if key in payload}
            pin = entry.unique_id or self._coordinator.data.gateway.id
            if payload.get("pin", pin) != pin:
                raise ActionRefused(ERROR_WRONG_BOX)
            window = self._remote.current
            if window is None or not self._remote.is_linked_to(window, linked_installer(entry)):
                raise ActionRefused(ERROR_WINDOW_CLOSED)
            who = window.who()
            if not window.allows(str(kind)):
                raise ActionRefused(ERROR_KIND_NOT_GRANTED)
            plan = check(self._coordinator.data.devices, payload, str(kind), pin, details)
            await self._async_run(plan, window.company)
            # The window may have closed while the box was busy: the action already ran,
            # so it is recorded as done.
        except ActionRefused as err:
            error = err.code
        result: dict[str, Any] = {"action_id": action_id, "ok": error is None, "at": at.isoformat()}
        if error is not None:
            result["error"] = error
        if entry.state is ConfigEntryState.LOADED:
            self._remote.audit.async_append(
                RECORD_ACTION,
                action_id=action_id[:200],
                kind=kind[:64] if isinstance(kind, str) else None,
                installer=who if who is not None else self._installer(),
                **details,
                ok=error is None,
                error=error,
            )
        if error is None:
            LOGGER.info("Installer action %s (%s) done", action_id, kind)
        else:
            LOGGER.warning("Installer action %s (%s) refused: %s", action_id, kind, error)
        return result

    async def _async_run(self, plan: Plan, company: str) -> None:
        label = f"Somfy Pro installer ({company})"
        for url, command, params in plan.commands:
            try:
                await self._client.execute(url, command, *params, label=label)
            except BoxConnectionError as err:
                LOGGER.warning("The box is unreachable for %s: %s", command, err)
                raise ActionRefused(ERROR_BOX_UNREACHABLE) from err
            except BoxError as err:
                LOGGER.warning("The box refused %s on %s: %s", command, url, err)
                raise ActionRefused(ERROR_BOX_ERROR) from err

    # -- request_remote_service frames --------------------------------------------------------

    @callback
    def async_handle_request_remote_service(self, payload: Any) -> None:
        """Raise the repair issue asking the homeowner to approve or decline the request.

        ``payload``: ``{"request_id", "installer", "kinds", "hours"}``. Raises ValueError when
        it is malformed (the channel answers with an ``error`` frame).
        """
        entry = self._entry
        request_id = payload.get("request_id") if isinstance(payload, dict) else None
        # The id comes back to the portal in the ``window`` frame, which takes 36 characters.
        if not isinstance(request_id, str) or not 1 <= len(request_id) <= MAX_ID_LENGTH:
            raise ValueError("request_remote_service needs a request_id")
        kinds = payload.get("kinds", list(KINDS))
        if not isinstance(kinds, list) or not kinds or any(kind not in KINDS for kind in kinds):
            raise ValueError("unknown or missing kinds")
        hours = payload.get("hours", MAX_HOURS)
        if (
            isinstance(hours, bool)
            or not isinstance(hours, (int, float))
            or not math.isfinite(hours)
            or hours <= 0
        ):
            raise ValueError("hours must be a positive number")
        installer = payload.get("installer")
        link = linked_installer(entry)
        company = link.company if link else ""
        ordered = [kind for kind in KINDS if kind in kinds]
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            request_issue_id(entry.entry_id),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="remote_service_request",
            translation_placeholders={
                "title": entry.title,
                "company": company,
                "installer": str(installer or company),
                "hours": f"{min(float(hours), MAX_HOURS):g}",
                "kinds": ", ".join(ordered),
            },
            data={
                "entry_id": entry.entry_id,
                "request_id": payload["request_id"],
                "installer": None if installer is None else str(installer),
                "kinds": ",".join(ordered),
                "hours": min(float(hours), MAX_HOURS),
            },
        )

    # -- intervention_ended frames -------------------------------------------------------------

    async def async_handle_intervention_ended(self, payload: Any) -> None:
        """Close the window, record the end, fire the event and notify the homeowner."""
        payload = payload if isinstance(payload, dict) else {}
        comment = payload.get("comment")
        comment = comment.strip() if isinstance(comment, str) else ""
        portal_actions = payload.get("actions")
        remote = self._remote
        window = remote.current
        link = linked_installer(self._entry)
        who = (
            window.who()
            if window is not None
            else {"company": link.company if link else None, "company_id": None, "name": None}
        )
        since = window.granted_at.isoformat() if window is not None else None
        done = [
            record
            for record in remote.audit.records
            if record.get("type") == RECORD_ACTION
            and record.get("ok")
            and (since is None or str(record.get("time", "")) >= since)
        ]
        remote.async_end()
        await async_notify_intervention_ended(
            self._hass, self._entry, remote.audit, who, comment, portal_actions, done
        )
