"""Command line: ``python -m companion_server COMMAND`` (serve, migrate, backup, accounts).

Every option also reads a ``COMPANION_*`` environment variable (see ``docs/portal.md``);
options win over the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
from pathlib import Path
import signal
import sys

from aiohttp import web

from companion_server import __version__, collector
from companion_server.accounts.operator import create_admin, lock_account
from companion_server.app import create_app
from companion_server.app_keys import CORE, INBOUND_SMTP_PORT
from companion_server.backup import (
    BackupError,
    backup_documents,
    backup_sqlite,
    pg_dump_command,
    sqlite_file,
)
from companion_server.core import build_core
from companion_server.db import current_revision, migrate
from companion_server.demo import DEMO_CONTACT_PASSWORDS, seed_demo
from companion_server.demo.inbound_mail import mail_hint
from companion_server.errors import ValidationFailed
from companion_server.settings import DEFAULT_DATA_DIR, Settings, SettingsError, ensure_secret_key

LOGGER = logging.getLogger("companion_server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m companion_server", description="Somfy Pro installer portal"
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--log-level", default=os.environ.get("COMPANION_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)

    def database(p: argparse.ArgumentParser) -> None:
        p.add_argument("--database-url", help="sqlite+aiosqlite:///... or postgresql+asyncpg://...")
        p.add_argument(
            "--secret-key-file",
            default=os.environ.get("COMPANION_SECRET_KEY_FILE"),
            help="file holding the secret key (else COMPANION_SECRET_KEY, else data/secret_key)",
        )

    serve = sub.add_parser("serve", help="run the portal (applies migrations first)")
    database(serve)
    serve.add_argument("--host", help="listening address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listening port (default 8080)")
    serve.add_argument("--public-url", help="URL users reach, used in e-mail links")
    serve.add_argument("--smtp-host")
    serve.add_argument("--smtp-port", type=int)
    serve.add_argument("--smtp-user")
    serve.add_argument("--smtp-tls", choices=["starttls", "tls", "none"])
    serve.add_argument("--mail-from")
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        dest="trusted_proxies",
        help="address of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeat)",
    )
    serve.add_argument("--demo", action="store_true", default=None, help="seed a demo company")

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    database(mig)

    backup = sub.add_parser(
        "backup", help="copy the database to a new file while the portal keeps serving"
    )
    database(backup)
    backup.add_argument("destination", type=Path, help="the new file (must not exist)")

    admin = sub.add_parser("create-admin", help="create a company and its administrator")
    database(admin)
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--company", required=True)
    admin.add_argument("--language", default="en", choices=["en", "fr", "es", "sk"])

    for name, text in (
        ("lock", "lock an account (suspected abuse)"),
        ("unlock", "unlock an account"),
    ):
        cmd = sub.add_parser(name, help=text)
        database(cmd)
        cmd.add_argument("email")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key, value in vars(args).items()
        if key
        in {
            "database_url",
            "host",
            "port",
            "public_url",
            "smtp_host",
            "smtp_port",
            "smtp_user",
            "smtp_tls",
            "mail_from",
            "demo",
        }
        and value is not None
    }
    if getattr(args, "trusted_proxies", None):
        overrides["trusted_proxies"] = tuple(args.trusted_proxies)
    if args.secret_key_file:
        overrides["secret_key"] = Path(args.secret_key_file).read_text(encoding="utf-8").strip()
    return ensure_secret_key(Settings.from_env(**overrides), DEFAULT_DATA_DIR)


def main(argv: list[str] | None = None) -> int:
    """Run a command; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = _settings(args)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    command = args.command
    if command == "serve":
        asyncio.run(_serve(settings))
        return 0
    if command == "migrate":
        return asyncio.run(_migrate(settings))
    if command == "backup":
        return _backup(settings, args.destination)
    if command == "create-admin":
        password = _admin_password()
        return asyncio.run(_create_admin(settings, args, password))
    return asyncio.run(_lock(settings, args.email, locked=command == "lock"))


