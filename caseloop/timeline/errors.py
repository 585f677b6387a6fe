from caseloop.core.errors import DomainError, ErrorCode


class TimelineErrorCode(ErrorCode):
    APPEND_ONLY = "append_only"
    BAD_SUBJECT = "bad_subject"


class TimelineError(DomainError):
    def __init__(self, code: TimelineErrorCode, message: str, *, status: int = 422) -> None:
        super().__init__(code, message, status=status)
