from django.db import models


class IvrState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "To the customer"


class CallSource(models.TextChoices):
    PROVIDER = "provider", "Telephony provider"
    MANUAL = "manual", "Logged by hand"


class CallOutcome(models.TextChoices):
    """Where a call ended up; set when it ends (or is logged by hand)."""

    IN_PROGRESS = "in_progress", "In progress"
    TALKED = "talked", "Talked to someone"
    UNANSWERED = "unanswered", "Put through, not answered"
    SELF_SERVED = "self_served", "Heard an answer in the menu"
    ABANDONED = "abandoned", "Hung up in the menu"
    NOT_CONFIGURED = "not_configured", "Line without a published menu"


class WebhookState(models.TextChoices):
    """Where a kept provider webhook request stands: received → processed | failed (failed → processed on a retry)."""

    RECEIVED = "received", "Received, being processed"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
