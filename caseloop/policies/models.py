"""Rules and their overrides, authority limits, concessions and the approvals above the limits."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case
from caseloop.customers.models import Contact
from caseloop.identity.choices import Role
from caseloop.identity.models import Team
from caseloop.policies.choices import (
    ApprovalState,
    ConcessionKind,
    ConcessionState,
    RuleKind,
    StepOutcome,
)


class Rule(models.Model):
    """A rule as data: when it trips (`condition`, in the engine's language), on which actions, and what it is.

    An integrity rule refuses the action with its explanation, for everyone.
    A guideline lets the person proceed once they write why (an Override).
    `applies_to` lists `ActionKind` values. Rules are never deleted once they
    have overrides (the review needs them); they are switched off.
    """

    name = models.CharField(max_length=120, unique=True)
    explanation = models.TextField(help_text="what the rep reads when the rule trips: why it exists, what to do")
    kind = models.CharField(max_length=10, choices=RuleKind.choices)
    applies_to = models.JSONField(default=list)
    condition = models.TextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["is_active"], name="rule_active")]

    def __str__(self) -> str:
        return self.name


class Override(models.Model):
    """A guideline bent by a person, with their written reason; on the case timeline too."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="overrides")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="overrides")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="overrides")
    # the case's team at the time (the review groups by it); null for a case with no team
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="overrides")
    action = models.CharField(max_length=20)
    reason = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["rule", "created_at"], name="override_rule_at"),
            models.Index(fields=["actor", "created_at"], name="override_actor_at"),
            models.Index(fields=["created_at"], name="override_at"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} overridden on case {self.case_id}"


class AuthorityLimit(models.Model):
    """How much a role, a team or one person may give at once, per case and per rolling period.

    Exactly one of role, team and user is set. The most specific applies: a
    person's own limit, else the most generous of their teams', else their
    role's. `per_case` is an amount in `currency` (a percentage for
    discounts); `per_period` (optional) caps what they authorise in any
    `period_days` days.
    """

    action = models.CharField(max_length=20, choices=ConcessionKind.choices)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="authority_limits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="authority_limits"
    )
    per_case = models.DecimalField(max_digits=14, decimal_places=2)
    per_period = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    period_days = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="empty for a discount (a percentage)")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, team__isnull=True, role="")
                    | Q(user__isnull=True, team__isnull=False, role="")
                    | (Q(user__isnull=True, team__isnull=True) & ~Q(role=""))
                ),
                name="authority_limit_one_subject",
            ),
            models.CheckConstraint(condition=Q(per_case__gte=0), name="authority_limit_per_case_positive"),
            models.UniqueConstraint(
                fields=["action", "user"], condition=Q(user__isnull=False), name="authority_limit_unique_user"
            ),
            models.UniqueConstraint(
                fields=["action", "team"], condition=Q(team__isnull=False), name="authority_limit_unique_team"
            ),
            models.UniqueConstraint(
                fields=["action", "role"], condition=~Q(role=""), name="authority_limit_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} ≤ {self.per_case} {self.currency} for {self.subject_label}"

    @property
    def subject_label(self) -> str:
        if self.user_id is not None and self.user is not None:
            return self.user.name
        if self.team_id is not None and self.team is not None:
            return f"team {self.team.name}"
        return f"role {Role(self.role).label}"


class Concession(models.Model):
    """A credit, refund, discount, fee waiver or free replacement given (or asked for) on a case.

    Granted at once within the authority of the person giving it
    (`authorised_by` is them); above it, pending until an approver decides
    (`authorised_by` is the approver). Money is exact: an amount and its
    currency; a discount is a percentage instead.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="concessions")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="concessions")
    kind = models.CharField(max_length=20, choices=ConcessionKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=500, help_text="what it is for, as the customer would read it")
    state = models.CharField(max_length=10, choices=ConcessionState.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    granted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="concession_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | (Q(percent__gt=0) & Q(percent__lte=100)),
                name="concession_percent_range",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "kind", "state"], name="concession_case_kind"),
            # a person's usage of a limit in a rolling period
            models.Index(fields=["authorised_by", "kind", "state", "granted_at"], name="concession_authority_use"),
            models.Index(fields=["contact", "state", "created_at"], name="concession_contact_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value_label} on case {self.case_id} ({self.state})"

    @property
    def value_label(self) -> str:
        if self.percent is not None:
            return f"{self.percent.normalize():f}%"
        return f"{(self.amount or Decimal(0)):.2f} {self.currency}"


class ApprovalRequest(models.Model):
    """A concession above its requester's authority, waiting on an approver whose limit covers it.

    It reaches one approver at a time (`approver`), due at `due_at`; missed,
    it escalates to the next approver who can cover it. Anyone whose authority
    covers it may decide. Each approver it reached is an ApprovalStep (the
    turnaround report reads them).
    """

    concession = models.OneToOneField(Concession, on_delete=models.CASCADE, related_name="approval")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approval_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True, help_text="why the requester asks")
    state = models.CharField(max_length=10, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="approvals_waiting"
    )
    level = models.PositiveSmallIntegerField(default=0, help_text="how many times it has escalated")
    due_at = models.DateTimeField(null=True, blank=True, help_text="null once nobody is left to escalate to")
    answer_due_at = models.DateTimeField(help_text="what the customer was promised: the first due time")
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"], name="approval_state_due"),
            models.Index(fields=["approver", "state"], name="approval_approver_state"),
        ]

    def __str__(self) -> str:
        return f"Approval {self.pk} of {self.concession_id} ({self.state})"


class ApprovalStep(models.Model):
    """One approver an approval request reached, and how that ended."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_steps")
    level = models.PositiveSmallIntegerField()
    assigned_at = models.DateTimeField()
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=StepOutcome.choices, default=StepOutcome.WAITING)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["approver", "assigned_at"], name="approval_step_approver_at")]

    def __str__(self) -> str:
        return f"Step {self.level} of approval {self.request_id} to {self.approver_id}"
