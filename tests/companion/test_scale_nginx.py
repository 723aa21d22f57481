"""Two portal processes behind a real nginx (deploy/nginx/somfy-pro.conf) on one PostgreSQL.

nginx runs unprivileged with its own configuration, pid and logs in a temporary directory,
terminating TLS with a certificate made here; everything listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
from dataclasses import dataclass
import datetime as dt
import ipaddress
import os
from pathlib import Path
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest
from sqlalchemy import func, select

from companion_server.core import Core, build_core
from companion_server.mail.outbox import MailKind
from companion_server.models import Alert, OutboxMessage
from companion_server.monitoring.services import save_alert_settings
from tests.companion import ha as sim
from tests.companion.conftest import SECRET, _with_database, fast_settings
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import PASSWORD, PortalClient, free_port, psql

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "somfy-pro.conf"


@pytest.fixture
def database_url(
    postgres_admin_url: str, _postgres_template: str, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (the instances' only coordination)."""
    name = f"portal_scale_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}"
    psql(postgres_admin_url, f"CREATE DATABASE {name} TEMPLATE {_postgres_template}")
    try:
        yield _with_database(postgres_admin_url, name)
    finally:
        psql(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def nginx_config(directory: Path, port: int, upstreams: list[int], cert: Path, key: Path) -> Path:
    """The shipped site file, pointed at the test's ports and certificate, in a main config."""
    site = SITE.read_text()
    site = re.sub(
        r"(upstream somfy_pro_portal \{)(.*?)(\n    keepalive)",
        lambda m: (
            m.group(1)
            + "".join(
                f"\n    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstreams
            )
            + m.group(3)
        ),
        site,
        flags=re.S,
    )
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (directory / "site.conf").write_text(site)
    temp = "".join(
        f"    {kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = directory / "nginx.conf"
    main.write_text(
        f"daemon off;\npid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'} info;\n"
        "worker_processes 1;\nevents { worker_connections 1024; }\n"
        f"http {{\n    access_log {directory / 'access.log'};\n{temp}"
        f"    include {directory / 'site.conf'};\n}}\n"
    )
    return main


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_instance(
    database_url: str, public_url: str, port: int | None = None, **settings: str
) -> Instance:
    """A portal process; ``settings``: more ``COMPANION_*`` variables (name without prefix)."""
    port = port or free_port()
    env = {
        **os.environ,
        "COMPANION_SECRET_KEY": SECRET,
        "COMPANION_PUBLIC_URL": public_url,
        "COMPANION_TRUSTED_PROXIES": "127.0.0.1",
        "COMPANION_MAIL_WORKER": "false",
        "COMPANION_METRICS_ADDRESSES": "127.0.0.1",
        "COMPANION_AUTO_MIGRATE": "false",
        **{f"COMPANION_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "companion_server", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--database-url", database_url],
        env=env,
    )  # fmt: skip
    return Instance(port, process)


def start_nginx(directory: Path, config: Path) -> subprocess.Popen[bytes]:
    """nginx in the foreground, its prefix (temporary files) in ``directory``."""
    return subprocess.Popen([NGINX, "-p", str(directory), "-c", str(config)])


async def wait_http(session: aiohttp.ClientSession, url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        await asyncio.sleep(0.1)


async def connections(session: aiohttp.ClientSession, instance: Instance) -> float:
    """The instance's live Home Assistant channels, from its /metrics."""
    async with session.get(instance.url + "/metrics") as response:
        text = await response.text()
    match = re.search(r"^somfy_pro_ha_connections (\S+)$", text, re.M)
    assert match, text
    return float(match.group(1))


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[Core]:
    """The test's own view of the shared database."""
    test_core = build_core(fast_settings(database_url))
    yield test_core
    await test_core.close()


async def test_two_instances_behind_nginx(core: Core, database_url: str, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    proxy_port = free_port()
    public = f"https://127.0.0.1:{proxy_port}"
    instances = [start_instance(database_url, public) for _ in range(2)]
    config = nginx_config(tmp_path, proxy_port, [i.port for i in instances], cert, key)
    nginx = start_nginx(tmp_path, config)
    context = ssl.create_default_context(cafile=str(cert))
    session = aiohttp.ClientSession()
    ha = HomeAssistant(public)
    await ha.session.close()
    ha.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    installer: PortalClient | None = None
    try:
        for instance in instances:
            await wait_http(session, instance.url + "/healthz")
        await wait_http(ha.session, public + "/healthz")
        reg, admin_id = await registered(core)
        await save_alert_settings(core, admin_id, reg.installation_id, {(admin_id, "intrusion")})
        assert (await ha.link(reg.code))[0] == 200
        await ha.connect()
        await ha.hello(monitoring=False)
        counts = [await connections(session, i) for i in instances]
        assert sorted(counts) == [0, 1]
        a, b = (instances[0], instances[1]) if counts[0] == 1 else (instances[1], instances[0])

        # An installer on instance B asks for monitoring: the frame reaches A's connection.
        installer = PortalClient(b.url)
        await installer.session.close()
        # Straight to B, as nginx would forward it (the public URL is https: Secure cookies).
        installer.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[b.url]),
            headers={"X-Forwarded-Proto": "https"},
        )
        assert (await installer.login("boss@acme.example", PASSWORD)).status == 303
        page = await installer.post(f"/installations/{reg.installation_id}/monitoring")
        assert page.status == 303
        request = await ha.expect("request_monitoring")
        await ha.send(sim.consent("granted", request["payload"]["request_id"]))

        # A dies mid-stream: an alert raised meanwhile is sent again after the reconnection.
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        raised = sim.alert("failover-1")
        with contextlib.suppress(ConnectionError, aiohttp.ClientError):
            await ha.send(raised)
        deadline = time.monotonic() + 60
        while True:
            try:
                await ha.connect()
                break
            except aiohttp.ClientError:
                assert time.monotonic() < deadline, "no reconnection through nginx"
                await asyncio.sleep(0.5)
        await ha.hello(monitoring=True)
        assert await connections(session, b) == 1
        for _ in range(2):  # Home Assistant resends what was not acknowledged: twice here
            await ha.send(raised)
            await ha.expect("ack")
        async with core.tx() as db:
            alerts = await db.scalar(select(func.count()).select_from(Alert))
            mails = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == MailKind.ALERT.value)
            )
        assert (alerts, mails) == (1, 1)
    finally:
        if installer is not None:
            await installer.close()
        await ha.close()
        await session.close()
        nginx.send_signal(signal.SIGQUIT)
        for process in [nginx, *(i.process for i in instances)]:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)


