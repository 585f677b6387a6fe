"""Business calendars, SLA policies, and each case's clocks against its policy."""

from __future__ import annotations

from django.db import models

from caseloop.cases.models import Case
from caseloop.customers.models import Organization


class BusinessCalendar(models.Model):
    """Opening hours per weekday in a time zone, and holidays (see `sla.engine`).

    `hours` is {"mon": ["09:00-17:00"], …}; `holidays` a list of ISO dates.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=dict)
    holidays = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets for cases that match: by priority, channel, customer tier and organization (empty: any).

    The first active policy in `position` order that matches a new case is
    its policy. Targets are in business minutes of `calendar` (none: every
    minute counts). `warn_minutes` before a target is due, the inbox flags the
    case. With `promise_first_response`, the customer is promised a first
    answer by its due time (a promise in the ledger).
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    priorities = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warn_minutes = models.PositiveIntegerField(default=30)
    promise_first_response = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class CaseSla(models.Model):
    """One case's clocks against its SLA policy.

    Each target runs from its start to its due time in business time; while
    the case waits on the customer (pending), or is solved, the running
    targets pause and keep their remaining business seconds, and resume from
    them. `due_at` is the earliest running target (indexed: the inbox sorts
    and flags on it), `warn_at` the moment to warn about it.
    """

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="case_slas")
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_late = models.BooleanField(default=False, help_text="the running next response is overdue")
    next_responses_met = models.PositiveIntegerField(default=0)
    next_responses_breached = models.PositiveIntegerField(default=0)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_breached = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    # business seconds left on each target when it paused (negative: already overdue)
    first_response_remaining = models.FloatField(null=True, blank=True)
    next_response_remaining = models.FloatField(null=True, blank=True)
    resolution_remaining = models.FloatField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], name="case_sla_due"),
            models.Index(fields=["warn_at"], name="case_sla_warn"),
        ]

    def __str__(self) -> str:
        return f"SLA of case {self.case_id} ({self.policy_id})"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def met(self) -> bool:
        """No target of this case was missed (so far)."""
        return not (self.first_response_breached or self.resolution_breached or self.next_responses_breached)
