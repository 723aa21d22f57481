"""Mail: an outbox table written in the same transaction as the change it reports, and a
worker that delivers it by SMTP (aiosmtplib) with retry and backoff.
"""
