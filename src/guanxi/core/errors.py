"""Domain errors. Services raise these; the API, pages and CLI render them (STYLE.md section 5).

Codes are stable API: integrators match on ``code``, never on ``message``.
"""

from typing import Any


class GuanxiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = str(message) if message else self.__class__.__name__
        self.details = details


class AuthenticationRequired(GuanxiError):
    status, code = 401, "authentication_required"


class PermissionDenied(GuanxiError):
    status, code = 403, "permission_denied"


class NotFound(GuanxiError):
    status, code = 404, "not_found"


class Conflict(GuanxiError):
    status, code = 409, "conflict"


class ValidationFailed(GuanxiError):
    """Input that parsed but breaks a rule. ``details`` maps field names to lists of messages."""

    status, code = 422, "validation_failed"


class StaleVersion(Conflict):
    code = "stale_version"
