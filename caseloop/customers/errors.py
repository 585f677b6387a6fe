from caseloop.core.errors import DomainError, ErrorCode


class CustomerErrorCode(ErrorCode):
    IDENTITY_TAKEN = "identity_taken"
    IDENTITY_INVALID = "identity_invalid"
    MERGE_SAME_CONTACT = "merge_same_contact"
    CONTACT_MERGED = "contact_merged"
    BAD_DATE_RANGE = "bad_date_range"
    ORDER_REF_TAKEN = "order_ref_taken"
    BAD_AMOUNT = "bad_amount"
    BAD_COORDINATES = "bad_coordinates"
    BAD_ATTRIBUTES = "bad_attributes"
    CONTACT_NOT_IN_ORGANIZATION = "contact_not_in_organization"
    RELATION_EXISTS = "relation_exists"


class CustomerError(DomainError):
    def __init__(self, code: CustomerErrorCode, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(code, message, status=status, field=field)
