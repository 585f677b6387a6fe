"""The promise ledger: every commitment made to a customer, with an owner and a due time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case
from caseloop.customers.models import Contact, Organization
from caseloop.identity.models import Team
from caseloop.promises.choices import NoticeKind, PromiseKind, PromiseState


class Promise(models.Model):
    """Something we told a customer we would do, by a time (or within a window).

    Owned by a person, a team or a partner (at least one). It stays `open`
    until a keeping event on its case (see `promises.kinds`) keeps it, someone
    marks it kept or released, or the checker finds it past due and marks it
    `broken`; shortly before the due time an open promise is `at_risk`.
    `source` names what made an automatic promise ("approval:12"), so making
    it twice makes one.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="promises")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="promises")
    # the owner keys are indexed only where set (Meta): a row's update writes fewer index entries
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promises",
        db_index=False,
    )
    owner_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="promises", db_index=False
    )
    owner_partner = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_promises",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=PromiseKind.choices)
    description = models.CharField(max_length=300, help_text="what was promised, as the customer was told")
    window_start = models.DateTimeField(null=True, blank=True, help_text="earliest time it can be kept (a window)")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=PromiseState.choices, default=PromiseState.OPEN)
    source = models.CharField(max_length=80, null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    kept_at = models.DateTimeField(null=True, blank=True)
    kept_by = models.CharField(max_length=50, blank=True, help_text="the event that kept it, or 'hand'")
    broken_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)
    # set when broken for a kind whose customer is told; cleared once the message is on the case
    apology_pending = models.BooleanField(default=False)
    apologised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False) | Q(owner_team__isnull=False) | Q(owner_partner__isnull=False),
                name="promise_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True) | Q(window_start__lte=models.F("due_at")),
                name="promise_window_ordered",
            ),
            # making an automatic promise twice makes one; hand-made promises have no source
            models.UniqueConstraint(fields=["source"], condition=Q(source__isnull=False), name="promise_unique_source"),
        ]
        # The foreign keys' own indexes serve the case, customer and owner lists (each has few promises).
        # The checker's indexes are partial, one per live state: breaking or keeping a promise removes its
        # entries and adds none, and settled promises (most of the table, in time) are in none of them.
        indexes = [
            models.Index(fields=["due_at", "id"], condition=Q(state=PromiseState.OPEN), name="promise_open_due"),
            models.Index(fields=["due_at", "id"], condition=Q(state=PromiseState.AT_RISK), name="promise_at_risk_due"),
            models.Index(
                fields=["due_at", "id"],
                condition=Q(state=PromiseState.OPEN, reminded_at__isnull=True),
                name="promise_unreminded_due",
            ),
            # reports: promises due in a period (the kept rate, the insights facts)
            models.Index(fields=["due_at"], name="promise_due"),
            models.Index(fields=["owner_user"], condition=Q(owner_user__isnull=False), name="promise_owner_user"),
            models.Index(fields=["owner_team"], condition=Q(owner_team__isnull=False), name="promise_owner_team"),
            models.Index(
                fields=["owner_partner"], condition=Q(owner_partner__isnull=False), name="promise_owner_partner"
            ),
            models.Index(fields=["id"], condition=Q(apology_pending=True), name="promise_apology_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.due_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in (PromiseState.OPEN, PromiseState.AT_RISK)


class Notice(models.Model):
    """Something a person should know now: a promise due soon or broken, an approval waiting.

    A row per recipient; `read_at` is set when they have seen it. A notice
    points at its case, promise or approval request by id.
    """

    # the composite index below leads with the recipient, so the key's own index would only cost writes
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", db_index=False
    )
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    summary = models.CharField(max_length=300)
    case_id = models.BigIntegerField(null=True, blank=True)
    # plain ids, not keys: the checker writes notices by the thousand and nothing reads them by promise
    promise_id = models.BigIntegerField(null=True, blank=True)
    approval_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at", "-id"], name="notice_recipient_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.summary}"
