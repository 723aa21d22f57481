"""The authorization matrix, generated from ONE table.

Every route of the application x every role (anonymous, installer, administrator, another
company's administrator, a customer, the manufacturer's support) x own / other object, with
the status it must answer. "Own" objects belong to company A (the installer's and the
administrator's) and to the customer who owns its box; "other" objects to company B (the
other administrator's) and to another customer. The test fails when a route exists without
a row (and when a row names a route that does not exist). GET requests must not change any table.

Over 400 lines in one file: the matrix is one table, checked against every route at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
import itertools
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from companion_server.billing import catalogue, subscriptions as billing_subscriptions
from companion_server.centre import store, subscriptions
from companion_server.centre.protocol_values import CaseKind
from companion_server.core import Core
from companion_server.customers.accounts import portal_company_id
from companion_server.models import (
    Alert,
    Base,
    Company,
    CustomerInstallation,
    CustomerInvitation,
    Device,
    DeviceRecord,
    Installation,
    InstallationAssignment,
    InstallationDocument,
    InstallationLink,
    InstallationState,
    Invitation,
    Registration,
    Role,
    SubInstallation,
    Ticket,
    TokenKind,
    User,
    UserToken,
    WarrantyTerm,
)
from companion_server.security import csrf, scrypt_hashes
from companion_server.security.sessions import create_session
from companion_server.security.tokens import new_token
from tests.companion.conftest import SECRET
from tests.companion.helpers import PASSWORD
from tests.companion.invoicing_matrix import invoicing_objects

LOGIN = "login"  # 303 to the login page
# Another role's page: GET sends the user to their own pages (303), anything else is a 403.
HOME = "home"
# What a refused request answers: it has changed nothing.
REFUSALS: tuple[int | str, ...] = (LOGIN, HOME, 403, 404)
ANON, INSTALLER, OPERATOR, ADMIN, OTHER_ADMIN = (
    "anonymous",
    "installer",
    "operator",
    "admin",
    "other_admin",
)
CUSTOMER, SUPPORT = "customer", "support"
ROLES = (ANON, INSTALLER, OPERATOR, ADMIN, OTHER_ADMIN, CUSTOMER, SUPPORT)
# Who is not a company's staff: operators (the console), customers and the support.
NOT_STAFF = {OPERATOR: HOME, CUSTOMER: HOME, SUPPORT: HOME}
NEW_PASSWORD = "matrix new password"

Expect = int | str | tuple[int | str, int | str]


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(ROLES, expect)


def members(expect: Expect) -> dict[str, Expect]:
    """Pages of a company's staff."""
    return {ANON: LOGIN, INSTALLER: expect, ADMIN: expect, OTHER_ADMIN: expect, **NOT_STAFF}


def accounts(expect: Expect) -> dict[str, Expect]:
    """Pages of every logged-in user (profile, password)."""
    return {**everyone(expect), ANON: LOGIN}


def anonymous_only(expect: Expect) -> dict[str, Expect]:
    return {**everyone(303), ANON: expect}


def admins(expect: Expect) -> dict[str, Expect]:
    return {ANON: LOGIN, INSTALLER: 403, ADMIN: expect, OTHER_ADMIN: expect, **NOT_STAFF}


def admin_object(ok: int) -> dict[str, Expect]:
    """Administrators act on their own company's objects; the other company's are 404."""
    return {ANON: LOGIN, INSTALLER: 403, ADMIN: (ok, 404), OTHER_ADMIN: (404, ok), **NOT_STAFF}


def console(ok: int) -> dict[str, Expect]:
    """The monitoring centre's console: operators and administrators; anyone else 403."""
    return {**everyone(403), ANON: LOGIN, OPERATOR: ok, ADMIN: ok, OTHER_ADMIN: ok}


def console_case(
    operator: Expect, admin: Expect | None = None, other: Expect | None = None
) -> dict[str, Expect]:
    """A case: the own one is held by the operator, the other company's by its administrator."""
    return {
        **everyone(403),
        ANON: LOGIN,
        OPERATOR: (operator, 404),
        ADMIN: (operator if admin is None else admin, 404),
        OTHER_ADMIN: (404, operator if other is None else other),
    }


def customers_only(expect: Expect) -> dict[str, Expect]:
    """The customer area: the customer's own objects; another customer's are 404."""
    return {**everyone(HOME), ANON: LOGIN, CUSTOMER: expect}


def support_only(expect: Expect) -> dict[str, Expect]:
    return {**everyone(HOME), ANON: LOGIN, SUPPORT: expect}


def ticket_desk(ok: int) -> dict[str, Expect]:
    """A ticket's staff page: its company (the installer: their box), and the support."""
    return {
        **NOT_STAFF,
        ANON: LOGIN,
        INSTALLER: (ok, 404),
        ADMIN: (ok, 404),
        OTHER_ADMIN: (404, ok),
        SUPPORT: ok,
    }


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    expect: dict[str, Expect]
    form: dict[str, str] = field(default_factory=dict)
    token: TokenKind | str | None = None
    path: str | None = None
    # Route placeholders filled from another key of the world (e.g. a pending installation).
    rename: dict[str, str] = field(default_factory=dict)
    # A stream (Server-Sent Events): only the status is read.
    stream: bool = False


