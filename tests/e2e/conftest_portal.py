"""Fixtures of the portal's browser tests: a real portal process, a real SMTP server, Chromium.

Imported by ``tests/e2e/test_portal_*.py`` (not a conftest of its own, so other end-to-end
tests keep their fixtures). The portal runs as ``python -m companion_server serve`` on
127.0.0.1 with an SQLite file, delivering mail to an aiosmtpd server of the test. The
simulated Home Assistant (``tests/companion/ha.py``) runs in an event loop thread of its own;
``linked_box`` plays the steps most browser tests start with: the administrator registers
the box, Home Assistant links it with the mailed code and sends its products.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
import os
from pathlib import Path
import re
import subprocess
import sys
import threading
import time
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
import pytest

from companion_server.accounts.operator import create_admin
from companion_server.core import Core, build_core
from companion_server.models import Company, Role, User
from companion_server.settings import Settings
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.interventions_common import devices
from tests.portal_app import free_port

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LINK_RE = re.compile(r"http://127\.0\.0\.1:\d+/\S+")
CODE_RE = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b")
ADMIN_EMAIL = "lea@alpes-domotique.example"
PASSWORD = "alpes domotique secret"
CUSTOMER = "dupont@example.com"
KINDS = ["parameters", "reboot", "pair_remote", "web_app"]


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def find(self, to: str, predicate: Callable[[EmailMessage], bool]) -> EmailMessage | None:
        """The first message to ``to`` matching ``predicate``, if any came."""
        with self.lock:
            for message in self.messages:
                if message["To"] == to and predicate(message):
                    return message
        return None

    def wait_for(
        self, to: str, predicate: Callable[[EmailMessage], bool] = lambda m: True
    ) -> EmailMessage:
        """The first message to ``to`` matching ``predicate`` (waits up to 30 s)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (message := self.find(to, predicate)) is not None:
                return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to}; got {[m['Subject'] for m in self.messages]}")

    async def arrival(
        self, to: str, predicate: Callable[[EmailMessage], bool] = lambda m: True
    ) -> EmailMessage:
        """:meth:`wait_for` for tests running in an event loop (it keeps running)."""
        for _ in range(600):
            if (message := self.find(to, predicate)) is not None:
                return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no mail to {to}; got {[m['Subject'] for m in self.messages]}")

    @staticmethod
    def link(message: EmailMessage) -> str:
        body = message.get_body().get_content()  # type: ignore[union-attr]
        match = LINK_RE.search(body)
        assert match, body
        return match.group(0)


@dataclass
class Portal:
    url: str
    database_url: str
    mailbox: Mailbox


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    """A portal process with its own SQLite file and SMTP server."""
    yield from _serve(tmp_path, {})


@pytest.fixture
def demo_portal(tmp_path: Path) -> Iterator[Portal]:
    """:func:`portal` in demo mode (the outbox page and its link in every page's footer)."""
    yield from _serve(tmp_path, {"COMPANION_DEMO": "1"})


def _serve(tmp_path: Path, extra_env: dict[str, str]) -> Iterator[Portal]:
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COMPANION_SMTP_HOST="127.0.0.1",
        COMPANION_SMTP_PORT=str(smtp_port),
        COMPANION_SMTP_TLS="none",
        COMPANION_SECRET_KEY="browser-test-secret-key-0123456789abcdef",
    )
    env.update(extra_env)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "companion_server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    started = threading.Event()

    def drain() -> None:
        # Keep reading: a full pipe would block the portal's logging, and so the portal.
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "installer portal:" in line:
                started.set()
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        started.wait(timeout=60)
        if process.poll() is not None or not any("installer portal:" in x for x in output):
            raise AssertionError(f"portal did not start: {''.join(output)}")
        yield Portal(f"http://127.0.0.1:{port}", database_url, mailbox)
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)
        controller.stop()


def run_with_browser(scenario: Callable[[Browser], None]) -> None:
    """Run ``scenario`` with its own Chromium, in a thread of its own.

    Playwright's sync API runs in its own thread: another test module's session-wide
    Playwright may still be running in this one.
    """

    def run() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            try:
                scenario(browser)
            finally:
                browser.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


