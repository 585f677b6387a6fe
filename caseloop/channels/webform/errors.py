from caseloop.core.errors import DomainError, ErrorCode


class WebFormErrorCode(ErrorCode):
    RATE_LIMITED = "rate_limited"
    UNKNOWN_TOPIC = "unknown_topic"
    BAD_FORM_TOKEN = "bad_form_token"  # noqa: S105  (an error code, not a password)
    TOO_MANY_FILES = "too_many_files"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"


class WebFormError(DomainError):
    def __init__(
        self,
        code: WebFormErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