def installation_viewers(ok: int) -> dict[str, Expect]:
    """The installer sees the installation assigned to them; administrators their company's."""
    return {
        ANON: LOGIN,
        INSTALLER: (ok, 404),
        ADMIN: (ok, 404),
        OTHER_ADMIN: (404, ok),
        **NOT_STAFF,
    }


PASSWORDS = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
SIGNUP = {"company": "New Co", "name": "New", "email": "{unique}", "language": "en", **PASSWORDS}
ACCEPT = {"name": "Invited", "language": "en", **PASSWORDS}
ASSIGN = {"user_id": "{member_id}"}
REGISTER = {"pin": "{new_pin}", "email": "{unique}", "language": "en"}
# A closed port on this machine: a link test after the save fails at once.
CENTRE = {"host": "127.0.0.1", "port": "9", "account": "1234AB", "message_format": "SIA-DCS"}
PENDING = {"installation_id": "pending_installation_id"}
LINKED_ONLY = {"installation_id": "linked_installation_id"}
NEW_TICKET = {"installation_id": "{installation_id}", "kind": "contact", "description": "Help"}
SUPPORT_TICKET = {"box_pin": "{box_pin}", "kind": "contact", "description": "Call me"}
CUSTOMER_ACCEPT = {"name": "Homeowner", "language": "en", **PASSWORDS}
# A recording for one camera: 4.99 € + 20 % VAT, the amount the button showed.
PAY = {
    "cart": "recording_7d",
    "amount": "599",
    "name": "Hana",
    "street": "1 rue X",
    "postcode": "75002",
    "city": "Paris",
    "country": "FR",
    "terms": "accepted",
}
ENDING = {"subscription_id": "ending_subscription_id"}
PRICE = {"price": "30", "discount": "10", "priority": "1", "active": "on"}


def own_company(ok: int) -> dict[str, Expect]:
    """Administrators' pages of their own company's settings, named in the route."""
    return {ANON: LOGIN, INSTALLER: 403, ADMIN: (ok, ok), OTHER_ADMIN: (ok, ok), **NOT_STAFF}


