from django.db import models


class Expectation(models.TextChoices):
    """The headline: did the contact fail to meet, meet or exceed what the customer expected?"""

    FAILED = "failed", "Failed to meet my expectations"
    MET = "met", "Met my expectations"
    EXCEEDED = "exceeded", "Exceeded my expectations"


class Question(models.TextChoices):
    """What a survey may ask; expectations is always asked, and asked first."""

    EXPECTATIONS = "expectations", "Expectations (failed / met / exceeded)"
    CES = "ces", "Customer effort (1-7)"
    CSAT = "csat", "Satisfaction (1-5)"
    NPS = "nps", "Likelihood to recommend (0-10)"
    COMMENT = "comment", "Comment"


class Trigger(models.TextChoices):
    """The events a survey or follow-up rule reacts to (a field visit joins when field service exists)."""

    CASE_SOLVED = "case.solved", "A case is solved"


class SurveyState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    SKIPPED = "skipped", "Not sent"


class SkipReason(models.TextChoices):
    FATIGUE = "fatigue", "Surveyed recently"
    OPTED_OUT = "opted_out", "Asked for no surveys"
    REOPENED = "reopened", "Case reopened before sending"
    CLOSED = "closed", "Case closed before sending"
    NO_CHANNEL = "no_channel", "No channel reaches the customer"


class AnswerSource(models.TextChoices):
    CLICK = "click", "One click from the message"
    PAGE = "page", "The survey page"


class FollowUpMethod(models.TextChoices):
    MESSAGE = "message", "Message on the case's channel"
    CALL = "call", "Call task"


class FollowUpState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Asked, waiting for the answer"
    CALL_DUE = "call_due", "Call to make"
    HELD = "held", "The fix held"
    NOT_HELD = "not_held", "The fix did not hold"
    CANCELLED = "cancelled", "Cancelled"


class KudosSource(models.TextChoices):
    SURVEY = "survey", "Survey answer"
    MESSAGE = "message", "Message from the customer"


class ThankYouState(models.TextChoices):
    DUE = "due", "To thank"
    SENT = "sent", "Thanked by message"
    CALLED = "called", "Thanked by phone"
