from caseloop.core.errors import DomainError, ErrorCode


class FeedbackErrorCode(ErrorCode):
    TOKEN_INVALID = "token_invalid"  # noqa: S105  (an error code, not a password)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105
    BAD_ANSWER = "bad_answer"
    BAD_RULE = "bad_rule"
    FOLLOW_UP_ANSWERED = "follow_up_answered"
    FOLLOW_UP_NOT_DUE = "follow_up_not_due"
    THANK_YOU_DONE = "thank_you_done"
    CASE_CLOSED = "case_closed"
    NO_CHANNEL = "no_channel"  # nothing can carry a message to the customer: thank them by phone


class FeedbackError(DomainError):
    def __init__(
        self,
        code: FeedbackErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
