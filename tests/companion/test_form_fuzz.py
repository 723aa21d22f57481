"""Every form route survives generated input: whatever is posted, never a 5xx.

Property-based (hypothesis): the POST rows of the authorization matrix's route table (so a
new route is covered by construction), logged in with a role allowed to use the route, a
valid CSRF token, and generated values (text, Unicode digits, huge, empty, control
characters, CR/LF) for the route's fields and every field name the templates use. The
portal runs on SQLite in a thread of its own, so that hypothesis drives it synchronously.
The world is built once and copied back before every example (SQLite's backup API, safe
under the portal's open connections), so each example meets the same fresh objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
import dataclasses
from pathlib import Path
import re
import shutil
import sqlite3
import tempfile
import threading
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.security import csrf
from companion_server.settings import RateLimit, RateLimits, Settings
from tests.companion.conftest import SECRET, fast_settings
from tests.companion.helpers import PASSWORD, FakeClock, free_port
from tests.companion.test_authz_matrix import (
    ADMIN,
    ANON,
    CUSTOMER,
    HOME,
    INSTALLER,
    LOGIN,
    SUPPORT,
    TABLE,
    Row,
    World,
    build_world,
)

T = TypeVar("T")

# No .hypothesis folder in the working tree: examples are not kept between runs.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="portal-hypothesis-"))

TEMPLATES = Path(__file__).resolve().parents[2] / "companion_server" / "templates"
FIELD_RE = re.compile(r'name="([^"{}]+)"')
NOT_FIELDS = {"csrf_token", "viewport"}
POST_ROWS = [row for row in TABLE if row.method == "POST"]

ARABIC_PIN = "1234-5678-9012".translate({ord("0") + n: 0x0660 + n for n in range(10)})
values = st.one_of(
    st.text(max_size=40),
    # ASCII, superscript, Arabic-Indic, Devanagari and fullwidth digits
    st.text(alphabet="0123456789²³¹\u0660\u0661\u0663\u096a\u096d\uff16", min_size=1, max_size=8),
    st.text(alphabet=st.characters(max_codepoint=0x20) | st.sampled_from("\x7f\u2028\x85"))
    .map(lambda text: "/" + text),
    st.sampled_from(
        ["", "0", "-1", "-5", "100", "9" * 40, "\r\n", "/x\r\nSet-Cookie: a=b", "\x00",
         "//evil.example", ARABIC_PIN,
         "1234-5678-9012", "on", "customer", "installer"]
    ),
    st.integers(min_value=300, max_value=70_000).map(lambda n: "é9" * n),
)  # fmt: skip


def template_fields() -> set[str]:
    """Every plain field name the portal's forms use."""
    names: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        names.update(FIELD_RE.findall(path.read_text(encoding="utf-8")))
    return names - NOT_FIELDS


def role_for(row: Row) -> str:
    """A role that may use the route on its own company's objects."""
    for role in (ADMIN, INSTALLER, CUSTOMER, SUPPORT, ANON):
        expect = row.expect[role]
        own = expect[0] if isinstance(expect, tuple) else expect
        if own not in (LOGIN, HOME, 403):
            return role
    raise AssertionError(f"nobody may use {row.route}")


class ThreadedPortal:
    """The portal app served from an event loop in its own thread."""

    def __init__(self, settings: Settings, database: Path) -> None:
        self.database = database
        self.pristine = database.with_name("pristine.db")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = free_port()
        self.runner = web.AppRunner(create_app(settings, clock=FakeClock()))
        self.run(self._start())
        self.http = self.run(self._session())
        self.password_hash = self.run(self.core.passwords.hash(PASSWORD))
        self.world = self.run(build_world(self.core, self.password_hash))
        self._copy(self.database, self.pristine)

    def restore(self) -> None:
        """Put the database back as it was right after the world was built."""
        self._copy(self.pristine, self.database)

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        with sqlite3.connect(source) as src, sqlite3.connect(target, timeout=30) as dst:
            src.backup(dst)
        src.close()
        dst.close()

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    @property
    def core(self) -> Core:
        core: Core = self.runner.app[CORE]
        return core

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    async def post(self, row: Row, world: World, form: dict[str, str]) -> int:
        role = role_for(row)
        path = row.path or row.route.format(
            **{**world.own, **{k: world.own[v] for k, v in row.rename.items()}},
            token=world.tokens_own.get(str(row.token), ""),
        )
        seed = world.sessions.get(role)
        if seed is None:  # anonymous: the CSRF token is bound to a cookie of its own
            seed = "anonymous-fuzzing-visitor"
            cookie = f"portal_csrf={seed}"
        else:
            cookie = f"portal_session={seed}"
        url = f"http://127.0.0.1:{self.port}{path}"
        headers = {"Cookie": cookie}
        if path.startswith("/api/"):
            request = self.http.post(url, json=form, headers=headers)
        else:
            form = {**form, "csrf_token": csrf.make_token(SECRET, seed)}
            request = self.http.post(url, data=form, headers=headers, allow_redirects=False)
        async with request as response:
            await response.read()
            return response.status

    def close(self) -> None:
        self.run(self.http.close())
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def portal(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedPortal]:
    """One portal for the module, with limits out of the way so that input reaches deep."""
    target = tmp_path_factory.mktemp("fuzz") / "portal.db"
    shutil.copy(_sqlite_template, target)
    generous = {field.name: RateLimit(10**6, 3600) for field in dataclasses.fields(RateLimits)}
    running = ThreadedPortal(
        fast_settings(
            f"sqlite+aiosqlite:///{target}",
            rate_limits=RateLimits(**generous),
            documents_dir=str(target.parent / "documents"),
        ),
        target,
    )
    try:
        yield running
    finally:
        running.close()


def test_the_fields_come_from_the_templates() -> None:
    assert {"hours", "devices", "remote_id", "successor_id", "user_id", "next"} <= (
        template_fields()
    )
    assert len(POST_ROWS) > 25


ALL_FIELDS = sorted(template_fields() | {key for row in POST_ROWS for key in row.form})
# Each field is left valid (or out) or given a generated value; a few generated names too.
forms = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(ALL_FIELDS, values)
    | {"extra": st.dictionaries(st.text(max_size=20), values, max_size=3)},
)


def everywhere(value: str) -> dict[str, Any]:
    """One value in every field, and in a field name of the alert settings' kind."""
    return dict.fromkeys(ALL_FIELDS, value) | {"extra": {f"alert-{value}-fire": "on"}}


@pytest.mark.parametrize("row", POST_ROWS, ids=lambda row: row.route)
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(form=everywhere("²"))
@example(form=everywhere("\u0663"))
@example(form=everywhere("-5"))
@example(form=everywhere("/x\r\nSet-Cookie: a=b"))
@example(form=everywhere(""))
@example(form=everywhere("9" * 100_000))
@given(form=forms)
def test_generated_form_input_never_gives_a_5xx(
    portal: ThreadedPortal, row: Row, form: dict[str, Any]
) -> None:
    portal.restore()
    world = portal.world
    fill = {**world.own, **{key: world.own[source] for key, source in row.rename.items()}}
    valid = {key.format(**fill): value.format(**fill) for key, value in row.form.items()}
    generated = {key.format(**fill): value for key, value in form.items() if key != "extra"}
    status = portal.run(portal.post(row, world, valid | generated | form.get("extra", {})))
    assert status < 500, (row.route, form)
