from caseloop.core.errors import DomainError, ErrorCode


class PricingErrorCode(ErrorCode):
    SKU_TAKEN = "sku_taken"
    BAD_ITEM = "bad_item"
    BAD_PRICE = "bad_price"
    PRICE_CONFLICT = "price_conflict"
    NO_PUBLISHED_PRICE = "no_published_price"
    PRICE_MISMATCH = "price_mismatch"
    BAD_QUOTE = "bad_quote"
    QUOTE_NOT_OPEN = "quote_not_open"
    QUOTE_EXPIRED = "quote_expired"


class PricingError(DomainError):
    def __init__(
        self,
        code: PricingErrorCode,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, field=field, extra=extra)
