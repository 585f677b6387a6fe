"""The SMS channel's records: every text in and out, and the numbers that said STOP."""

from __future__ import annotations

from django.db import models

from caseloop.cases.models import Case, Message
from caseloop.channels.sms.choices import SmsDirection, SmsState


class SmsMessage(models.Model):
    """One text message, in or out, beside the case message it is.

    `provider_sid` is the provider's id (MessageSid): unique, so an inbound
    webhook delivered twice is one text, and status callbacks find the
    outbound text they are about. An outbound text is queued in the
    transaction of the reply and sent by a task after commit; `attempts` and
    `next_attempt_at` drive retries of temporary failures.
    """

    direction = models.CharField(max_length=10, choices=SmsDirection.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sms_messages")
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms")
    provider_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    from_number = models.CharField(max_length=40)
    to_number = models.CharField(max_length=40)
    body = models.TextField()
    state = models.CharField(max_length=12, choices=SmsState.choices)
    error_code = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["case", "id"], name="sms_case_order"),
            models.Index(fields=["state", "next_attempt_at"], name="sms_due"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} text {self.from_number} → {self.to_number} ({self.state})"


class SmsOptOut(models.Model):
    """A number that texted STOP: nothing is sent to it until it texts START."""

    number = models.CharField(max_length=40, unique=True, help_text="E.164")
    keyword = models.CharField(max_length=20)
    opted_out_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.number} (since {self.opted_out_at:%Y-%m-%d})"
