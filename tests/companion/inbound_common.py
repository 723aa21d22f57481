"""Tickets by e-mail: a portal with its inbound SMTP endpoint, messages, a DKIM-checking relay."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

import aiosmtplib
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import dkim
from sqlalchemy import func, select

from companion_server.app_keys import CORE, INBOUND_SMTP_PORT
from tests.companion.test_mail import SmtpServer, mail_settings, start_portal

if TYPE_CHECKING:
    from aiohttp.test_utils import TestServer

    from companion_server.core import Core
    from tests.companion.helpers import FakeClock

PIN = "1234-5678-9012"  # the box of tickets_common.shop


@dataclass
class Portal:
    """A running portal with its inbound SMTP endpoint on a free port of 127.0.0.1."""

    server: TestServer
    core: Core
    port: int

    async def send(
        self,
        message: EmailMessage | bytes,
        *,
        sender: str | None = None,
        to: str = "help@acme.example",
    ) -> tuple[int, str]:
        """Deliver through a real SMTP session; the final reply code and text."""
        envelope = sender if sender is not None else _from(message)
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, timeout=10)
        await client.connect()
        try:
            await client.mail(envelope)
            await client.rcpt(to)
            raw = as_bytes(message) if isinstance(message, EmailMessage) else message
            try:
                response = await client.data(raw)
            except aiosmtplib.SMTPResponseException as err:
                return err.code, err.message
            return response.code, response.message
        finally:
            await client.quit()


def as_bytes(message: EmailMessage) -> bytes:
    """The message with CRLF line ends, as it travels over SMTP."""
    return message.as_bytes(policy=policy.SMTP)


def _from(message: EmailMessage | bytes) -> str:
    assert isinstance(message, EmailMessage)
    return str(message["From"]).rpartition("<")[2].rstrip(">")


async def open_portal(
    database_url: str, relay: SmtpServer, clock: FakeClock, **changes: Any
) -> Portal:
    """Start a portal whose outbound mail goes to ``relay`` and that takes mail in."""
    settings = mail_settings(database_url, relay, inbound_smtp=True, inbound_smtp_port=0, **changes)
    server = await start_portal(settings, clock)
    return Portal(server, server.app[CORE], server.app[INBOUND_SMTP_PORT])


def mail(
    clock: FakeClock,
    sender: str,
    subject: str,
    text: str = "The kitchen shutter no longer moves.",
    **headers: str,
) -> EmailMessage:
    """A plain message as a mail client writes it (Date from the test's clock)."""
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    message["To"] = "help@acme.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now)
    message["Message-ID"] = make_msgid(domain="client.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def count(core: Core, model: type) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


class DkimDomain:
    """A sending domain with an RSA key made here, and the relay that checks its mail."""

    def __init__(self, domain: str, selector: str = "mail") -> None:
        self.domain = domain
        self.selector = selector
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def sign(self, message: EmailMessage) -> bytes:
        """The message as the sender's mail server sends it: with a DKIM-Signature."""
        raw = as_bytes(message)
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_pem,
            include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"],
        )
        return signature + raw

    def _dns(self, name: bytes, timeout: int = 5) -> bytes | None:
        wanted = f"{self.selector}._domainkey.{self.domain}.".encode()
        return self.record if name in (wanted, wanted.rstrip(b".")) else None

    def relay(self, raw: bytes) -> bytes:
        """What the relay forwards: the message and the result of its own DKIM check."""
        verdict = "pass" if dkim.verify(raw, dnsfunc=self._dns) else "fail"
        header = (
            f"Authentication-Results: relay.acme.example; dkim={verdict} header.d={self.domain}"
        )
        return header.encode() + b"\r\n" + raw
