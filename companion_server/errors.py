"""Errors raised by service functions; the web layer turns them into pages and statuses.

Messages are English message ids, translated when shown (see :mod:`companion_server.i18n`).
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``message`` is a message id."""

    def __init__(self, message: str = "", **params: object) -> None:
        """Keep the message id and its parameters."""
        super().__init__(message)
        self.message = message
        self.params = params


class NotFound(ServiceError):
    """The object does not exist for this user (also for another company's objects)."""


class Forbidden(ServiceError):
    """The user is known but their role does not allow the action."""


class RuleViolation(ServiceError):
    """A business rule refuses the action (e.g. a third administrator)."""


class RateLimited(ServiceError):
    """Too many attempts; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        """Keep the delay."""
        super().__init__("Too many attempts. Please wait a few minutes and try again.")
        self.retry_after = retry_after


class ValidationFailed(ServiceError):
    """Form input is invalid: ``errors`` maps field names to message ids."""

    def __init__(self, errors: dict[str, str]) -> None:
        """Keep the per-field message ids."""
        super().__init__("Please correct the highlighted fields.")
        self.errors = errors
