from django.db import models


class ItemKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SERVICE = "service", "Service"


class QuoteState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for the discount's approval"
    ISSUED = "issued", "Issued"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined by the customer"
    WITHDRAWN = "withdrawn", "Withdrawn by us"
    REFUSED = "refused", "Discount not approved"


OPEN_QUOTE_STATES = frozenset({QuoteState.AWAITING_APPROVAL, QuoteState.ISSUED})
