"""Reading a subject's history, newest first, in keyset pages."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineError, TimelineErrorCode
from caseloop.timeline.models import AuditEntry, TimelineEvent


def parse_subject(raw: str) -> tuple[SubjectKind, int]:
    """`contact:42` → (SubjectKind.CONTACT, 42), or a clear 400."""
    kind, _, ident = raw.partition(":")
    if kind not in SubjectKind.values or not ident.isdigit():
        kinds = ", ".join(SubjectKind.values)
        raise TimelineError(
            TimelineErrorCode.BAD_SUBJECT,
            f"subject must look like 'case:42' with a kind among {kinds}.",
            status=400,
        )
    return SubjectKind(kind), int(ident)


def timeline_page(
    *,
    subject_kind: SubjectKind,
    subject_ids: Sequence[int],
    before_id: int | None = None,
    limit: int = 25,
    exclude_kinds: Sequence[str] = (),
) -> list[TimelineEvent]:
    """Up to `limit` events of these subjects older than `before_id`, newest first.

    Several ids are allowed because a merged contact keeps its own rows and the
    survivor's history reads them too. `exclude_kinds` leaves out what the
    reader may not see (internal notes, for a customer).
    """
    qs: QuerySet[TimelineEvent] = TimelineEvent.objects.filter(subject_kind=subject_kind)
    qs = qs.filter(subject_id=subject_ids[0]) if len(subject_ids) == 1 else qs.filter(subject_id__in=subject_ids)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    if exclude_kinds:
        qs = qs.exclude(kind__in=list(exclude_kinds))
    return list(qs.select_related("actor").order_by("-id")[:limit])


def audit_for(*, object_type: str, object_id: int, limit: int = 50) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