# fmt: off
TABLE: tuple[Row, ...] = (
    Row("GET", "/", everyone(303)),
    Row("GET", "/healthz", everyone(200)),
    # Not a page: off unless a metrics token or addresses are set (see test_scale_metrics).
    Row("GET", "/metrics", everyone(404)),
    Row("GET", "/static", everyone(200), path="/static/portal.css"),
    Row("GET", "/demo/outbox", everyone(200)),
    Row("POST", "/language", everyone(303), form={"language": "fr", "next": "/"}),
    Row("GET", "/signup", anonymous_only(200)),
    Row("POST", "/signup", everyone(303), form=SIGNUP),
    Row("GET", "/signup/sent", everyone(200)),
    Row("GET", "/confirm/{token}", everyone((200, 404)), token=TokenKind.CONFIRM),
    Row("POST", "/confirm/{token}", everyone((303, 404)), token=TokenKind.CONFIRM),
    Row("GET", "/login", anonymous_only(200)),
    Row("POST", "/login", everyone(303), form={"email": "{login_email}", "password": PASSWORD}),
    Row("POST", "/logout", everyone(303)),
    Row("GET", "/password/forgot", everyone(200)),
    Row("POST", "/password/forgot", everyone(303), form={"email": "{login_email}"}),
    Row("GET", "/password/forgot/sent", everyone(200)),
    Row("GET", "/password/reset/{token}", everyone((200, 404)), token=TokenKind.RESET),
    Row("POST", "/password/reset/{token}", everyone((303, 404)), PASSWORDS, TokenKind.RESET),
    Row("GET", "/profile", accounts(200)),
    Row("POST", "/profile", accounts(303), form={"name": "Renamed", "language": "es"}),
    Row("GET", "/access", accounts(200)),
    Row("POST", "/access", accounts(303), form={"current": PASSWORD, **PASSWORDS}),
    Row("GET", "/audit", admins(200)),
    Row("GET", "/team", admins(200)),
    Row("POST", "/team/invitations", admins(303), form={"email": "{unique}", "language": "en"}),
    Row("POST", "/team/invitations/{invitation_id}/revoke", admin_object(303)),
    Row("POST", "/team/members/{member_id}/delete", admin_object(303)),
    Row("POST", "/team/members/{member_id}/promote", admin_object(303)),
    Row("POST", "/team/step-down", admin_object(303), form={"successor_id": "{member_id}"}),
    # The receiving centre: always the administrator's own company's (no id in the route).
    Row("GET", "/company/alarm-centre", admins(200)),
    Row("POST", "/company/alarm-centre", admins(303), form=CENTRE),
    Row("POST", "/company/alarm-centre/test", admins(200)),
    Row("POST", "/company/alarm-centre/disable", admins(303)),
    Row("GET", "/invitation/{token}", everyone((200, 404)), token="invitation"),
    Row("POST", "/invitation/{token}", everyone((303, 404)), ACCEPT, "invitation"),
    Row("GET", "/installations", members(200)),
    Row("GET", "/installations/{installation_id}", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/assignments", admin_object(303), ASSIGN),
    Row("POST", "/installations/{installation_id}/assignments/{user_id}/delete",
        admin_object(303)),
    # Registration, Serv-e-go, the installation's tabs, live updates, the HA API.
    Row("GET", "/installations/registrations", members(200)),
    Row("GET", "/installations/registrations/new", members(200)),
    Row("POST", "/installations/registrations", members(303), form=REGISTER),
    Row("GET", "/installations/{installation_id}/resend", installation_viewers(200),
        rename=PENDING),
    Row("POST", "/installations/{installation_id}/resend", installation_viewers(303),
        form={"email": "{unique}"}, rename=PENDING),
    Row("POST", "/installations/{installation_id}/monitoring", installation_viewers(303),
        rename=LINKED_ONLY),
    Row("POST", "/installations/{installation_id}/unlink", admin_object(303)),
    Row("GET", "/installations/{installation_id}/devices", installation_viewers(200)),
    Row("GET", "/installations/{installation_id}/devices/{device_id}",
        installation_viewers(200)),
    Row("GET", "/installations/{installation_id}/alerts", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/alerts/{alert_id}/acknowledge",
        installation_viewers(303)),
    # Installers take an alert for themselves; administrators give it to anyone who sees
    # the installation (the installer's own assignee is themselves, see below).
    Row("POST", "/installations/{installation_id}/alerts/{alert_id}/assign",
        installation_viewers(303), form={"user_id": "{alert_assignee}"}),
    Row("GET", "/installations/{installation_id}/interventions", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/notes", installation_viewers(303),
        form={"note": "Checked the shutter."}),
    Row("GET", "/installations/{installation_id}/alert-settings", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/alert-settings", installation_viewers(303),
        form={"alert-{user_id}-intrusion": "on"}),
    Row("GET", "/installations/{installation_id}/events", installation_viewers(200),
        stream=True),
    # Remote service. The world has no open window: actions answer 409 (refused
    # server-side), after the visibility check (other companies: 404).
    # Company A invoices in the portal and its customer has no paid plan: pay in advance first.
    Row("POST", "/installations/{installation_id}/remote-service", installation_viewers(409),
        form={"kinds": "reboot", "hours": "2"}),
    Row("POST", "/installations/{installation_id}/remote/parameters", installation_viewers(409),
        form={"device_id": "{device_id}", "parameter": "label", "value": "x"}),
    Row("POST", "/installations/{installation_id}/remote/reboot", installation_viewers(409)),
    Row("GET", "/installations/{installation_id}/remote/pair", installation_viewers(409)),
    Row("POST", "/installations/{installation_id}/remote/pair", installation_viewers(409),
        form={"source": "customer"}),
    Row("POST", "/installations/{installation_id}/remote/web-app", installation_viewers(409)),
    Row("GET", "/installations/{installation_id}/remote/web-app", installation_viewers(409)),
    Row("POST", "/installations/{installation_id}/remote/web-app/command",
        installation_viewers(409), form={"device_id": "{device_id}", "command": "stop"}),
    Row("GET", "/installations/{installation_id}/remote/end", installation_viewers(409)),
    Row("POST", "/installations/{installation_id}/remote/end", installation_viewers(409),
        form={"comment": "Done."}),
    # Customer accounts and tickets.
    Row("GET", "/customer-invitation/{token}", everyone((200, 404)), token="customer_invitation"),
    Row("POST", "/customer-invitation/{token}", everyone((303, 404)), CUSTOMER_ACCEPT,
        "customer_invitation"),
    Row("GET", "/customer", customers_only(200)),
    Row("GET", "/customer/tickets/new", customers_only(200)),
    # Another customer's installation is not offered: the form answers with the error.
    Row("POST", "/customer/tickets", customers_only((303, 400)), form=NEW_TICKET),
    Row("GET", "/customer/tickets/{ticket_id}", customers_only((200, 404))),
    Row("POST", "/customer/tickets/{ticket_id}/comments", customers_only((303, 404)),
        form={"body": "Thanks"}),
    Row("GET", "/customers", admins(200)),
    Row("POST", "/customers/{customer_id}/messages", admin_object(303), form={"body": "Hi"}),
    Row("GET", "/tickets", {**members(200), SUPPORT: 200}),
    Row("GET", "/tickets/new", support_only(200)),
    Row("POST", "/tickets", support_only(303), form=SUPPORT_TICKET),
    Row("GET", "/tickets/{ticket_id}", ticket_desk(200)),
    Row("POST", "/tickets/{ticket_id}/status", ticket_desk(303), form={"status": "in_progress"}),
    Row("POST", "/tickets/{ticket_id}/assignee", ticket_desk(303),
        form={"assignee_id": "{member_id}"}),
    Row("POST", "/tickets/{ticket_id}/comments", ticket_desk(303),
        form={"body": "Checked", "visibility": "internal", "minutes": "5"}),
    Row("POST", "/api/v1/customer-invitation", everyone(401)),
    Row("POST", "/api/v1/tickets", everyone(401)),
    Row("GET", "/installations/{installation_id}/tickets", installation_viewers(200)),
    # Help: open to everyone, logged in or not ("other": an article that does not exist).
    Row("GET", "/help", everyone(200)),
    Row("GET", "/help/{slug}", everyone((200, 404))),
    # Installation records: place, sub-installations, devices on file, documents, warranty,
    # import. Uploads posted as plain forms carry no file: 400 after the visibility check.
    Row("GET", "/installations/{installation_id}/records", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/records/place", installation_viewers(303),
        form={"latitude": "48.1", "longitude": "17.1"}),
    Row("POST", "/installations/{installation_id}/records/subs", installation_viewers(303),
        form={"name": "Shed"}),
    Row("POST", "/installations/{installation_id}/records/subs/{sub_id}/delete",
        installation_viewers(303)),
    Row("POST", "/installations/{installation_id}/records/devices", installation_viewers(303),
        form={"serial": "S1", "model": "M1"}),
    Row("POST", "/installations/{installation_id}/records/devices/{record_id}",
        installation_viewers(303), form={"serial": "S2", "model": "M2"}),
    Row("POST", "/installations/{installation_id}/records/devices/{record_id}/delete",
        installation_viewers(303)),
    Row("POST", "/installations/{installation_id}/records/box-devices/{device_id}",
        installation_viewers(303), form={"installed_on": "2024-01-01"}),
    Row("GET", "/installations/{installation_id}/documents", installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/documents", installation_viewers(400)),
    Row("GET", "/installations/{installation_id}/documents/{document_id}",
        installation_viewers(200)),
    Row("POST", "/installations/{installation_id}/documents/{document_id}/delete",
        installation_viewers(303)),
    Row("GET", "/records/warranty", admins(200)),
    Row("POST", "/records/warranty", admins(303), form={"model": "X", "months": "12"}),
    Row("POST", "/records/warranty/{term_id}/delete", admin_object(303)),
    Row("GET", "/records/expiring", members(200)),
    Row("GET", "/records/import", admins(200)),
    Row("POST", "/records/import", admins(400)),
    # Invoices: the customer's own (another customer's are 404), the company's (admins).
    Row("GET", "/my-invoices", customers_only(200)),
    Row("GET", "/my-invoices/{invoice_id}", customers_only((200, 404))),
    Row("GET", "/my-invoices/{invoice_id}/pdf", customers_only((200, 404))),
    # Without card keys there is no card payment: 404 for any invoice.
    Row("POST", "/my-invoices/{invoice_id}/pay", customers_only((404, 404))),
    Row("GET", "/my-invoices/payment-method", customers_only(200)),
    Row("POST", "/my-invoices/payment-method", customers_only(303), form={"provider": "bank"}),
    # Without card keys there is no card to save: 404.
    Row("POST", "/my-invoices/payment-method/card", customers_only(404)),
    Row("GET", "/my-invoices/payment-method/card/done", customers_only(404),
        path="/my-invoices/payment-method/card/done?session_id=cs_test_x"),
    Row("GET", "/invoices", admins(200)),
    Row("GET", "/invoices/export", admins(200),
        path="/invoices/export?from=2026-01-01&to=2026-12-31"),
    Row("GET", "/invoices/{invoice_id}", admin_object(200)),
    Row("GET", "/invoices/{invoice_id}/pdf", admin_object(200)),
    Row("POST", "/invoices/{invoice_id}/credit-note", admin_object(303), form={"line": "1"}),
    Row("GET", "/invoices/seller", admins(200)),
    Row("POST", "/invoices/seller", admins(400), form={"legal_name": "X"}),
    Row("GET", "/invoices/statements", admins(200)),
    Row("POST", "/invoices/statements", admins(400)),
    Row("GET", "/invoices/interventions", admins(200)),
    Row("GET", "/invoices/interventions/{window_id}", admin_object(200)),
    Row("GET", "/installations/{installation_id}/advance", admin_object(200)),
    Row("POST", "/installations/{installation_id}/advance", admin_object(400),
        form={"remote_hours": "99"}),
    Row("POST", "/installations/{installation_id}/advance/override", admin_object(400),
        form={"reason": "x"}),
    # The customer of the window's box has no address on the form: refused, after the check.
    Row("POST", "/invoices/interventions/{window_id}", admin_object(400), form={"trips": "1"}),
    # Stripe's webhook: off without keys.
    Row("POST", "/api/payments/stripe/webhook", everyone(404)),
    Row("GET", "/static/leaflet", everyone(200), path="/static/leaflet/leaflet.js"),
    Row("POST", "/api/v1/link", everyone(400), form={"code": "x", "pin": "y"}),
    Row("POST", "/api/v1/unlink", everyone(401)),
    Row("GET", "/api/v1/ws", everyone(401)),
    # The monitoring centre's console. The own case is held by the operator, the other
    # company's by its administrator: the administrator of A may release it, not act on it.
    Row("GET", "/centre", console(200)),
    Row("GET", "/centre/events", console(200), stream=True),
    Row("GET", "/centre/cases/{case_id}", console_case(200)),
    Row("POST", "/centre/cases/{case_id}/claim", console_case(303, 409)),
    Row("POST", "/centre/cases/{case_id}/release", console_case(303)),
    Row("POST", "/centre/cases/{case_id}/hand-over", console_case(303, 409),
        form={"user_id": "{colleague_id}"}),
    Row("POST", "/centre/cases/{case_id}/steps", console_case(303, 409),
        form={"step": "no_answer", "version": "0", "note": "No answer on the mobile."}),
    # Services: the customer's own installation and subscriptions; an empty cart is a 400.
    Row("GET", "/customer/services/{installation_id}", customers_only((200, 404))),
    Row("GET", "/customer/services/{installation_id}/items/{code}", customers_only((200, 404))),
    Row("GET", "/customer/services/{installation_id}/options", customers_only((200, 404))),
    Row("GET", "/customer/services/{installation_id}/offer", customers_only((200, 404))),
    Row("GET", "/customer/services/{installation_id}/summary", customers_only((400, 404))),
    Row("GET", "/customer/services/{installation_id}/pay", customers_only((400, 404))),
    Row("POST", "/customer/services/{installation_id}/pay", customers_only((303, 404)),
        form=PAY),
    Row("GET", "/customer/services/{installation_id}/confirmed", customers_only((200, 404))),
    Row("GET", "/customer/subscriptions/{subscription_id}/cancel", customers_only((200, 404))),
    Row("POST", "/customer/subscriptions/{subscription_id}/cancel", customers_only((303, 404)),
        form={"when": "period_end"}),
    Row("GET", "/customer/subscriptions/{subscription_id}/cancelled",
        customers_only((200, 404))),
    Row("POST", "/customer/subscriptions/{subscription_id}/reactivate",
        customers_only((303, 404)), rename=ENDING),
    Row("GET", "/customer/subscriptions/{subscription_id}/reactivated",
        customers_only((200, 404))),
    Row("GET", "/billing/catalogue", admins(200)),
    Row("POST", "/billing/catalogue/profile", admins(303),
        form={"vat": "20", "time_zone": "Europe/Paris"}),
    Row("POST", "/billing/catalogue/items/{code}", own_company(303), form=PRICE),
    Row("GET", "/billing/handovers", admins(200)),
    Row("POST", "/billing/handovers/{installation_id}", admin_object(303),
        form={"signed_on": "2026-01-05", "document_id": "{document_id}"}),
)
# fmt: on

_worlds = itertools.count()


@dataclass
class World:
    """Two companies with people, objects, sessions and single-use links."""

    sessions: dict[str, str]
    own: dict[str, str]
    other: dict[str, str]
    tokens_own: dict[str, str]


async def build_world(core: Core, password_hash: str) -> World:
    n = next(_worlds)
    now = core.now()
    async with core.tx() as db:

        def person(company: Company, label: str, role: Role, confirmed: bool = True) -> User:
            user = User(
                company_id=company.id,
                email=f"{label}-{n}@example.com",
                name=label,
                password_hash=password_hash,
                role=role.value,
                language="en",
                failed_logins=0,
                created_at=now,
                email_confirmed_at=now if confirmed else None,
            )
            db.add(user)
            return user

        company_a = Company(name=f"A{n}", created_at=now)
        company_b = Company(name=f"B{n}", created_at=now)
        db.add_all([company_a, company_b])
        await db.flush()
        admin_a = person(company_a, "admin-a", Role.ADMIN)
        installer_a = person(company_a, "installer-a", Role.INSTALLER)
        target_a = person(company_a, "target-a", Role.INSTALLER)
        pending_a = person(company_a, "pending-a", Role.INSTALLER, confirmed=False)
        admin_b = person(company_b, "admin-b", Role.ADMIN)
        operator_a = person(company_a, "operator-a", Role.OPERATOR)
        operator_b = person(company_b, "operator-b", Role.OPERATOR)
        target_b = person(company_b, "target-b", Role.INSTALLER)
        installation_a = Installation(
            company_id=company_a.id,
            name="Villa A",
            box_pin=f"3{n % 1000:03d}-0000-0001",
            status="pending",
            created_at=now,
        )
        installation_b = Installation(
            company_id=company_b.id,
            name="Villa B",
            box_pin=f"3{n % 1000:03d}-0000-0002",
            status="pending",
            created_at=now,
        )
        db.add_all([installation_a, installation_b])
        await db.flush()
        db.add(
            InstallationAssignment(
                installation_id=installation_a.id, user_id=installer_a.id, assigned_at=now
            )
        )
        extra = await _monitored_installations(db, now, n, company_a, company_b, installer_a)
        extra["a"].update(await _granted(db, now, installation_a))
        extra["b"].update(await _granted(db, now, installation_b))
        await db.flush()
        extra["a"]["case_id"] = str(await _case(db, now, installation_a, operator_a))
        extra["b"]["case_id"] = str(await _case(db, now, installation_b, admin_b))
        extra["a"]["colleague_id"] = str(admin_a.id)
        extra["b"]["colleague_id"] = str(operator_b.id)
        extra["a"].update(await _records(db, core, installation_a))
        extra["b"].update(await _records(db, core, installation_b))
        extra["a"]["alert_assignee"] = str(installer_a.id)
        extra["b"]["alert_assignee"] = str(admin_b.id)
        links: dict[str, str] = {}
        invitations: dict[str, int] = {}
        for key, company in (("a", company_a), ("b", company_b)):
            token, token_hash = new_token()
            invitation = Invitation(
                company_id=company.id,
                email=f"invited-{key}-{n}@example.com",
                language="en",
                token_hash=token_hash,
                created_at=now,
                expires_at=now + timedelta(days=7),
            )
            db.add(invitation)
            await db.flush()
            invitations[key] = invitation.id
            if key == "a":
                links["invitation"] = token
        for kind, user in ((TokenKind.CONFIRM, pending_a), (TokenKind.RESET, target_a)):
            token, token_hash = new_token()
            db.add(
                UserToken(
                    user_id=user.id,
                    kind=kind.value,
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            )
            links[kind.value] = token
        portal = await db.get(Company, await portal_company_id(db, now))
        assert portal is not None
        customer_a = person(portal, "customer-a", Role.CUSTOMER)
        customer_b = person(portal, "customer-b", Role.CUSTOMER)
        support = person(portal, "support", Role.SUPPORT)
        await db.flush()
        customers = await _customers(
            db, now, n, (installation_a, customer_a), (installation_b, customer_b), links
        )
        invoicing = {
            "a": await invoicing_objects(db, core, installation_a, customer_a),
            "b": await invoicing_objects(db, core, installation_b, customer_b),
        }
        sessions = {
            INSTALLER: await create_session(db, now, installer_a, "127.0.0.1", "matrix"),
            OPERATOR: await create_session(db, now, operator_a, "127.0.0.1", "matrix"),
            ADMIN: await create_session(db, now, admin_a, "127.0.0.1", "matrix"),
            OTHER_ADMIN: await create_session(db, now, admin_b, "127.0.0.1", "matrix"),
            CUSTOMER: await create_session(db, now, customer_a, "127.0.0.1", "matrix"),
            SUPPORT: await create_session(db, now, support, "127.0.0.1", "matrix"),
        }
        unique = f"new-{n}@example.com"
        own = {
            "installation_id": str(installation_a.id),
            "member_id": str(target_a.id),
            "user_id": str(installer_a.id),
            "invitation_id": str(invitations["a"]),
            "login_email": target_a.email,
            "unique": unique,
            "new_pin": f"5{n % 1000:03d}-0000-0000",
            "box_pin": installation_a.box_pin or "",
            "slug": "tickets",
            **extra["a"],
            **customers["a"],
            **invoicing["a"],
        }
        other = {
            "installation_id": str(installation_b.id),
            "member_id": str(target_b.id),
            "user_id": str(target_b.id),
            "invitation_id": str(invitations["b"]),
            "login_email": target_a.email,
            "unique": unique,
            "new_pin": f"5{n % 1000:03d}-0000-0000",
            "box_pin": installation_b.box_pin or "",
            "slug": "no-such-article",
            **extra["b"],
            **customers["b"],
            **invoicing["b"],
        }
        return World(sessions=sessions, own=own, other=other, tokens_own=links)


async def _customers(
    db: Any,
    now: Any,
    n: int,
    own: tuple[Installation, User],
    other: tuple[Installation, User],
    links: dict[str, str],
) -> dict[str, dict[str, str]]:
    """Each customer owns one company's box and has a ticket on it; a pending invitation."""
    result: dict[str, dict[str, str]] = {}
    for key, (installation, customer) in (("a", own), ("b", other)):
        db.add(
            CustomerInstallation(
                customer_id=customer.id, installation_id=installation.id, created_at=now
            )
        )
        ticket = Ticket(
            number=f"M{n}-{key}",
            installation_id=installation.id,
            company_id=installation.company_id,
            customer_id=customer.id,
            kind="contact",
            description="Help",
            status="new",
            created_by_id=customer.id,
            created_by_role="customer",
            time_spent_minutes=0,
            created_at=now,
            updated_at=now,
        )
        db.add(ticket)
        await db.flush()
        result[key] = {
            "ticket_id": str(ticket.id),
            "customer_id": str(customer.id),
            **await _services(db, now, installation, customer),
        }
    token, token_hash = new_token()
    db.add(
        CustomerInvitation(
            installation_id=own[0].id,
            email=f"home-invited-{n}@example.com",
            language="en",
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(days=7),
        )
    )
    links["customer_invitation"] = token
    return result


async def _services(
    db: Any, now: Any, installation: Installation, customer: User
) -> dict[str, str]:
    """The customer's running monitoring, and a backup connection being cancelled."""
    entries = {
        e.offer.code: e for e in await catalogue.entries(db, installation.company_id, create=True)
    }
    found = {}
    for key, code in (("subscription_id", "monitoring"), ("ending_subscription_id", "backup")):
        sub, _charge = await billing_subscriptions.start(
            db,
            customer_id=customer.id,
            installation_id=installation.id,
            entry=entries[code],
            quantity=1,
            now=now,
        )
        found[key] = str(sub.id)
    sub.ends_on = sub.billed_until
    return {**found, "code": "backup"}


def _document_file(folder: Path, stored: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(b"%PDF-1.4\n")


async def _records(db: Any, core: Core, installation: Installation) -> dict[str, str]:
    """A sub-installation, a device added by hand, a document (its file too), a warranty row."""
    now = core.now()
    sub = SubInstallation(installation_id=installation.id, name="House", created_at=now)
    record = DeviceRecord(installation_id=installation.id, serial="S0", model="M0", created_at=now)
    stored = new_token()[1][:32]
    _document_file(Path(core.settings.documents_dir), stored)
    document = InstallationDocument(
        installation_id=installation.id,
        stored_name=stored,
        title="plan.pdf",
        kind="pdf",
        size=9,
        uploaded_at=now,
    )
    term = WarrantyTerm(company_id=installation.company_id, model=f"M{installation.id}", months=24)
    db.add_all([sub, record, document, term])
    await db.flush()
    return {
        "sub_id": str(sub.id),
        "record_id": str(record.id),
        "document_id": str(document.id),
        "term_id": str(term.id),
    }


async def _granted(db: Any, now: Any, installation: Installation) -> dict[str, str]:
    """Link the installation, grant monitoring, give it a device and an alert (their ids)."""
    installation.status = "linked"
    db.add(
        InstallationLink(
            installation_id=installation.id,
            token_hash=new_token()[1],
            instance_id="ha",
            ha_name="Home",
            created_at=now,
        )
    )
    db.add(
        InstallationState(installation_id=installation.id, monitoring="granted", connected=False)
    )
    device = Device(
        installation_id=installation.id,
        url=f"io://{installation.id}/1",
        label="Shutter",
        protocol="io",
        rssi=60,
        updated_at=now,
    )
    db.add(device)
    alert = Alert(
        installation_id=installation.id,
        alert_id="a1",
        device_url=device.url,
        type="intrusion",
        active=True,
        at=now,
        received_at=now,
    )
    db.add(alert)
    await db.flush()
    return {"device_id": str(device.id), "alert_id": str(alert.id)}


async def _case(db: Any, now: Any, installation: Installation, holder: User) -> int:
    """A subscription to the monitoring centre and an intrusion case held by ``holder``."""
    contact = {
        "kind": "owner",
        "first_name": "Alice",
        "last_name": "Martin",
        "phone": "+33612345678",
        "password_hash": scrypt_hashes.make("first secret", b"0123456789abcdef"),
    }
    await subscriptions.store(
        db,
        installation.id,
        {
            "status": "active",
            "complete": True,
            "contacts": [contact],
            "address": {"street": "1 rue X", "postcode": "75002", "city": "Paris", "country": "FR"},
            "instructions": "Ring twice.",
            "on_site": {"guard_may_enter": True, "key_holder": "", "access_notes": ""},
            "updated_at": now,
        },
        now,
    )
    row, _ = await store.open_new(
        db,
        company_id=installation.company_id,
        installation_id=installation.id,
        kind=CaseKind.INTRUSION,
        contacts=[contact],
        now=now,
    )
    row.claimed_by_id = holder.id
    row.claimed_at = now
    return row.id


async def _monitored_installations(
    db: Any, now: Any, n: int, company_a: Company, company_b: Company, installer_a: User
) -> dict[str, dict[str, str]]:
    """Per company: a pending registration and a linked installation without monitoring."""
    result: dict[str, dict[str, str]] = {}
    for key, company in (("a", company_a), ("b", company_b)):
        pending = Installation(
            company_id=company.id,
            name=f"Pending {key}",
            box_pin=f"1{n % 1000:03d}-0000-000{'1' if key == 'a' else '2'}",
            customer_email="home@example.com",
            status="pending",
            created_at=now,
        )
        linked = Installation(
            company_id=company.id,
            name=f"Linked {key}",
            box_pin=f"2{n % 1000:03d}-0000-000{'1' if key == 'a' else '2'}",
            customer_email="home@example.com",
            status="linked",
            created_at=now,
        )
        db.add_all([pending, linked])
        await db.flush()
        db.add(
            Registration(
                installation_id=pending.id,
                email="home@example.com",
                language="en",
                code_hash=new_token()[1],
                created_at=now,
                expires_at=now + timedelta(days=7),
                failed_attempts=0,
            )
        )
        db.add(
            InstallationLink(
                installation_id=linked.id,
                token_hash=new_token()[1],
                instance_id="ha",
                ha_name="Home",
                created_at=now,
            )
        )
        db.add(InstallationState(installation_id=linked.id, monitoring="none", connected=False))
        if key == "a":
            for installation in (pending, linked):
                db.add(
                    InstallationAssignment(
                        installation_id=installation.id, user_id=installer_a.id, assigned_at=now
                    )
                )
        result[key] = {
            "pending_installation_id": str(pending.id),
            "linked_installation_id": str(linked.id),
        }
    return result


async def _call(
    http: aiohttp.ClientSession, base: str, row: Row, role: str, world: World, which: str
) -> tuple[int, str | None]:
    values = dict(world.own if which == "own" else world.other)
    values.update({key: values[source] for key, source in row.rename.items()})
    if row.token is not None:
        values["token"] = (
            world.tokens_own[str(row.token)] if which == "own" else "no-such-link-" + "x" * 30
        )
    path = row.path or row.route.format(**values)
    seed = world.sessions.get(role)
    cookies = {}
    if seed is None:
        seed = new_token()[0]
        cookies["portal_csrf"] = seed
    else:
        cookies["portal_session"] = seed
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    data: dict[str, str] | None = None
    if row.method == "POST":
        data = {key: value.format(**values) for key, value in row.form.items()}
        data["csrf_token"] = csrf.make_token(SECRET, seed)
    async with http.request(
        row.method, base + path, data=data, headers=headers, allow_redirects=False
    ) as response:
        if not row.stream or response.status != 200:
            await response.read()
        return response.status, response.headers.get("Location")


def _matches(expected: int | str, status: int, location: str | None, method: str) -> bool:
    if expected == HOME and method == "GET":
        return status == 303 and location in ("/installations", "/customer", "/tickets", "/centre")
    if expected == HOME:
        return status == 403
    if expected == LOGIN:
        return status == 303 and bool(location) and location.startswith("/login?next=")  # type: ignore[union-attr]
    return status == expected


def _cells(row: Row) -> list[tuple[str, str, int | str]]:
    cells = []
    for role in ROLES:
        expect = row.expect[role]
        if isinstance(expect, tuple):
            cells += [(role, "own", expect[0]), (role, "other", expect[1])]
        else:
            cells.append((role, "own", expect))
    return cells


async def _snapshot(core: Core) -> dict[str, list[Any]]:
    state: dict[str, list[Any]] = {}
    async with core.tx() as db:
        for table in Base.metadata.sorted_tables:
            rows = (await db.execute(select(table))).all()
            state[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return state


def test_every_route_has_a_row(app: web.Application) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    table = {(row.method, row.route) for row in TABLE}
    assert routes - table == set(), "routes without a row in the authorization matrix"
    assert table - routes == set(), "rows for routes that do not exist"
    assert len(table) == len(TABLE), "duplicate rows"
    for row in TABLE:
        assert set(row.expect) == set(ROLES), row
        has_object = "{" in row.route.replace("{token}", "") or any(
            "_id}" in v for v in row.form.values()
        )
        if has_object or row.token:
            assert any(isinstance(e, tuple) for e in row.expect.values()), f"{row.route}: own/other"


async def test_authorization_matrix(core: Core, server: TestServer) -> None:
    base = str(server.make_url("")).rstrip("/")
    password_hash = await core.passwords.hash(PASSWORD)
    failures: list[str] = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        # Reading: one world; nothing may change.
        world = await build_world(core, password_hash)
        before = await _snapshot(core)
        for row in TABLE:
            if row.method != "GET":
                continue
            for role, which, expected in _cells(row):
                status, location = await _call(http, base, row, role, world, which)
                if not _matches(expected, status, location, row.method):
                    failures.append(
                        f"{row.method} {row.route} {role}/{which}: {status} {location}"
                        f" expected {expected}"
                    )
        assert await _snapshot(core) == before, "a GET request changed the database"
        # Writing: a fresh world for every cell after one that may have changed it. A
        # refusal changes nothing, so the cell after it keeps the world.
        fresh = False
        for row in TABLE:
            if row.method == "GET":
                continue
            for role, which, expected in _cells(row):
                if not fresh:
                    world = await build_world(core, password_hash)
                status, location = await _call(http, base, row, role, world, which)
                matched = _matches(expected, status, location, row.method)
                fresh = matched and expected in REFUSALS
                if not matched:
                    failures.append(
                        f"{row.method} {row.route} {role}/{which}: {status} {location}"
                        f" expected {expected}"
                    )
    assert failures == []
