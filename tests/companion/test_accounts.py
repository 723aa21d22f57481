"""Accounts (O1-O4, O11): sign-up, confirmation, login, lockout, reset, profile, access data."""

from __future__ import annotations

from sqlalchemy import func, select

from companion_server.accounts import operator
from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.models import AuditEvent, Company, Role, User
from tests.companion.helpers import (
    PASSWORD,
    FakeClock,
    PortalClient,
    last_link,
    mails,
    make_company,
    make_user,
)

SIGNUP = {
    "company": "Volt & Co",
    "name": "Ana Admin",
    "email": "Ana@Example.com",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
    "language": "fr",
}


async def _user(core: Core, email: str) -> User | None:
    async with core.tx() as db:
        return await db.scalar(select(User).where(User.email == email))


async def _audit_kinds(core: Core) -> list[str]:
    async with core.tx() as db:
        return list(await db.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


async def test_signup_confirm_login(client: PortalClient, core: Core) -> None:
    page = await client.post("/signup", SIGNUP)
    assert (page.status, page.location) == (303, "/signup/sent")
    user = await _user(core, "ana@example.com")
    assert user is not None
    assert user.role == Role.ADMIN  # the first person of a company administers it (O4)
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")

    # Not active before the mailed link is followed.
    page = await client.login("ana@example.com")
    assert page.status == 400
    assert "Confirm your e-mail address first" in page.text

    messages = await mails(core, "ana@example.com", "confirm_signup")
    assert messages[0].language == "fr"
    assert messages[0].subject == "Confirmez votre inscription sur le portail installateur"
    link = await last_link(core, "ana@example.com", "confirm_signup")
    # GET shows a button and changes nothing (mail scanners follow links).
    page = await client.get(link)
    assert page.status == 200
    assert (await _user(core, "ana@example.com")).email_confirmed_at is None  # type: ignore[union-attr]
    page = await client.post(link)
    assert (page.status, page.location) == (303, "/login")
    # Single use.
    assert (await client.get(link)).status == 404
    assert (await client.post(link)).status == 404

    page = await client.login("ANA@example.com ")
    assert (page.status, page.location) == (303, "/installations")
    page = await client.get("/installations")
    assert page.status == 200
    assert "Aucune installation pour l'instant" in page.text  # her language
    kinds = await _audit_kinds(core)
    assert kinds[:2] == ["signup", "login_refused"]
    assert "email_confirmed" in kinds and kinds[-1] == "login"


async def test_signup_validation_is_translated(client: PortalClient, core: Core) -> None:
    await client.post("/language", {"language": "es", "next": "/signup"})
    page = await client.post(
        "/signup",
        {**SIGNUP, "email": "not-an-address", "password": "short", "company": " "},
    )
    assert page.status == 400
    assert "Introduzca una dirección de correo electrónico válida." in page.text
    assert "La contraseña debe tener al menos 10 caracteres." in page.text
    assert "Introduzca el nombre de la empresa." in page.text
    page = await client.post("/signup", {**SIGNUP, "password_confirm": "something else!!"})
    assert "Las dos contraseñas no coinciden." in page.text
    page = await client.post(
        "/signup", {**SIGNUP, "password": "ana-secret-123", "password_confirm": "ana-secret-123"}
    )
    assert "La contraseña no debe contener" in page.text
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 0


async def test_signup_does_not_reveal_existing_address(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "taken@example.com", role=Role.ADMIN, language="sk")
    new = await client.post("/signup", {**SIGNUP, "email": "fresh@example.com"})
    existing = await client.post("/signup", {**SIGNUP, "email": "taken@example.com"})
    assert (new.status, new.location) == (existing.status, existing.location)
    # The owner is told, in their language, and nothing changes.
    notice = await mails(core, "taken@example.com")
    assert [m.kind for m in notice] == ["signup_existing"]
    assert notice[0].subject == "Niekto sa pokúsil zaregistrovať s vašou adresou"
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(Company)) == 2


