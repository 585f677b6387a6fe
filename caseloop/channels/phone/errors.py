from caseloop.core.errors import DomainError, ErrorCode


class PhoneErrorCode(ErrorCode):
    IVR_INVALID = "ivr_invalid"  # the version breaks the IVR rules; `extra["problems"]` lists them
    IVR_NOT_DRAFT = "ivr_not_draft"  # only a draft can be changed or published
    IVR_NOT_JSON = "ivr_not_json"
    FLOW_NAME_TAKEN = "flow_name_taken"
    LINE_NUMBER_TAKEN = "line_number_taken"
    BAD_NUMBER = "bad_number"
    BAD_DURATION = "bad_duration"
    WEBHOOK_NOT_REPLAYABLE = "webhook_not_replayable"  # an interactive call-flow request, answered live or never
    WEBHOOK_IN_PROGRESS = "webhook_in_progress"  # received moments ago: its first processing may still be running


class PhoneError(DomainError):
    pass