async def _migrate(settings: Settings) -> int:
    core = build_core(settings)
    try:
        await migrate(core.engine)
        print(f"Database at revision {await current_revision(core.engine)}")
    finally:
        await core.close()
    return 0


def _backup(settings: Settings, destination: Path) -> int:
    try:
        source = sqlite_file(settings.database_url)
        if source is None:
            print("PostgreSQL: nothing written. Back up with pg_dump (password in PGPASSWORD):")
            print(pg_dump_command(settings.database_url, destination))
        else:
            size = backup_sqlite(source, destination, settings.database_busy_seconds)
            print(f"Backup written to {destination} ({size} bytes)")
        files = backup_documents(Path(settings.documents_dir), destination)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if files:
        print(f"Documents copied to {destination}.documents ({files} files)")
    return 0


def _admin_password() -> str:
    password = os.environ.get("COMPANION_ADMIN_PASSWORD")
    if password:
        return password
    if sys.stdin.isatty():
        first = getpass.getpass("Password (at least 10 characters): ")
        if first != getpass.getpass("Password again: "):
            print("error: the two passwords are not the same", file=sys.stderr)
            raise SystemExit(2)
        return first
    return sys.stdin.readline().rstrip("\n")


async def _create_admin(settings: Settings, args: argparse.Namespace, password: str) -> int:
    core = build_core(settings)
    try:
        await migrate(core.engine)
        user = await create_admin(
            core,
            company_name=args.company,
            name=args.name,
            email=args.email,
            password=password,
            language=args.language,
        )
    except ValidationFailed as err:
        for field, message in err.errors.items():
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    finally:
        await core.close()
    print(f"Administrator {user.email} created for company {args.company}")
    return 0


async def _lock(settings: Settings, email: str, *, locked: bool) -> int:
    core = build_core(settings)
    try:
        await migrate(core.engine)
        found = await lock_account(core, email, locked=locked)
    finally:
        await core.close()
    if not found:
        print(f"error: no account for {email}", file=sys.stderr)
        return 1
    print(f"{email} {'locked' if locked else 'unlocked'}")
    return 0


LISTEN_BACKLOG = 4096


async def _serve(settings: Settings) -> None:
    if settings.demo and settings.host not in ("127.0.0.1", "::1", "localhost"):
        LOGGER.warning("Demo mode on %s: anyone who can reach it reads every e-mail", settings.host)
    app = create_app(settings)
    # On SIGTERM, requests in progress get 10 s; idle keep-alive connections are closed.
    runner = web.AppRunner(app, access_log_format='%a "%r" %s %b %Tf', shutdown_timeout=10)
    await runner.setup()
    try:
        if settings.demo:
            logins = await seed_demo(app[CORE])
        # A deep accept queue: thousands of Home Assistants reconnect at once after a restart,
        # and those the kernel cannot queue retry a TCP handshake seconds later.
        site = web.TCPSite(runner, settings.host, settings.port, backlog=LISTEN_BACKLOG)
        await site.start()
        collector.settle()
        print(f"Somfy Pro installer portal: {settings.public_url}/", flush=True)
        if settings.database_url.startswith("sqlite"):
            print(f"Database: {settings.database_url}", flush=True)
        if settings.demo:
            print("Demo mode: e-mail is kept in the outbox:", f"{settings.public_url}/demo/outbox")
            for login in logins:
                print(f"  {login.role:<10} {login.email}  password: {login.password}")
            print(
                "  Monitoring centre: the demo home's contacts identify with the passwords",
                " / ".join(DEMO_CONTACT_PASSWORDS),
            )
            print(f"Sign up your own company at {settings.public_url}/signup", flush=True)
        if (inbound_port := app.get(INBOUND_SMTP_PORT)) is not None:
            host = settings.inbound_smtp_host
            print(f"Tickets by e-mail: SMTP on {host}:{inbound_port}", flush=True)
            if settings.demo:
                print(mail_hint(host, inbound_port), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
