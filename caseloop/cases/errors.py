from caseloop.core.errors import DomainError, ErrorCode


class CaseErrorCode(ErrorCode):
    ILLEGAL_TRANSITION = "illegal_transition"
    ALREADY_CLOSED = "already_closed"
    EMPTY_MESSAGE = "empty_message"
    UNKNOWN_CUSTOM_FIELD = "unknown_custom_field"
    BAD_CUSTOM_FIELD = "bad_custom_field"
    MISSING_REQUIRED_FIELD = "missing_required_field"
    ASSET_NOT_AT_SITE = "asset_not_at_site"
    ASSIGNEE_NOT_STAFF = "assignee_not_staff"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    BAD_TAG = "bad_tag"
    NOTE_NOT_ALLOWED = "note_not_allowed"
    BAD_QUERY = "bad_query"
    CUSTOM_FIELD_EXISTS = "custom_field_exists"
    MACRO_NAME_TAKEN = "macro_name_taken"
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"
    VIEW_NAME_TAKEN = "view_name_taken"
    BAD_FILTER = "bad_filter"
    EXTERNAL_ID_TAKEN = "external_id_taken"


class CaseError(DomainError):
    def __init__(
        self,
        code: CaseErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
