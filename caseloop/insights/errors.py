from caseloop.core.errors import DomainError, ErrorCode


class InsightsErrorCode(ErrorCode):
    BAD_RANGE = "bad_range"
    BAD_SEGMENT = "bad_segment"


class InsightsError(DomainError):
    def __init__(
        self,
        code: InsightsErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