async def test_unconfirmed_signup_is_replaced_by_a_new_one(
    client: PortalClient, core: Core
) -> None:
    await client.post("/signup", {**SIGNUP, "company": "Squatter"})
    first_link = await last_link(core, "ana@example.com")
    await client.post("/signup", {**SIGNUP, "company": "Real company"})
    assert (await client.post(first_link)).status == 404  # the squatter's link is dead
    await client.post(await last_link(core, "ana@example.com"))
    user = await _user(core, "ana@example.com")
    async with core.tx() as db:
        company = await db.get(Company, user.company_id)  # type: ignore[union-attr]
        names = list(await db.scalars(select(Company.name)))
    assert company is not None and company.name == "Real company"
    assert names == ["Real company"]


async def test_three_wrong_passwords_lock_until_reset(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, "ivan@example.com", language="es")
    for attempt in range(2):
        page = await client.login("ivan@example.com", "wrong password!")
        assert page.status == 400, attempt
        assert "Three wrong attempts lock the account" in page.text
    page = await client.login("ivan@example.com", "wrong password!")
    assert (page.status, page.location) == (303, "/password/forgot?locked=1")
    page = await client.get(page.location)
    assert "the account is locked" in page.text
    # Locked: even the right password does not open it.
    page = await client.login("ivan@example.com")
    assert page.location == "/password/forgot?locked=1"
    # The owner got the reset link at the moment of the lock, in their language.
    locked = await mails(core, "ivan@example.com", "account_locked")
    assert locked[0].subject == "Su cuenta está bloqueada"
    link = await last_link(core, "ivan@example.com", "account_locked")
    page = await client.post(
        link, {"password": "a brand new password", "password_confirm": "a brand new password"}
    )
    assert (page.status, page.location) == (303, "/login")
    assert (await client.login("ivan@example.com")).status == 400  # the old password is gone
    assert (await client.login("ivan@example.com", "a brand new password")).status == 303
    assert (
        await client.post(link, {"password": "x" * 12, "password_confirm": "x" * 12})
    ).status == 404
    kinds = await _audit_kinds(core)
    for kind in ("login_failed", "account_locked", "account_unlocked", "password_reset", "login"):
        assert kind in kinds


async def test_unknown_address_answers_like_a_known_one(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "known@example.com")
    known = [await client.login("known@example.com", "bad password 1") for _ in range(3)]
    unknown = [await client.login("nobody@example.com", "bad password 1") for _ in range(3)]
    assert [(p.status, p.location) for p in known] == [(p.status, p.location) for p in unknown]
    # Reset requests too.
    a = await client.post("/password/forgot", {"email": "known@example.com"})
    b = await client.post("/password/forgot", {"email": "nobody@example.com"})
    assert (a.status, a.location) == (b.status, b.location) == (303, "/password/forgot/sent")
    assert await mails(core, "nobody@example.com") == []


async def test_reset_link_single_use_expiring_and_replaced(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, "rita@example.com")
    await client.post("/password/forgot", {"email": "rita@example.com"})
    first = await last_link(core, "rita@example.com")
    await client.post("/password/forgot", {"email": "rita@example.com"})
    second = await last_link(core, "rita@example.com")
    assert first != second
    assert (await client.get(first)).status == 200  # a newer link does not void it
    clock.advance(minutes=61)
    assert (await client.get(second)).status == 404  # expired after an hour
    await client.post("/password/forgot", {"email": "rita@example.com"})
    third = await last_link(core, "rita@example.com")
    page = await client.post(third, {"password": "short", "password_confirm": "short"})
    assert page.status == 400
    page = await client.post(
        third, {"password": "the next password", "password_confirm": "the next password"}
    )
    assert page.status == 303
    assert (await client.get(third)).status == 404


async def test_reset_ends_every_session(client: PortalClient, core: Core, browsers) -> None:  # type: ignore[no-untyped-def]
    company = await make_company(core)
    await make_user(core, company, "sam@example.com")
    phone = await browsers.new()
    assert (await phone.login("sam@example.com")).status == 303
    assert (await phone.get("/profile")).status == 200
    await client.post("/password/forgot", {"email": "sam@example.com"})
    link = await last_link(core, "sam@example.com")
    await client.post(
        link, {"password": "another long password", "password_confirm": "another long password"}
    )
    page = await phone.get("/profile")
    assert page.status == 303 and page.location.startswith("/login")


