"""Helpers of the portal tests: PostgreSQL server, fake clock, browser-like client, data."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import glob
import html
import os
from pathlib import Path
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import MultiDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from companion_server.core import Core
from companion_server.models import (
    Company,
    Installation,
    InstallationState,
    OutboxMessage,
    Role,
    User,
)
from companion_server.security.sessions import create_session
from tests.portal_app import free_port

__all__ = ["free_port"]  # shared with the HA tests

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK_RE = re.compile(r"https?://\S+")
PASSWORD = "a long enough password"


class FakeClock:
    """Aware UTC time that moves only when :meth:`advance` is called."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# -- PostgreSQL -------------------------------------------------------------------------


@dataclass
class PostgresServer:
    url: str
    directory: Path
    bin_dir: Path
    port: int


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt install postgresql)")
    return Path(pg_ctl).parent


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as the postgres system user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def start_postgres(port: int) -> PostgresServer:
    bin_dir = _pg_bin()
    directory = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(directory / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return PostgresServer(
        url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres",
        directory=directory,
        bin_dir=bin_dir,
        port=port,
    )


def stop_postgres(server: PostgresServer) -> None:
    subprocess.run(
        _as_postgres(
            [
                str(server.bin_dir / "pg_ctl"),
                "-D",
                str(server.directory / "data"),
                "-m",
                "fast",
                "stop",
            ]
        ),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(server.directory, ignore_errors=True)


def psql(admin_url: str, sql: str) -> None:
    parts = urlsplit(admin_url.replace("+asyncpg", ""))
    for attempt in range(20):
        result = subprocess.run(
            [
                "psql",
                "-h",
                parts.hostname or "127.0.0.1",
                "-p",
                str(parts.port or 5432),
                "-U",
                parts.username or "postgres",
                "-d",
                parts.path.lstrip("/") or "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": parts.password or ""},
            check=False,
        )
        if result.returncode == 0:
            return
        # CREATE DATABASE ... TEMPLATE fails while another session still uses the template.
        if "is being accessed by other users" not in result.stderr or attempt == 19:
            raise RuntimeError(f"psql failed: {result.stderr}")
        time.sleep(0.1)


# -- a browser without a browser ----------------------------------------------------------


@dataclass
class Page:
    status: int
    text: str
    headers: Any
    location: str | None
    raw: str = ""

    def csrf(self) -> str | None:
        match = CSRF_RE.search(self.text)
        return match.group(1) if match else None


class PortalClient:
    """Cookies like a browser; adds the page's CSRF token to every POST."""

    TOKEN_PAGE = "/password/forgot/sent"

    def __init__(self, base_url: str, ip: str | None = None) -> None:
        self.base_url = base_url
        # Behind a trusted proxy (``trusted_proxies=("127.0.0.1",)``), the client's address.
        headers = {"X-Forwarded-For": ip} if ip else None
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
        )
        self.csrf: str | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> Page:
        kwargs.setdefault("allow_redirects", False)
        async with self.session.request(method, self.base_url + path, **kwargs) as response:
            raw = await response.text()
            page = Page(
                response.status,
                html.unescape(raw),
                response.headers,
                response.headers.get("Location"),
                raw,
            )
        token = page.csrf()
        if token:
            self.csrf = token
        return page

    async def get(self, path: str, **kwargs: Any) -> Page:
        return await self.request("GET", path, **kwargs)

    async def post(
        self,
        path: str,
        data: dict[str, str] | MultiDict[str] | None = None,
        *,
        csrf: bool = True,
        **kwargs: Any,
    ) -> Page:
        # A MultiDict repeats a field (several checkboxes of one name).
        form: MultiDict[str] = MultiDict(data or {})
        if csrf and "csrf_token" not in form:
            if self.csrf is None:
                await self.get(self.TOKEN_PAGE)
            assert self.csrf
            form["csrf_token"] = self.csrf
        page = await self.request("POST", path, data=form, **kwargs)
        if page.status in (301, 302, 303):
            self.csrf = None  # the session (and so the token) may have changed
        return page

    async def login(self, email: str, password: str = PASSWORD) -> Page:
        self.csrf = None
        page = await self.post("/login", {"email": email, "password": password})
        self.csrf = None
        return page

    def cookie(self, name: str) -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def close(self) -> None:
        await self.session.close()


class BrowserFactory:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opened: list[PortalClient] = []

    async def new(self, ip: str | None = None) -> PortalClient:
        client = PortalClient(self.base_url, ip)
        self.opened.append(client)
        return client

    async def close(self) -> None:
        for client in self.opened:
            await client.close()


# -- data -------------------------------------------------------------------------------


async def make_company(core: Core, name: str = "Acme Installers") -> Company:
    async with core.tx() as db:
        company = Company(name=name, created_at=core.now())
        db.add(company)
        await db.flush()
        return company


async def make_user(
    core: Core,
    company: Company,
    email: str,
    *,
    role: Role = Role.INSTALLER,
    name: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    language: str = "en",
    password_hash: str | None = None,
) -> User:
    password_hash = password_hash or await core.passwords.hash(password)
    async with core.tx() as db:
        user = User(
            company_id=company.id,
            email=email,
            name=name or email.split("@")[0].title(),
            password_hash=password_hash,
            role=role.value,
            language=language,
            failed_logins=0,
            created_at=core.now(),
            email_confirmed_at=core.now() if confirmed else None,
        )
        db.add(user)
        await db.flush()
        return user


async def add_monitored_site(
    db: AsyncSession, company: Company, now: datetime, name: str = "Villa"
) -> Installation:
    """A linked installation of ``company``, monitoring granted and connected (flushed)."""
    site = Installation(company_id=company.id, name=name, status="linked", created_at=now)
    db.add(site)
    await db.flush()
    db.add(InstallationState(installation_id=site.id, monitoring="granted", connected=True))
    return site


async def session_for(core: Core, user: User) -> str:
    async with core.tx() as db:
        return await create_session(db, core.now(), user, "127.0.0.1", "tests")


async def mails(core: Core, to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    async with core.tx() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.where(OutboxMessage.to_addr == to)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(await db.scalars(query))


async def last_link(core: Core, to: str, kind: str | None = None) -> str:
    """The path of the link in the newest mail to ``to`` (of ``kind``)."""
    messages = await mails(core, to, kind)
    assert messages, f"no mail to {to}"
    match = LINK_RE.search(messages[-1].body)
    assert match, messages[-1].body
    return urlsplit(match.group(0)).path


# Only against a hang: a test's wait ends on what it waits for, however long a loaded
# machine takes to get there.
HANG_GUARD_SECONDS = 120.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, every: float = 0.025) -> None:
    """Return once ``check()`` is true, looking again every ``every`` seconds.

    For what the portal does in the background (a worker, a timer) with no notice to wait
    on; only a hang fails it, after :data:`HANG_GUARD_SECONDS`.
    """
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            while not await check():
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None
