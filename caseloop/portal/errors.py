from caseloop.core.errors import DomainError, ErrorCode


class PortalErrorCode(ErrorCode):
    LINK_INVALID = "link_invalid"
    LINK_EXPIRED = "link_expired"
    LINK_USED = "link_used"
    RATE_LIMITED = "rate_limited"
    NOT_A_CUSTOMER = "not_a_customer"


class PortalError(DomainError):
    def __init__(
        self,
        code: PortalErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
