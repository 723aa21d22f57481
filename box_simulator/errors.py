"""Errors the way a real box reports them: HTTP status plus ``{"errorCode", "error"}``."""

from __future__ import annotations


class BoxError(Exception):
    """An error answered to the client as the box would."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        """Keep the HTTP status, the Overkiz error code and the message."""
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        """Return the JSON body real boxes send."""
        return {"errorCode": self.error_code, "error": self.message}


def not_authenticated() -> BoxError:
    """Wrong or revoked token."""
    return BoxError(401, "RESOURCE_ACCESS_DENIED", "Not authenticated.")


def missing_token() -> BoxError:
    """No Authorization header."""
    return BoxError(401, "RESOURCE_ACCESS_DENIED", "Missing authorization token.")


def no_such_device(url: str) -> BoxError:
    """A device URL the box does not know."""
    return BoxError(400, "NO_SUCH_DEVICE", f'No such device : "{url}"')


def no_such_command(name: str) -> BoxError:
    """A command the device does not have."""
    return BoxError(400, "UNSUPPORTED_OPERATION", f"No such command : {name}")


def invalid_parameters(command: str, detail: str) -> BoxError:
    """Wrong parameter count or type for a command."""
    return BoxError(
        400, "INVALID_FIELD_VALUE", f"Invalid parameters for command {command} : {detail}"
    )


def no_listener() -> BoxError:
    """Unknown, expired or forgotten event listener."""
    return BoxError(400, "UNSPECIFIED_ERROR", "No registered event listener")


def no_such_resource() -> BoxError:
    """A path the API does not have."""
    return BoxError(404, "INVALID_API_CALL", "No such resource")


def bad_request(message: str) -> BoxError:
    """A body the box cannot read."""
    return BoxError(400, "UNSPECIFIED_ERROR", message)


def unknown_object() -> BoxError:
    """An execution or object id the box does not know."""
    return BoxError(400, "UNSPECIFIED_ERROR", "Unknown object.")
