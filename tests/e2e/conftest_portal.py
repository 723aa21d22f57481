"""Fixtures of the portal's browser tests: a real portal process, a real SMTP server, Chromium.

Imported by ``tests/e2e/test_portal_*.py`` (not a conftest of its own, so other end-to-end
tests keep their fixtures). The portal runs as ``python -m companion_server serve`` on
127.0.0.1 with an SQLite file, delivering mail to an aiosmtpd server of the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
import os
from pathlib import Path
import re
import subprocess
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Playwright, sync_playwright
import pytest

from tests.portal_app import free_port

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


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Chromium of the system (never downloaded)."""
    browser = playwright_instance.chromium.launch(
        executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()
