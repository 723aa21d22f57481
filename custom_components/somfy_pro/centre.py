"""Professional monitoring: the subscription, alarms to the centre, its cases, the owner's word.

The subscription (the entry's ``centre`` option) is the homeowner's consent for alarm data to
reach the linked company's monitoring centre, independent of the installer's monitoring
consent. Every frame goes through the channel's acknowledged outbox, so none is lost on a
restart. Alarms leave only while the subscription is active and complete (M8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from . import centre_values as cv, portal_frames as frames
from .centre_tries import WrongTries
from .const import DOMAIN, LOGGER
from .portal_delivery import device_url, occurrence_id, withdraw

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import CALLBACK_TYPE

    from .alerts import AlertChange, AlertTracker
    from .coordinator import SomfyProCoordinator
    from .portal_channel import PortalChannel
    from .portal_store import PortalStore, StoredPortal

EVENT_MONITORING: Final = "somfy_pro_monitoring"
CONF_CENTRE: Final = "centre"

RESULT_CANCEL: Final = "cancel"
RESULT_REFUSED: Final = "refused"
RESULT_RATE_LIMITED: Final = "rate_limited"
RESULT_NOT_CONFIGURED: Final = "not_configured"


def missing_issue_id(entry_id: str, item: str) -> str:
    """Repair issue of one thing an active subscription lacks."""
    return f"centre_{item}_{entry_id}"


def missing_issue_ids(entry_id: str) -> list[str]:
    """Every repair issue the centre may raise for an entry."""
    return [missing_issue_id(entry_id, item) for item in cv.CONFIG_STATES[2:]]


class MonitoringCentre:
    """One entry's subscription to the centre, its alarms and the case it follows."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        channel: PortalChannel,
        store: PortalStore,
        coordinator: SomfyProCoordinator,
        alerts: AlertTracker,
    ) -> None:
        """Plug into the channel; ``async_restore`` then ``async_start`` bring it up."""
        self._hass = hass
        self._entry = entry
        self._channel = channel
        self._store = store
        self._alerts = alerts
        self._coordinator = coordinator
        self.case: dict[str, Any] | None = None
        # Centre alarm raised (device key|kind) -> its alarm_id, shared with its restore.
        self._alarm_ids: dict[str, str] = {}
        self._wrong = WrongTries()
        self._sent: dict[str, Any] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        store.add_part(self._stored)
        channel.register((frames.CENTRE_CASE,), self._async_on_case)
        channel.on_ready(self._send_subscription)
        channel.on_reset(self._reset)

    # -- state -------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The homeowner's configuration (the entry's ``centre`` option)."""
        return dict(self._entry.options.get(CONF_CENTRE) or {})

    @property
    def subscribed(self) -> bool:
        """The homeowner subscribed (the centre's own consent)."""
        return self.config.get("status") == cv.STATUS_ACTIVE

    @property
    def state(self) -> str:
        """``stopped``, ``complete`` or the first thing missing."""
        return cv.config_state(self.config)

    @property
    def sends_alarms(self) -> bool:
        """Alarms reach the centre: linked, subscribed, complete."""
        return self._channel.link is not None and self.state == cv.CONFIG_COMPLETE

    @callback
    def async_restore(self, stored: StoredPortal | None) -> None:
        """Take the case followed and the alarm ids of the raised alarms."""
        if stored is None or self._channel.link is None:
            return
        centre = stored.get("centre") or {}
        self.case = centre.get("case")
        self._alarm_ids = dict(centre.get("alarm_ids") or {})
        self._wrong.restore(centre.get("wrong_tries"))

    def _stored(self) -> StoredPortal:
        return {
            "centre": {
                "case": self.case,
                "alarm_ids": dict(self._alarm_ids),
                "wrong_tries": self._wrong.as_stored(),
            }
        }

    @callback
    def async_start(self) -> None:
        """Follow alerts and changes of the configuration."""
        self._sent = cv.subscription_payload(self.config)
        self._unsubs.append(self._alerts.async_add_listener(self._async_on_alert))
        self._unsubs.append(self._entry.add_update_listener(self._async_entry_updated))
        self._async_update_issues()

    @callback
    def async_stop(self) -> None:
        """Stop following (unload)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    def _reset(self) -> None:
        """The link was made or forgotten: the subscription was with the company before."""
        self.case = None
        self._alarm_ids = {}
        if self.subscribed:
            config = {**self.config, "status": cv.STATUS_STOPPED, "updated_at": _now()}
            self._hass.config_entries.async_update_entry(
                self._entry, options={**self._entry.options, CONF_CENTRE: config}
            )

    # -- the subscription --------------------------------------------------------------------

    async def _async_entry_updated(self, _hass: HomeAssistant, _entry: ConfigEntry[Any]) -> None:
        payload = cv.subscription_payload(self.config)
        if payload != self._sent:
            self._sent = payload
            self._channel.delivery.async_drop(frames.CENTRE_SUBSCRIPTION)
            if not self.subscribed:
                # Stopped: alarms still waiting go nowhere.
                withdraw(self._channel.delivery, frames.CENTRE_ALARM, self._alarm_ids)
            LOGGER.info("Monitoring centre subscription: %s", self.state)
            self._send_subscription()
        self._async_update_issues()
        self._channel.async_notify()

    def _send_subscription(self) -> None:
        """The whole state: on every change and after every welcome."""
        if self._channel.link is None or not self.config:
            return
        self._channel.delivery.async_drop(frames.CENTRE_SUBSCRIPTION)
        self._channel.post(
            frames.new_frame(frames.CENTRE_SUBSCRIPTION, cv.subscription_payload(self.config))
        )

    @callback
    def _async_update_issues(self) -> None:
        lacking = set(cv.missing(self.config)) if self.subscribed else set()
        for item in cv.CONFIG_STATES[2:]:
            issue_id = missing_issue_id(self._entry.entry_id, item)
            if item in lacking:
                ir.async_create_issue(
                    self._hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key=f"centre_{item}",
                    translation_placeholders={"title": self._entry.title},
                )
            else:
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    # -- alarms ------------------------------------------------------------------------------

    @callback
    def _async_on_alert(self, change: AlertChange) -> None:
        if change.alert not in cv.CENTRE_KINDS or not self.sends_alarms:
            return
        alarm_id = occurrence_id(self._alarm_ids, change)
        label = self._coordinator.alert_event_data(change)["device_name"]
        self._channel.post(
            frames.new_frame(
                frames.CENTRE_ALARM,
                {
                    "alarm_id": alarm_id,
                    "kind": change.alert,
                    "active": change.active,
                    "device_url": device_url(change.device_key),
                    "device_label": frames.fit("label", label),
                    "at": change.time.isoformat(),
                },
            )
        )

    # -- cases -------------------------------------------------------------------------------

    async def _async_on_case(self, _frame_type: str, payload: dict[str, Any]) -> None:
        case = self.case
        if case is not None and (payload["case_id"], payload["seq"]) <= (
            case["case_id"],
            case["seq"],
        ):
            return  # an older step, or one already known
        self.case = dict(payload)
        self._store.async_schedule_save()
        self._hass.bus.async_fire(
            EVENT_MONITORING,
            {
                "entry_id": self._entry.entry_id,
                **{
                    key: payload[key]
                    for key in (
                        "case_id",
                        "kind",
                        "phase",
                        "last_action",
                        "guard",
                        "outcome",
                        "at",
                    )
                },
            },
        )
        self._channel.async_notify()

    @property
    def open_case_id(self) -> int | None:
        """The id of the case followed while it is open."""
        if self.case is None or self.case.get("status") != "open":
            return None
        return int(self.case["case_id"])

    # -- the owner's word --------------------------------------------------------------------

    async def async_owner_word(self, password: str) -> str:
        """Check a password at home; tell the centre. Returns a ``RESULT_`` value.

        A contact's password cancels; the duress password is reported as duress but answered
        like a cancel, so nobody watching Home Assistant can tell.
        """
        config = self.config
        hashes = [c.get("password_hash") for c in config.get("contacts") or []]
        if not any(hashes):
            return RESULT_NOT_CONFIGURED
        now = dt_util.utcnow()
        if self._wrong.blocked(now):
            return RESULT_RATE_LIMITED
        duress_hash = config.get("duress_hash")
        cancel, duress = await self._hass.async_add_executor_job(
            _check, password, hashes, duress_hash
        )
        action = cv.OWNER_CANCEL if cancel else cv.OWNER_DURESS if duress else None
        if action is None:
            self._wrong.add(now)
            await self._store.async_save()  # counted before the answer, restart or not
            action = cv.OWNER_CANCEL_REFUSED
        self._channel.post(
            frames.new_frame(
                frames.CENTRE_OWNER,
                {"case_id": self.open_case_id, "action": action, "at": now.isoformat()},
            )
        )
        return RESULT_REFUSED if action == cv.OWNER_CANCEL_REFUSED else RESULT_CANCEL

    def as_diagnostics(self) -> dict[str, Any]:
        """The state, not who or where: no names, numbers, address or hashes."""
        config = self.config
        case = self.case or {}
        return {
            "state": self.state,
            "missing": cv.missing(config) if self.subscribed else [],
            "contacts": [c.get("kind") for c in config.get("contacts") or []],
            "duress_set": bool(config.get("duress_hash")),
            "case": {k: case.get(k) for k in ("case_id", "seq", "kind", "status", "phase")},
        }


def _check(password: str, hashes: list[Any], duress_hash: Any) -> tuple[bool, bool]:
    """Every hash is checked, whatever matches first: the time tells nothing."""
    cancel = [cv.verify_password(password, h) for h in hashes]
    duress = cv.verify_password(password, duress_hash)
    return any(cancel), duress


def _now() -> str:
    return dt_util.utcnow().isoformat()
