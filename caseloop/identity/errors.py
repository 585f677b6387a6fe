from caseloop.core.errors import DomainError, ErrorCode


class IdentityErrorCode(ErrorCode):
    USERNAME_TAKEN = "username_taken"
    EMAIL_TAKEN = "email_taken"
    TOKEN_INVALID = "token_invalid"
    TOKEN_REVOKED = "token_revoked"
    TEAM_NAME_TAKEN = "team_name_taken"
    WEAK_PASSWORD = "weak_password"
    LOGIN_LOCKED = "login_locked"
    LOGIN_INVALID = "login_invalid"


class IdentityError(DomainError):
    def __init__(self, code: IdentityErrorCode, message: str, *, status: int = 422) -> None:
        super().__init__(code, message, status=status)
