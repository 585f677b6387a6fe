"""The one error type every domain raises, carrying a stable code.

Each domain declares its codes in an enum in its own errors.py; the API turns
any DomainError into RFC 9457 problem+json in one place, and the web views show
its message. Tests assert the code, never the wording.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Base for domain code enums; values are stable, dotted-free snake case."""


class CommonErrorCode(ErrorCode):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    CONFLICT = "conflict"


# HTTP status for each kind of failure; domains map their codes to one of these.
STATUS_BY_KIND = {
    "not_found": 404,
    "permission_denied": 403,
    "invalid": 422,
    "conflict": 409,
}


class DomainError(Exception):
    """A refusal with a code, a human message and the HTTP status it maps to."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = extra or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!s}, {self.message!r})"


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(CommonErrorCode.NOT_FOUND, f"{what} {ident} was not found.", status=404)


class PermissionDenied(DomainError):
    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(CommonErrorCode.PERMISSION_DENIED, message, status=403)


class Invalid(DomainError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(CommonErrorCode.INVALID, message, status=422, field=field)
