"""Mail: an outbox table and a worker delivering it by SMTP.

Messages are written in the same transaction as the change they report and delivered by
aiosmtplib with retry and backoff.
"""
