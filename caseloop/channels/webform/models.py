"""The web form's records: every accepted submission, and the rate-limit counters."""

from __future__ import annotations

from django.db import models

from caseloop.cases.models import Case, Message
from caseloop.customers.models import Contact


class WebSubmission(models.Model):
    """One contact-form submission that reached a case (spam and refusals leave no row).

    `continued` is true only on submissions from before 2026-11-25 that were added
    to an open case of the same address; since then every submission opens its
    own case (ADR 0050, ADR 0076), so it is always false. The form's
    one-time token is the message's `external_id` (`webform-<token>`), so a
    double submit is recognised by the unique (channel, external_id) of messages.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="web_submissions")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="web_submission")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="web_submissions")
    email = models.CharField(max_length=254, help_text="the address typed, normalised")
    topic = models.CharField(max_length=50)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    continued = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["contact", "topic", "-created_at"], name="websub_contact_topic_recent")]

    def __str__(self) -> str:
        return f"web submission {self.pk} on case {self.case_id}"


class RateWindow(models.Model):
    """How many requests one key (an address, a client IP) made in one fixed window.

    In the database, not in a process's memory, so that every app server
    counts against the same limit. `key_hash` is an HMAC of the key under the
    site's secret: the table holds no email addresses. Rows of past windows are
    deleted as new windows start.
    """

    scope = models.CharField(max_length=40, help_text="what is limited, e.g. webform.address")
    key_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash", "window_start"], name="rate_window_unique_key")
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_window_start")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_hash[:8]}… {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
