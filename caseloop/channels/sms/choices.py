from django.db import models


class SmsDirection(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "To the customer"


class SmsState(models.TextChoices):
    """An outbound text's delivery state (an inbound one is `received`).

    queued → sending → sent (accepted by the provider) → delivered | undelivered | failed,
    or suppressed (the number opted out, or there is nothing to send from/to).
    """

    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Not delivered"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent"


# How far along each state is: a late status callback never moves a text backwards.
STATE_RANK = {
    SmsState.RECEIVED: 0,
    SmsState.QUEUED: 1,
    SmsState.SENDING: 2,
    SmsState.SENT: 3,
    SmsState.DELIVERED: 4,
    SmsState.UNDELIVERED: 4,
    SmsState.FAILED: 4,
    SmsState.SUPPRESSED: 4,
}

# The provider's MessageStatus values and what they mean for us.
PROVIDER_STATES = {
    "accepted": SmsState.SENDING,
    "scheduled": SmsState.SENDING,
    "queued": SmsState.SENDING,
    "sending": SmsState.SENDING,
    "sent": SmsState.SENT,
    "delivered": SmsState.DELIVERED,
    "read": SmsState.DELIVERED,
    "undelivered": SmsState.UNDELIVERED,
    "failed": SmsState.FAILED,
    "canceled": SmsState.FAILED,
}

# Twilio's default opt-out and opt-in keywords (matched on the whole message, any case).
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