async def test_a_busy_instance_is_not_taken_out_of_nginx(
    core: Core, database_url: str, tmp_path: Path
) -> None:
    """Its 503 reaches Home Assistant with the Retry-After; the instance stays in the upstream.

    Counted as a failure, every instance's 503 during a reconnection storm would leave nginx
    with none to send to: 502 "no live upstreams" to every Home Assistant for 10 s at a time.
    """
    cert, key = make_certificate(tmp_path)
    proxy_port = free_port()
    public = f"https://127.0.0.1:{proxy_port}"
    # No line: the handshake over the budget is answered 503 at once.
    instances = [
        start_instance(database_url, public, channel_handshakes="1", channel_queue_seconds="0")
        for _ in range(2)
    ]
    nginx = start_nginx(
        tmp_path, nginx_config(tmp_path, proxy_port, [i.port for i in instances], cert, key)
    )
    context = ssl.create_default_context(cafile=str(cert))
    homes = [HomeAssistant(public) for _ in range(4)]
    for home in homes:
        await home.session.close()
        home.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    try:
        for instance in instances:
            await wait_http(homes[0].session, instance.url + "/healthz")
        await wait_http(homes[0].session, public + "/healthz")
        reg, _ = await registered(core)
        assert (await homes[0].link(reg.code))[0] == 200
        for home in homes[1:]:
            home.token = homes[0].token
        # Upgraded, no hello yet: each instance's one handshake is taken.
        await homes[0].connect()
        await homes[1].connect()
        for _ in range(4):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await homes[2].connect()
            assert refused.value.status == 503
            assert refused.value.headers is not None
            assert int(refused.value.headers["Retry-After"]) >= 1
        await homes[0].close()
        await homes[1].close()
        # Both instances still take connections (neither was marked failed).
        for home in homes[2:]:
            for _ in range(50):
                with contextlib.suppress(aiohttp.WSServerHandshakeError):
                    await home.connect()
                    break
                await asyncio.sleep(0.1)
            welcome = await home.hello()
            assert welcome["payload"]["installation_id"] == reg.installation_id
    finally:
        for home in homes:
            await home.close()
        nginx.send_signal(signal.SIGQUIT)
        for process in [nginx, *(i.process for i in instances)]:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)
