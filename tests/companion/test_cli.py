"""Settings, the command line, and ``serve --demo`` as ``make demo`` runs it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import re
import signal
import stat
import sys

import pytest

from companion_server.cli import main
from companion_server.db import head_revision
from companion_server.settings import Settings, SettingsError, ensure_secret_key
from tests.companion.helpers import PortalClient, free_port

ROOT = Path(__file__).resolve().parents[2]
_drains: set[asyncio.Task[None]] = set()


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "COMPANION_DATABASE_URL": "postgresql+asyncpg://u:p@db/portal",
            "COMPANION_PUBLIC_URL": "https://portal.example.com/",
            "COMPANION_SMTP_HOST": "smtp.example.com",
            "COMPANION_SMTP_PORT": "465",
            "COMPANION_SMTP_TLS": "tls",
            "COMPANION_DEMO": "yes",
            "COMPANION_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/24",
            "COMPANION_SECRET_KEY": "k" * 40,
        },
        port=9000,
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@db/portal"
    assert settings.public_url == "https://portal.example.com" and settings.is_https
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == (
        "smtp.example.com",
        465,
        "tls",
    )
    assert settings.demo and settings.port == 9000 and settings.smtp_configured
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.0/24")
    default = Settings.from_env({})
    assert default.database_url == "sqlite+aiosqlite:///data/companion.db"
    assert default.public_url == "http://127.0.0.1:8080" and not default.is_https
    assert not default.smtp_configured and default.host == "127.0.0.1"


@pytest.mark.parametrize(
    "env",
    [
        {"COMPANION_PORT": "eighty"},
        {"COMPANION_DEMO": "maybe"},
        {"COMPANION_DATABASE_URL": "mysql://x"},
        {"COMPANION_SMTP_TLS": "ssl3"},
        {"COMPANION_PUBLIC_URL": "portal.example.com"},
        {"COMPANION_TRUSTED_PROXIES": "proxy.local"},
        {"COMPANION_SECRET_KEY": "short"},
        {"COMPANION_PORT": "70000"},
        {"COMPANION_DATABASE_BUSY_SECONDS": "0"},
        {"COMPANION_RETENTION_BATCH": "0"},
        {"COMPANION_RETENTION_MAIL_DAYS": "0"},
        {"COMPANION_RETENTION_RADIO_FULL_DAYS": "400"},
        {"COMPANION_RETENTION_INTERVAL_MINUTES": "-1"},
    ],
)
def test_invalid_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_storage_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "COMPANION_DATABASE_BUSY_SECONDS": "1.5",
            "COMPANION_RETENTION_INTERVAL_MINUTES": "0",
            "COMPANION_RETENTION_DEDUPE_DAYS": "120",
            "COMPANION_RETENTION_RADIO_FULL_DAYS": "7",
            "COMPANION_RETENTION_RADIO_DAYS": "90",
            "COMPANION_RETENTION_MAIL_DAYS": "30",
            "COMPANION_RETENTION_BATCH": "200",
        }
    )
    assert settings.database_busy_seconds == 1.5 and settings.retention_interval_minutes == 0
    assert (settings.retention_dedupe_days, settings.retention_mail_days) == (120, 30)
    assert (settings.retention_radio_full_days, settings.retention_radio_days) == (7, 90)
    assert settings.retention_batch == 200
    default = Settings()
    assert (default.retention_dedupe_days, default.retention_mail_days) == (90, 90)
    assert (default.retention_radio_full_days, default.retention_radio_days) == (30, 365)


def test_secret_key_is_generated_once(tmp_path: Path) -> None:
    first = ensure_secret_key(Settings(), tmp_path)
    second = ensure_secret_key(Settings(), tmp_path)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert ensure_secret_key(Settings(secret_key="s" * 40), tmp_path).secret_key == "s" * 40


def test_migrate_create_admin_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("COMPANION_")]:
        monkeypatch.delenv(name)
    assert main(["migrate"]) == 0
    assert (tmp_path / "data" / "companion.db").exists()
    assert f"Database at revision {head_revision()}" in capsys.readouterr().out
    monkeypatch.setenv("COMPANION_ADMIN_PASSWORD", "operator password")
    args = ["create-admin", "--email", "Ops@Example.com", "--name", "Ops", "--company", "Ops Co"]
    assert main(args) == 0
    assert "Administrator ops@example.com created" in capsys.readouterr().out
    assert main(args) == 2
    assert "already has an account" in capsys.readouterr().err
    assert main(["lock", "ops@example.com"]) == 0
    assert main(["unlock", "ops@example.com"]) == 0
    assert main(["lock", "nobody@example.com"]) == 1
    key_file = tmp_path / "key"
    key_file.write_text("f" * 40 + "\n")
    assert main(["migrate", "--secret-key-file", str(key_file)]) == 0
    monkeypatch.setenv("COMPANION_PORT", "not a number")
    assert main(["migrate"]) == 2


async def _read_until(process: asyncio.subprocess.Process, marker: str) -> str:
    assert process.stdout is not None
    output = ""
    while marker not in output:
        line = await process.stdout.readline()
        if not line:
            raise AssertionError(f"the portal stopped: {output}")
        output += line.decode()
    return output


async def _run_demo(directory: Path, port: int) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "companion_server",
        "--log-level",
        "WARNING",
        "serve",
        "--demo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=directory,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = await _read_until(process, "Sign up your own company")

    async def drain() -> None:  # a full pipe would block the portal's logging
        assert process.stdout is not None
        while await process.stdout.read(65536):
            pass

    _drains.add(asyncio.create_task(drain()))
    return process, output


async def test_serve_demo_prints_logins_and_is_idempotent(tmp_path: Path) -> None:
    port = free_port()
    for run in range(2):
        process, output = await _run_demo(tmp_path, port)
        try:
            assert f"http://127.0.0.1:{port}/" in output
            assert "/demo/outbox" in output
            logins = dict(re.findall(r"(\S+@demo\.example)\s+password: (\S+)", output))
            homes = {
                "admin@demo.example": "/installations",
                "installer@demo.example": "/installations",
                "operator@demo.example": "/centre",
                "customer@demo.example": "/customer",
                "premium@demo.example": "/customer",
                "support@demo.example": "/tickets",
            }
            assert set(logins) == set(homes)
            assert "papillon / hirondelle" in output
            client = PortalClient(f"http://127.0.0.1:{port}")
            try:
                for email, password in logins.items():
                    page = await client.login(email, password)
                    assert (page.status, page.location) == (303, homes[email]), run
                    await client.post("/logout")
                # The operator's console: the demo home's intrusion, one case however many runs.
                await client.login("operator@demo.example", logins["operator@demo.example"])
                page = await client.get("/centre")
                assert page.status == 200 and "Demo home (monitored)" in page.text
                assert page.text.count("/centre/cases/") == 1
                # The demo customer has the two tickets of the demo house, once.
                await client.login("customer@demo.example", logins["customer@demo.example"])
                page = await client.get("/customer")
                assert page.text.count("data-ticket=") == 2 and "Demo house" in page.text
                await client.post("/logout")
                await client.login("admin@demo.example", logins["admin@demo.example"])
                page = await client.get("/team")
                assert page.status == 200 and "Demo Installers" in page.text
                assert page.text.count("@demo.example") >= 2
            finally:
                await client.close()
        finally:
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0
    # Safe defaults: SQLite file and secret key under ./data.
    assert (tmp_path / "data" / "companion.db").exists()
    assert (tmp_path / "data" / "secret_key").exists()
