from caseloop.core.errors import DomainError, ErrorCode


class PromiseErrorCode(ErrorCode):
    NO_OWNER = "no_owner"
    BAD_DUE = "bad_due"
    EMPTY_PROMISE = "empty_promise"
    NOT_OPEN = "promise_not_open"
    REASON_REQUIRED = "reason_required"


class PromiseError(DomainError):
    def __init__(
        self,
        code: PromiseErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
