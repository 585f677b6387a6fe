from django.db import models

from caseloop.policies.engine import Action, Kind


class RuleKind(models.TextChoices):
    INTEGRITY = Kind.INTEGRITY.value, "Integrity rule (never bent)"
    GUIDELINE = Kind.GUIDELINE.value, "Guideline (may be bent with a reason)"


class ActionKind(models.TextChoices):
    """What a rule applies to (the engine's `Action`, with labels)."""

    STATUS_CHANGE = Action.STATUS_CHANGE.value, "Status change"
    REOPEN = Action.REOPEN.value, "Reopen"
    REFUND = Action.REFUND.value, "Refund"
    CREDIT = Action.CREDIT.value, "Credit"
    DISCOUNT = Action.DISCOUNT.value, "Discount"
    FEE_WAIVER = Action.FEE_WAIVER.value, "Fee waiver"
    FREE_REPLACEMENT = Action.FREE_REPLACEMENT.value, "Free replacement"
    BOOKING_CHANGE = Action.BOOKING_CHANGE.value, "Booking change"
    QUOTE = Action.QUOTE.value, "Quote"


class ConcessionKind(models.TextChoices):
    """What a rep gives a customer within an authority limit (or with an approval)."""

    CREDIT = Action.CREDIT.value, "Credit"
    REFUND = Action.REFUND.value, "Refund"
    DISCOUNT = Action.DISCOUNT.value, "Discount (percent)"
    FEE_WAIVER = Action.FEE_WAIVER.value, "Fee waiver"
    FREE_REPLACEMENT = Action.FREE_REPLACEMENT.value, "Free replacement"


# A discount is a percentage of a price; every other concession is an amount of money.
PERCENT_KINDS = frozenset({ConcessionKind.DISCOUNT})


class ConcessionState(models.TextChoices):
    GRANTED = "granted", "Granted"
    PENDING = "pending", "Waiting for approval"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Waiting"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class StepOutcome(models.TextChoices):
    WAITING = "waiting", "Waiting"
    DECIDED = "decided", "Decided"
    ESCALATED = "escalated", "Missed: escalated"
    CLOSED = "closed", "Closed by someone else"
