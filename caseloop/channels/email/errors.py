from caseloop.core.errors import DomainError, ErrorCode


class EmailErrorCode(ErrorCode):
    UNPARSEABLE = "unparseable"  # raised by parsing; the message goes to quarantine
    NOT_REPROCESSABLE = "not_reprocessable"
    MAILBOX_EXISTS = "mailbox_exists"
    BAD_ADDRESS = "bad_address"
    NO_RECIPIENT = "no_recipient"
    # sealed with a key that is no longer configured (an error code, not a password)
    PASSWORD_UNREADABLE = "password_unreadable"  # noqa: S105


class EmailError(DomainError):
    def __init__(
        self,
        code: EmailErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
