"""Tickets by e-mail in the demo: how to send the demo customer's first mail (nothing to seed)."""

from __future__ import annotations

from companion_server.demo import PORTAL_USERS
from companion_server.demo.customers import DEMO_PIN

DEMO_CUSTOMER = PORTAL_USERS[0][0]


def mail_hint(host: str, port: int) -> str:
    """A command that mails the endpoint as the demo customer, naming the demo box's PIN."""
    message = (
        f"From: {DEMO_CUSTOMER}\\nSubject: Shutter stuck, box {DEMO_PIN}\\n\\nIt no longer moves."
    )
    return (
        f"  Try it: python -c \"import smtplib; smtplib.SMTP('{host}', {port}).sendmail("
        f"'{DEMO_CUSTOMER}', 'help@demo.example', '{message}')\""
    )
