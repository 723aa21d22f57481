"""Portal settings: one frozen dataclass, filled from environment variables and CLI options.

Every field has a safe default so that ``python -m companion_server serve`` works alone:
SQLite under ``./data``, listening on 127.0.0.1:8080, mail kept in the outbox.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
import ipaddress
import os
from pathlib import Path
import secrets
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

ENV_PREFIX = "COMPANION_"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/companion.db"

SmtpTls = Literal["starttls", "tls", "none"]


class SettingsError(ValueError):
    """A setting has an invalid value."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` events per ``window_seconds`` for one key."""

    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The rate limits of the portal (per client IP address, e-mail address, session...)."""

    login_per_ip: RateLimit = RateLimit(20, 15 * 60)
    signup_per_ip: RateLimit = RateLimit(10, 3600)
    mail_per_address: RateLimit = RateLimit(3, 3600)
    reset_per_ip: RateLimit = RateLimit(10, 3600)
    # Reset mails per (requesting IP, address): a stranger cannot spend the owner's budget.
    reset_mail_per_requester: RateLimit = RateLimit(3, 3600)
    # Current-password checks of the access page (a stolen session guessing the password).
    password_check_per_session: RateLimit = RateLimit(5, 15 * 60)
    password_check_per_account: RateLimit = RateLimit(10, 3600)
    invitations_per_company: RateLimit = RateLimit(20, 86400)
    invitations_per_address: RateLimit = RateLimit(3, 86400)
    token_per_ip: RateLimit = RateLimit(30, 3600)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the portal can be told. Build with :meth:`from_env` or directly in tests."""

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    demo: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: SmtpTls = "starttls"
    smtp_timeout: float = 30.0
    mail_from: str = "Somfy Pro portal <no-reply@localhost>"
    trusted_proxies: tuple[str, ...] = ()
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    confirm_token_hours: int = 48
    reset_token_minutes: int = 60
    invitation_days: int = 7
    max_failed_logins: int = 3
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    mail_worker: bool = True
    # The channel's accept budget (hub.admission): handshakes at once, new connections a second,
    # and how long the line of handshakes waiting for a place may take (0: refused at once).
    channel_handshakes: int = 32
    channel_accept_rate: float = 1000.0
    channel_queue_seconds: float = 12.0
    # Who may read /metrics: a bearer token, or client addresses/networks (neither: off).
    metrics_token: str = ""
    metrics_addresses: tuple[str, ...] = ()
    mail_poll_seconds: float = 5.0
    mail_retry_base_seconds: float = 10.0
    mail_retry_max_seconds: float = 3600.0
    mail_max_attempts: int = 50
    # Forwards alarms to the companies' receiving centres (SIA DC-09).
    sia_worker: bool = True
    auto_migrate: bool = True
    database_busy_seconds: float = 3.0
    retention_interval_minutes: int = 60
    retention_batch: int = 1000
    retention_dedupe_days: int = 90
    retention_radio_full_days: int = 30
    retention_radio_days: int = 365
    retention_mail_days: int = 90
    # Installation records: documents on disk, the map (local Leaflet, tiles from a URL).
    documents_dir: str = "data/documents"
    document_max_bytes: int = 10 * 1024 * 1024
    import_max_bytes: int = 1024 * 1024
    leaflet_dir: str = "/usr/share/javascript/leaflet"
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    warranty_notice_days: int = 60
    # Tickets by e-mail: an SMTP endpoint a relay forwards the support addresses to (off by
    # default). Port 0 takes a free port, printed at start (the demo does so).
    inbound_smtp: bool = False
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = 2525
    inbound_mail_max_bytes: int = 10 * 1024 * 1024
    # Copies of one message (same sender, box PIN and subject) within this window: one ticket.
    inbound_dedupe_minutes: int = 60
    # Invoices: the TrueType fonts embedded in their PDFs (Debian's fonts-dejavu-core) and
    # the card provider (Stripe), off while its secret key is empty.
    invoice_font_dir: str = "/usr/share/fonts/truetype/dejavu"
    stripe_secret_key: str = field(default="", repr=False)
    stripe_webhook_secret: str = field(default="", repr=False)
    rate_limits: RateLimits = field(default_factory=RateLimits)

    def __post_init__(self) -> None:
        """Check the values and derive the public URL when none is given."""
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        if self.smtp_tls not in ("starttls", "tls", "none"):
            raise SettingsError("SMTP TLS must be one of starttls, tls, none")
        if not 0 < self.port < 65536 or not 0 < self.smtp_port < 65536:
            raise SettingsError("ports must be between 1 and 65535")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as err:
                raise SettingsError(f"trusted proxy {proxy!r} is not an IP address") from err
        for address in self.metrics_addresses:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError as err:
                raise SettingsError(f"metrics address {address!r} is not an IP address") from err
        if self.metrics_token and len(self.metrics_token) < 16:
            raise SettingsError("metrics token must be at least 16 characters")
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("public URL must be an absolute http:// or https:// URL")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if self.secret_key and len(self.secret_key) < 32:
            raise SettingsError("secret key must be at least 32 characters")
        self._check_storage()
        self._check_records()
        self._check_inbound()

    def _check_inbound(self) -> None:
        if not 0 <= self.inbound_smtp_port < 65536:
            raise SettingsError("inbound SMTP port must be between 0 (any free port) and 65535")
        if self.inbound_mail_max_bytes < 1024:
            raise SettingsError("inbound mail size limit must be at least 1024 bytes")
        if self.inbound_dedupe_minutes < 1:
            raise SettingsError("inbound de-duplication window must be at least one minute")

    def _check_records(self) -> None:
        if self.document_max_bytes < 1 or self.import_max_bytes < 1:
            raise SettingsError("document and import size limits must be at least 1 byte")
        if self.warranty_notice_days < 1:
            raise SettingsError("warranty notice must be at least one day")
        if self.map_tile_url:
            tiles = urlsplit(self.map_tile_url)
            placeholders = all(p in self.map_tile_url for p in ("{z}", "{x}", "{y}"))
            if tiles.scheme not in ("http", "https") or not tiles.netloc or not placeholders:
                raise SettingsError(
                    "map tile URL must be an http(s) URL with {z}, {x} and {y}, or empty"
                )

    @property
    def map_tile_origin(self) -> str:
        """The origin tiles come from (added to the map page's image sources), or ""."""
        if not self.map_tile_url:
            return ""
        parts = urlsplit(self.map_tile_url)
        # Leaflet's {s} subdomains become a wildcard host, which CSP understands.
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"

    def _check_storage(self) -> None:
        if self.channel_handshakes < 1 or not self.channel_accept_rate > 0:
            raise SettingsError("channel handshakes must be at least 1, accept rate above 0")
        # A place is waited for at most twice this: well within Home Assistant's 30 s.
        if not 0 <= self.channel_queue_seconds <= 12:
            raise SettingsError("channel queue seconds must be from 0 to 12")
        if not 0 < self.database_busy_seconds <= 60:
            raise SettingsError("database busy seconds must be more than 0 and at most 60")
        if self.retention_interval_minutes < 0 or self.retention_batch < 1:
            raise SettingsError("retention interval must be 0 (off) or more, batch at least 1")
        if min(self.retention_dedupe_days, self.retention_mail_days) < 1:
            raise SettingsError("retention periods must be at least one day")
        if not 1 <= self.retention_radio_full_days < self.retention_radio_days:
            raise SettingsError("radio history must be kept in full for less time than in all")

    @property
    def is_https(self) -> bool:
        """Whether the portal is published over HTTPS (then cookies are ``Secure``)."""
        return self.public_url.startswith("https://")

    @property
    def smtp_configured(self) -> bool:
        """Whether mail is delivered; otherwise it stays in the outbox."""
        return bool(self.smtp_host)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``COMPANION_*`` environment variables; ``overrides`` (CLI options) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for fld in dataclasses.fields(cls):
            if fld.name == "rate_limits":
                continue
            raw = env.get(ENV_PREFIX + fld.name.upper())
            if raw is None:
                continue
            values[fld.name] = _parse(fld.name, fld.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, kind: object, raw: str) -> Any:
    text = str(kind)
    try:
        if text == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
        if text.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as err:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: invalid value {raw!r}") from err
    return raw


def ensure_secret_key(settings: Settings, data_dir: Path = DEFAULT_DATA_DIR) -> Settings:
    """Return settings with a secret key: the given one, or one kept in ``data_dir/secret_key``.

    The generated key is written once with mode 0600, so sessions and CSRF tokens survive a
    restart of a single instance. Several instances must share ``COMPANION_SECRET_KEY``.
    """
    if settings.secret_key:
        return settings
    path = data_dir / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
    return settings.replace(secret_key=key)