async def test_profile_and_access_data(client: PortalClient, core: Core, browsers) -> None:  # type: ignore[no-untyped-def]
    company = await make_company(core, "Profile Co")
    user = await make_user(core, company, "pat@example.com", name="Pat")
    tablet = await browsers.new()
    await tablet.login("pat@example.com")
    await client.login("pat@example.com")
    page = await client.get("/profile")
    assert "pat@example.com" in page.text and "Profile Co" in page.text
    assert 'name="email"' not in page.text  # the address is not user-changeable (O11)
    page = await client.post(
        "/profile", {"name": "Patricia", "language": "sk", "email": "evil@example.com"}
    )
    assert (page.status, page.location) == (303, "/profile")
    page = await client.get("/profile")
    assert "Váš profil je uložený." in page.text
    fresh = await _user(core, "pat@example.com")
    assert fresh is not None and (fresh.name, fresh.language, fresh.email) == (
        "Patricia",
        "sk",
        "pat@example.com",
    )
    assert (await client.post("/profile", {"name": "", "language": "xx"})).status == 400

    page = await client.post(
        "/access",
        {
            "current": "wrong one!!",
            "password": "new password 123",
            "password_confirm": "new password 123",
        },
    )
    assert page.status == 400 and "Súčasné heslo je nesprávne." in page.text
    page = await client.post(
        "/access",
        {
            "current": PASSWORD,
            "password": "new password 123",
            "password_confirm": "new password 123",
        },
    )
    assert (page.status, page.location) == (303, "/access")
    assert (await client.get("/profile")).status == 200  # this session stays
    assert (await tablet.get("/profile")).status == 303  # the other one ended
    assert [m.kind for m in await mails(core, "pat@example.com")] == ["password_changed"]
    assert (await tablet.login("pat@example.com", "new password 123")).status == 303
    assert user.id == fresh.id


async def test_operator_lock_is_not_lifted_by_reset(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "fraud@example.com")
    assert await operator.lock_account(core, "fraud@example.com", locked=True)
    await client.post("/password/forgot", {"email": "fraud@example.com"})
    link = await last_link(core, "fraud@example.com")
    await client.post(
        link, {"password": "new password 123", "password_confirm": "new password 123"}
    )
    assert (
        await client.login("fraud@example.com", "new password 123")
    ).location == "/password/forgot?locked=1"
    assert await operator.lock_account(core, "fraud@example.com", locked=False)
    assert (await client.login("fraud@example.com", "new password 123")).status == 303
    assert not await operator.lock_account(core, "ghost@example.com", locked=True)


async def test_create_admin_service(core: Core) -> None:
    user = await operator.create_admin(
        core, company_name="Ops", name="Olga", email="olga@example.com", password=PASSWORD
    )
    assert user.is_active and user.is_admin
    try:
        await operator.create_admin(
            core, company_name="Ops", name="Olga", email="olga@example.com", password=PASSWORD
        )
    except ValidationFailed as err:
        assert err.errors == {"email": "This address already has an account."}
    else:
        raise AssertionError("duplicate address accepted")


async def test_maintenance_forgets_stale_data(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    from companion_server.app import purge_expired
    from companion_server.models import RateLimitCounter, Session
    from tests.companion.helpers import session_for

    await client.post("/signup", SIGNUP)  # never confirmed
    company = await make_company(core, "Kept Co")
    kept = await make_user(core, company, "kept@example.com")
    await session_for(core, kept)
    clock.advance(days=10)
    await purge_expired(core)
    async with core.tx() as db:
        assert list(await db.scalars(select(User.email))) == ["kept@example.com"]
        assert list(await db.scalars(select(Company.name))) == ["Kept Co"]
        assert await db.scalar(select(func.count()).select_from(Session)) == 0
        assert await db.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


async def test_confirmation_link_expires(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    await client.post("/signup", SIGNUP)
    link = await last_link(core, "ana@example.com")
    clock.advance(hours=48, seconds=1)
    assert (await client.get(link)).status == 404
    assert (await client.post(link)).status == 404
    # Logging in with the right password sends a fresh link.
    assert (await client.login("ana@example.com")).status == 400
    fresh = await last_link(core, "ana@example.com")
    assert fresh != link
    assert (await client.post(fresh)).status == 303
    assert (await client.login("ana@example.com")).status == 303
