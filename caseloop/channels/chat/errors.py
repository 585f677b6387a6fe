from caseloop.core.errors import DomainError, ErrorCode


class ChatErrorCode(ErrorCode):
    WIDGET_NOT_FOUND = "widget_not_found"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # the page's origin is not on the widget's list
    BAD_ORIGIN = "bad_origin"  # an allowed-origins entry that is not an origin
    BAD_HOURS = "bad_hours"
    # no chat with that visitor token (or it belongs to another widget); a code, not a password
    BAD_TOKEN = "bad_token"  # noqa: S105
    CHAT_ENDED = "chat_ended"
    TOO_LONG = "too_long"
    EMPTY = "empty"
    RATE_LIMITED = "rate_limited"
    NOBODY_AVAILABLE = "nobody_available"  # the widget should offer the email form instead
    WIDGET_NAME_TAKEN = "widget_name_taken"


class ChatError(DomainError):
    pass
