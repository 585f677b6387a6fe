from caseloop.core.errors import DomainError, ErrorCode


class SlaErrorCode(ErrorCode):
    BAD_CALENDAR = "bad_calendar"
    BAD_POLICY = "bad_policy"
    NAME_TAKEN = "sla_name_taken"
    CALENDAR_IN_USE = "calendar_in_use"


class SlaError(DomainError):
    def __init__(
        self,
        code: SlaErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