# Module scope: sync Playwright keeps an event loop running in the main thread while it is
# open, so it must be closed before a parallel worker goes on to asyncio tests.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Chromium of the system (never downloaded)."""
    browser = playwright_instance.chromium.launch(
        executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


class LoopThread:
    """An event loop in a thread, for the simulated Home Assistant (Playwright is sync)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    try:
        yield thread
    finally:
        thread.stop()


class FakeHomeAssistant:
    """The simulated Home Assistant, driven from the test's thread."""

    def __init__(self, loop: LoopThread, ha: HomeAssistant) -> None:
        self.loop = loop
        self.ha = ha

    def send(self, frame: dict[str, Any]) -> None:
        self.loop.run(self.ha.send(frame))

    def expect(self, kind: str) -> dict[str, Any]:
        frame = self.loop.run(self.ha.expect(kind, 20))
        if kind != "ack":
            self.send(sim.frame("ack", {"id": frame["id"]}))
        return frame

    def grant(self, request_id: str | None, until: datetime, kinds: list[str]) -> None:
        payload = {
            "request_id": request_id,
            "state": "granted",
            "until": until.isoformat(),
            "kinds": kinds,
        }
        self.send(sim.frame("window", payload))
        self.expect("ack")

    def answer(self, action: dict[str, Any], ok: bool = True) -> None:
        result = {
            "action_id": action["payload"]["action_id"],
            "ok": ok,
            "at": datetime.now(UTC).isoformat(),
        }
        self.send(sim.frame("action_result", result))
        self.expect("ack")


def run_on_core[R](database_url: str, work: Callable[[Core], Awaitable[R]]) -> R:
    """Run ``work`` on the portal's database, beside the loop Playwright's sync API owns."""

    async def run() -> R:
        core = build_core(Settings(database_url=database_url, secret_key="x" * 40))
        try:
            return await work(core)
        finally:
            await core.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


async def add_admin(
    core: Core, *, company: str, email: str, name: str, password: str, language: str
) -> int:
    """A new company and its administrator, address confirmed; returns the company's id."""
    password_hash = await core.passwords.hash(password)
    async with core.tx() as db:
        now = core.now()
        row = Company(name=company, created_at=now)
        db.add(row)
        await db.flush()
        db.add(
            User(
                company_id=row.id,
                email=email,
                name=name,
                password_hash=password_hash,
                role=Role.ADMIN.value,
                language=language,
                failed_logins=0,
                created_at=now,
                email_confirmed_at=now,
            )
        )
        return row.id


def create_company_admin(database_url: str) -> None:
    """The administrator ``ADMIN_EMAIL`` of a new company, in the portal's database."""

    async def create() -> None:
        core = build_core(
            Settings(
                database_url=database_url,
                secret_key="x" * 40,
                argon2_time_cost=1,
                argon2_memory_kib=8,
                argon2_parallelism=1,
            )
        )
        try:
            await create_admin(
                core,
                company_name="Alpes Domotique",
                name="Léa",
                email=ADMIN_EMAIL,
                password=PASSWORD,
            )
        finally:
            await core.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result()


def log_in_as_admin(page: Page, portal: Portal) -> None:
    """Create the company's administrator and log in with the form."""
    create_company_admin(portal.database_url)
    page.goto(portal.url + "/login")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/installations$"))


def mailed_code(portal: Portal, to: str) -> str:
    """The validation code of the newest "link your Somfy box" e-mail to ``to``."""
    message = portal.mailbox.wait_for(to, lambda m: "link your Somfy box" in str(m["Subject"]))
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert portal.url in body and "Link an installer" in body
    match = CODE_RE.search(body)
    assert match, body
    return match.group(1)


@contextlib.contextmanager
def linked_box(
    page: Page,
    portal: Portal,
    loop_thread: LoopThread,
    *,
    pin: str = sim.PIN,
    name: str = "",
    customer_language: str = "",
) -> Iterator[FakeHomeAssistant]:
    """The box registered with the form (in the page's language), then linked from Home
    Assistant with the mailed code, monitoring granted and its products sent."""
    page.goto(portal.url + "/installations/registrations/new")
    form = page.locator('form[action="/installations/registrations"]')
    form.locator('[name="pin"]').fill(pin)
    form.locator('[name="email"]').fill(CUSTOMER)
    if name:
        form.locator('[name="name"]').fill(name)
    if customer_language:
        form.locator('[name="language"]').select_option(customer_language)
    form.locator('button[type="submit"]').click()
    code = mailed_code(portal, CUSTOMER)

    async def make() -> HomeAssistant:
        return HomeAssistant(portal.url)  # its client session belongs to the loop thread

    client = loop_thread.run(make())
    try:
        assert loop_thread.run(client.link(code))[0] == 200
        loop_thread.run(client.connect())
        loop_thread.run(client.hello(monitoring=True))
        ha = FakeHomeAssistant(loop_thread, client)
        ha.send(sim.snapshot(devices()))
        yield ha
    finally:
        loop_thread.run(client.close())
