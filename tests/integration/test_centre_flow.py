"""Professional monitoring in the options: subscribe, contacts, address, on site, stop."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import InvalidData
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.somfy_pro import centre_values as cv
from custom_components.somfy_pro.centre import missing_issue_id
from custom_components.somfy_pro.const import DOMAIN

from .centre_common import ADDRESS, DURESS_PASSWORD, FIRST_PASSWORD, centre_step, subscribe_complete
from .common import PIN, state_of
from .portal_channel_common import linked, peer
from .portal_common import wait_until
from .portal_peer import FakePortal

__all__ = ["linked", "peer"]

ANNE = {"first_name": "Anne", "last_name": "Martin", "phone": "+44 20 7946 0958"}


@pytest.fixture(autouse=True)
def in_france(hass: HomeAssistant) -> None:
    """Numbers without a country code are French."""
    hass.config.country = "FR"


def _centre(entry: MockConfigEntry) -> dict[str, object]:
    return dict(entry.options["centre"])


def _issues(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    registry = ir.async_get(hass)
    return {
        item
        for item in cv.CONFIG_STATES[2:]
        if registry.async_get_issue(DOMAIN, missing_issue_id(entry.entry_id, item))
    }


async def test_subscribe_configure_and_stop(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, hass_admin_user: MockUser
) -> None:
    assert state_of(hass, "sensor", f"{PIN}_monitoring_configuration") == "stopped"
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring_centre") == "off"
    # Not subscribed: the information screen offers to subscribe.
    result = await hass.config_entries.options.async_init(linked.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "centre"}
    )
    assert result["step_id"] == "centre"
    assert result["menu_options"] == ["centre_subscribe"]
    assert result["description_placeholders"] == {"company": "Acme Installers"}

    await centre_step(hass, linked, "centre_subscribe", {})
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring_centre") == "on"
    assert state_of(hass, "sensor", f"{PIN}_monitoring_configuration") == "missing_first_contact"
    assert _issues(hass, linked) == {"missing_first_contact", "missing_address"}
    await wait_until(hass, lambda: peer.of_type("centre_subscription"), "the subscription")
    sent = peer.of_type("centre_subscription")[-1]["payload"]
    assert sent["status"] == "active"
    assert sent["complete"] is False
    assert sent["contacts"] == []

    # The menu says what is missing, in words.
    result = await hass.config_entries.options.async_init(linked.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "centre"}
    )
    assert result["step_id"] == "centre_configure"
    assert "no first contact" in result["description_placeholders"]["missing"]
    assert "no postal address" in result["description_placeholders"]["missing"]

    await subscribe_complete(hass, linked, hass_admin_user.id)
    assert _issues(hass, linked) == set()
    assert state_of(hass, "sensor", f"{PIN}_monitoring_configuration") == "complete"
    config = _centre(linked)
    first = config["contacts"][0]  # type: ignore[index]
    assert first["phone"] == "+33612345678"
    assert first["kind"] == "owner"
    assert first["password_hash"].startswith("$scrypt$ln=14,r=8,p=1$")
    assert FIRST_PASSWORD not in str(linked.options)
    assert DURESS_PASSWORD not in str(linked.options)
    assert cv.verify_password(FIRST_PASSWORD, first["password_hash"])
    await wait_until(
        hass, lambda: peer.of_type("centre_subscription")[-1]["payload"]["complete"], "complete"
    )
    sent = peer.of_type("centre_subscription")[-1]["payload"]
    assert sent["address"] == ADDRESS
    assert [c["phone"] for c in sent["contacts"]] == ["+33612345678"]
    assert "duress" not in str(sent)

    # An outside second contact, instructions and on-site settings.
    result = await centre_step(hass, linked, "centre_second_contact", {"kind": "outside"})
    assert result["step_id"] == "centre_second_details"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "first_name": "Anne",
            "last_name": "Martin",
            "phone": "+44 20 7946 0958",
            "password": "owl",
        },
    )
    assert result["errors"] == {"password": "password_length"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "first_name": "Anne",
            "last_name": "Martin",
            "phone": "+44 20 7946 0958",
            "password": "owls",
        },
    )
    assert result["type"] == "create_entry"
    await centre_step(hass, linked, "centre_instructions", {"instructions": "Dog in the garden"})
    await centre_step(
        hass,
        linked,
        "centre_on_site",
        {"guard_may_enter": True, "key_holder": "Neighbour", "access_notes": "Code 1234"},
    )
    await wait_until(
        hass,
        lambda: peer.of_type("centre_subscription")[-1]["payload"]["on_site"]["key_holder"],
        "the on-site settings",
    )
    sent = peer.of_type("centre_subscription")[-1]["payload"]
    assert [c["kind"] for c in sent["contacts"]] == ["owner", "outside"]
    assert sent["contacts"][1]["phone"] == "+442079460958"
    assert sent["instructions"] == "Dog in the garden"
    assert sent["on_site"] == {
        "guard_may_enter": True,
        "key_holder": "Neighbour",
        "access_notes": "Code 1234",
    }

    # Stop, with a confirmation: the portal gets the stop, without contacts or address.
    result = await centre_step(hass, linked, "centre_stop", None)
    assert result["step_id"] == "centre_stop"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring_centre") == "off"
    await wait_until(
        hass,
        lambda: peer.of_type("centre_subscription")[-1]["payload"]["status"] == "stopped",
        "the stop",
    )
    sent = peer.of_type("centre_subscription")[-1]["payload"]
    assert sent["contacts"] == [] and sent["address"] is None and sent["instructions"] == ""


async def test_every_error_and_its_recovery(
    hass: HomeAssistant, linked: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    await centre_step(hass, linked, "centre_subscribe", {})
    # Second contact before the first: said, nothing changes.
    result = await centre_step(hass, linked, "centre_second_contact", None)
    assert result == {**result, "type": "abort", "reason": "first_contact_first"}

    result = await centre_step(
        hass, linked, "centre_first_contact", {"user": hass_admin_user.id, "phone": "12"}
    )
    assert result["errors"] == {"phone": "invalid_phone", "password": "password_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": hass_admin_user.id, "phone": "0612345678", "password": "a" * 65}
    )
    assert result["errors"] == {"password": "password_length"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"user": hass_admin_user.id, "phone": "0612345678", "password": FIRST_PASSWORD},
    )
    assert result["type"] == "create_entry"

    # The duress password differs from the contacts'; and the other way round.
    result = await centre_step(hass, linked, "centre_duress", {"password": FIRST_PASSWORD})
    assert result["errors"] == {"password": "duress_is_contact"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"password": "ab"}
    )
    assert result["errors"] == {"password": "password_length"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"password": DURESS_PASSWORD}
    )
    assert result["type"] == "create_entry"
    result = await centre_step(
        hass,
        linked,
        "centre_first_contact",
        {"user": hass_admin_user.id, "phone": "0612345678", "password": DURESS_PASSWORD},
    )
    assert result["errors"] == {"password": "password_is_duress"}
    # Left empty: the password kept.
    kept = _centre(linked)["contacts"][0]["password_hash"]  # type: ignore[index]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": hass_admin_user.id, "phone": "0699999999"}
    )
    assert result["type"] == "create_entry"
    first = _centre(linked)["contacts"][0]  # type: ignore[index]
    assert first["password_hash"] == kept and first["phone"] == "+33699999999"

    # Someone outside needs a first and a last name.
    result = await centre_step(hass, linked, "centre_second_contact", {"kind": "outside"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"first_name": " ", "last_name": "x" * 81, "phone": "0611111111", "password": "owls"},
    )
    assert result["errors"] == {"first_name": "name_required", "last_name": "name_required"}

    # The address: every field, not too long, a country.
    result = await centre_step(
        hass, linked, "centre_address", {**ADDRESS, "street": " ", "city": "c" * 101}
    )
    assert result["errors"] == {"street": "field_required", "city": "too_long"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**ADDRESS, "country": "France"}
    )
    assert result["errors"] == {"country": "invalid_country"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], ADDRESS)
    assert result["type"] == "create_entry"
    assert _issues(hass, linked) == set()

    result = await centre_step(hass, linked, "centre_instructions", {"instructions": "i" * 2001})
    assert result["errors"] == {"instructions": "too_long"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"instructions": "ok"}
    )
    assert result["type"] == "create_entry"
    result = await centre_step(
        hass,
        linked,
        "centre_on_site",
        {"guard_may_enter": False, "key_holder": "k" * 201, "access_notes": "n" * 2001},
    )
    assert result["errors"] == {"key_holder": "too_long", "access_notes": "too_long"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"guard_may_enter": False}
    )
    assert result["type"] == "create_entry"
    assert _centre(linked)["on_site"] == {
        "guard_may_enter": False,
        "key_holder": "",
        "access_notes": "",
    }


async def test_first_contact_only_among_owners_and_admins(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    await centre_step(hass, linked, "centre_subscribe", {})
    result = await centre_step(hass, linked, "centre_first_contact", None)
    options = result["data_schema"].schema["user"].config["options"]
    values = {option["value"] for option in options}
    assert hass_admin_user.id in values
    assert hass_read_only_user.id not in values
    # A plain user may be the second contact, as another Home Assistant user.
    await subscribe_complete(hass, linked, hass_admin_user.id, duress=False)
    result = await centre_step(hass, linked, "centre_second_contact", {"kind": "ha_user"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"user": hass_read_only_user.id, "phone": "0611111111", "password": "owls"},
    )
    assert result["type"] == "create_entry"
    second = _centre(linked)["contacts"][1]  # type: ignore[index]
    assert second["kind"] == "ha_user" and second["user_id"] == hass_read_only_user.id
    # Someone who is not an administrator is not offered as the first contact.
    with pytest.raises(InvalidData):
        await centre_step(
            hass,
            linked,
            "centre_first_contact",
            {"user": hass_read_only_user.id, "phone": "0611111111", "password": "owls"},
        )
    # An administrator deactivated while the form is open: refused, nothing changes.
    result = await centre_step(hass, linked, "centre_first_contact", None)
    await hass.auth.async_deactivate_user(hass_admin_user)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": hass_admin_user.id, "phone": "0611111111"}
    )
    assert result["errors"] == {"user": "user_not_allowed"}
    # Nobody as second contact.
    result = await centre_step(hass, linked, "centre_second_contact", {"kind": "none"})
    assert result["type"] == "create_entry"
    assert len(_centre(linked)["contacts"]) == 1  # type: ignore[arg-type]


async def test_first_contact_cannot_also_be_the_second(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    hass_admin_user: MockUser,
    hass_owner_user: MockUser,
) -> None:
    await subscribe_complete(hass, linked, hass_admin_user.id, duress=False)
    result = await centre_step(hass, linked, "centre_second_contact", {"kind": "owner"})
    options = result["data_schema"].schema["user"].config["options"]
    assert hass_admin_user.id not in {option["value"] for option in options}  # the first
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": hass_owner_user.id, "phone": "0611111111", "password": "owls"}
    )
    assert result["type"] == "create_entry"
    result = await centre_step(
        hass,
        linked,
        "centre_first_contact",
        {"user": hass_owner_user.id, "phone": "0611111111", "password": "owls"},
    )
    assert result["errors"] == {"user": "same_contact"}
    # Recovery: the first contact stays who it was.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": hass_admin_user.id, "phone": "0611111111"}
    )
    assert result["type"] == "create_entry"
    contacts = _centre(linked)["contacts"]
    assert [c["user_id"] for c in contacts] == [hass_admin_user.id, hass_owner_user.id]  # type: ignore[attr-defined]
