from django.db import models


class PromiseState(models.TextChoices):
    OPEN = "open", "Open"
    AT_RISK = "at_risk", "At risk"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    RELEASED = "released", "Released"


# Still owed: the checker and the keeping events look only at these.
LIVE_STATES = (PromiseState.OPEN, PromiseState.AT_RISK)


class PromiseKind(models.TextChoices):
    CALL_BACK = "call_back", "Call back"
    REPLY = "reply", "Get back in writing"
    FIRST_RESPONSE = "first_response", "First response"
    APPROVAL_ANSWER = "approval_answer", "Answer on an approval"
    QUOTE_VALIDITY = "quote_validity", "Quoted price holds"
    RESOLUTION = "resolution", "Fixed by"
    VISIT = "visit", "Technician arrives"
    DELIVERY = "delivery", "Delivery arrives"
    REFUND = "refund", "Refund paid"
    OTHER = "other", "Something else"


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", "Promise due soon"
    AT_RISK = "at_risk", "Promise at risk"
    BROKEN = "broken", "Promise broken"
    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    APPROVAL_REMINDER = "approval_reminder", "Approval due soon"
    APPROVAL_ESCALATED = "approval_escalated", "Approval escalated"
    APPROVAL_DECIDED = "approval_decided", "Approval decided"
    SLA_DUE = "sla_due", "Case due soon (SLA)"
