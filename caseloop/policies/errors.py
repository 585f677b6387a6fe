from caseloop.core.errors import DomainError, ErrorCode


class PolicyErrorCode(ErrorCode):
    INTEGRITY_RULE = "integrity_rule"
    REASON_REQUIRED = "guideline_reason_required"
    REASON_TOO_SHORT = "reason_too_short"
    BAD_CONDITION = "bad_condition"
    RULE_NAME_TAKEN = "rule_name_taken"
    BAD_RULE = "bad_rule"
    BAD_AMOUNT = "bad_amount"
    CURRENCY_MISMATCH = "currency_mismatch"
    ABOVE_AUTHORITY = "above_authority"
    NO_APPROVER = "no_approver"
    NOT_APPROVER = "not_approver"
    APPROVAL_CLOSED = "approval_closed"
    BAD_LIMIT = "bad_limit"
    LIMIT_EXISTS = "limit_exists"
    CASE_CLOSED = "case_closed"


class PolicyError(DomainError):
    def __init__(
        self,
        code: PolicyErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
