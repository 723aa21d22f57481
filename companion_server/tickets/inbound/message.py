"""Reading a received message: who sent it, whether a robot did, what it asks and names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
import html
import re

from companion_server.parsing import normalize_pin

# RFC 3834 and list software: mail a program sent, which is never answered nor taken in.
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help")
# Results of an Authentication-Results method (RFC 8601) that mean the check failed.
_FAILED = frozenset({"fail", "permerror"})
_METHOD = re.compile(r"^\s*(dkim|spf)\s*=\s*([a-z]+)", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|tr|odp|sv|vs|rv|enc)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_TICKET_NUMBER = re.compile(r"(?<![\w-])T-([0-9]{6,9})(?![0-9])")
_PIN_LIKE = re.compile(r"(?<![0-9])[0-9]{4}[-\s]?[0-9]{4}[-\s]?[0-9]{4}(?![0-9])")
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# Beyond this, the text is not needed to find the PIN nor kept in the ticket.
MAX_TEXT = 20_000


class Malformed(ValueError):
    """The message cannot be read (no single sender address, unreadable parts)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the intake needs of one message."""

    sender: str  # the From address, lower-case
    reply_to: str | None  # the envelope sender replies go to (RFC 3834); None: null sender
    subject: str
    text: str
    attachments: tuple[str, ...]
    message_id: str | None
    sent_at: datetime | None
    automatic: bool  # auto-submitted, bulk or list mail
    authentication_failed: bool  # the relay's DKIM or SPF check failed

    @property
    def ticket_number(self) -> str | None:
        """The ticket number the subject quotes (``T-000042``), if any."""
        found = _TICKET_NUMBER.search(self.subject)
        return f"T-{found.group(1)}" if found else None

    @property
    def normalized_subject(self) -> str:
        """The subject without reply/forward prefixes, spaces folded, case ignored."""
        return " ".join(_REPLY_PREFIX.sub("", self.subject).split()).casefold()

    def named_pins(self) -> list[str]:
        """The box PINs the subject and the text name, in order of appearance."""
        pins = []
        for found in _PIN_LIKE.finditer(f"{self.subject}\n{self.text}"):
            pin = normalize_pin(found.group(0).replace("-", ""))
            if pin and pin not in pins:
                pins.append(pin)
        return pins


def read(raw: bytes, envelope_from: str | None) -> Incoming:
    """Parse a message as received; :class:`Malformed` when it cannot be understood."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        sender = _single_address(message.get_all("From") or [])
        subject = _clean(str(message.get("Subject") or "")).strip()
        text, attachments = _content(message)
        message_id = str(message.get("Message-ID") or "").strip() or None
        sent_at = _date(message)
        automatic = _automatic(message, envelope_from)
        failed = any(_failed(str(value)) for value in message.get_all("Authentication-Results", []))
    except (
        HeaderParseError,
        MessageError,
        LookupError,
        UnicodeError,
        ValueError,
        TypeError,
    ) as err:
        raise Malformed(f"unreadable message ({type(err).__name__})") from err
    return Incoming(
        sender=sender,
        reply_to=(envelope_from or "").strip().lower() or None,
        subject=subject[:300],
        text=text,
        attachments=attachments,
        message_id=message_id[:500] if message_id else None,
        sent_at=sent_at,
        automatic=automatic,
        authentication_failed=failed,
    )


def _single_address(values: list[object]) -> str:
    addresses = [addr for _name, addr in getaddresses([str(v) for v in values]) if addr]
    if len(addresses) != 1 or addresses[0].count("@") != 1 or len(addresses[0]) > 254:
        raise Malformed("the message needs exactly one sender address in From")
    address = addresses[0].strip().lower()
    if _CONTROL.search(address) or " " in address:
        raise Malformed("the sender address is not valid")
    return address


def _content(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = str(body.get_content())
        if body.get_content_subtype() == "html":
            text = html.unescape(_TAG.sub(" ", text))
    names = []
    for part in message.iter_attachments():
        name = part.get_filename() or part.get_content_type()
        names.append(_clean(name).strip()[:200])
    return _clean(text)[:MAX_TEXT], tuple(names)


def _clean(text: str) -> str:
    """Text fit for a ticket: line ends kept, other control characters dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", text)


def _date(message: EmailMessage) -> datetime | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        sent = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return sent.astimezone(UTC) if sent.tzinfo else None


def _automatic(message: EmailMessage, envelope_from: str | None) -> bool:
    if not (envelope_from or "").strip("<> "):
        return True  # null sender: a bounce or a notification
    auto = str(message.get("Auto-Submitted") or "no").split(";")[0].strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    listed = any(message.get(name) is not None for name in _LIST_HEADERS)
    return auto != "no" or precedence in _BULK_PRECEDENCE or listed


def _failed(value: str) -> bool:
    """Whether an Authentication-Results header reports a failed DKIM or SPF check."""
    _authserv_id, _, results = value.partition(";")
    for part in results.split(";"):
        found = _METHOD.match(part)
        if found and found.group(2).lower() in _FAILED:
            return True
    return False
