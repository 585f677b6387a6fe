"""One memory: the append-only timeline and the audit log.

This app sits low (above identity only) so that every domain, customers as
much as cases, can write to it in the transaction of its own change.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineError, TimelineErrorCode


class AppendOnlyModel(models.Model):
    """Rows that are written once and never changed or deleted by the product."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TimelineError(TimelineErrorCode.APPEND_ONLY, f"{type(self).__name__} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TimelineError(TimelineErrorCode.APPEND_ONLY, f"{type(self).__name__} is append-only.")


class TimelineEvent(AppendOnlyModel):
    """Something that happened, as seen from one subject.

    One happening concerns several subjects (a message on a case shows on the
    case, its contact, organization, site and asset). It is written as one row
    per subject sharing `event_id`, so that reading one subject's history,
    newest first, is a single index range scan at any size.
    """

    event_id = models.UUIDField(default=uuid.uuid4, db_index=False)
    subject_kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField()
    kind = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the case it happened on, when there is one: lets a contact's timeline link to it
    case_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subject_kind", "subject_id", "-id"], name="timeline_subject_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id} {self.kind}"


class AuditEntry(AppendOnlyModel):
    """Who changed what, with the values before and after."""

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=50)
    object_id = models.BigIntegerField()
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_newest")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
