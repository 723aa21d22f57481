"""Tickets by e-mail (D2, D3): an SMTP endpoint that turns customers' mail into tickets.

``message`` reads a received message, ``intake`` decides what it becomes (a ticket, a
comment on one, nothing, or a refusal answered once an hour), ``endpoint`` is the aiosmtpd
server the app starts and stops.
"""
