from caseloop.core.errors import DomainError, ErrorCode


class SmsErrorCode(ErrorCode):
    BAD_NUMBER = "bad_number"
    EMPTY = "empty"


class SmsError(DomainError):
    pass
