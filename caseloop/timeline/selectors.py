"""Reading a subject's history, newest first, in keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineError, TimelineErrorCode
from caseloop.timeline.models import AuditEntry, TimelineEvent

# Event kinds someone outside the company (a customer, a partner) may read in a site's, an
# asset's or an organization's history: the service itself. Everything else (notes,
# assignments, field changes, owner changes naming other people, surveys, email delivery)
# stays internal, and so does a kind added later until someone decides otherwise (ADR 0052).
OUTSIDE_SAFE_KINDS = frozenset({
    "case.opened",
    "case.status_changed",
    "case.reopened",
    "asset.installed",
    "asset.moved",
})  # fmt: skip

# On a case's or a contact's own history an outsider also reads the conversation, as the portal
# shows it: messages in and out. A note is "note.added" and never among these; neither are
# promises (some are internal, never told), approvals, overrides, assignments or field changes.
OUTSIDE_CONVERSATION_KINDS = frozenset({"message.received", "message.sent"})


def outside_kinds(subject_kind: SubjectKind) -> frozenset[str]:
    """The event kinds a customer or a partner may read on this kind of subject (ADR 0052).

    An allow-list on every subject, so that a kind added later stays internal until someone
    decides otherwise. A site, an asset or an organization gathers other people's work, so
    their history is the service kinds only; a case or a contact adds the conversation.
    """
    if subject_kind in (SubjectKind.CASE, SubjectKind.CONTACT):
        return OUTSIDE_SAFE_KINDS | OUTSIDE_CONVERSATION_KINDS
    return OUTSIDE_SAFE_KINDS


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
    only_kinds: Sequence[str] | None = None,
    within_cases: QuerySet[Any] | None = None,
    caseless: bool = True,
) -> list[TimelineEvent]:
    """Up to `limit` events of these subjects older than `before_id`, newest first.

    Several ids are allowed because a merged contact keeps its own rows and the
    survivor's history reads them too. `exclude_kinds` leaves out what the
    reader may not see; `only_kinds` keeps an allow-list (None: every kind; an
    empty one keeps nothing); `within_cases` (case ids, as a query) keeps
    events tied to no case or to one of those (a site's history, for someone
    who sees some of its cases only). Both filter in the query, so that a
    page is full and the cursor is right.
    """
    qs: QuerySet[TimelineEvent] = TimelineEvent.objects.filter(subject_kind=subject_kind)
    qs = qs.filter(subject_id=subject_ids[0]) if len(subject_ids) == 1 else qs.filter(subject_id__in=subject_ids)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    if exclude_kinds:
        qs = qs.exclude(kind__in=list(exclude_kinds))
    if only_kinds is not None:
        qs = qs.filter(kind__in=sorted(only_kinds))
    if within_cases is not None:
        in_cases = Q(case_id__in=within_cases)
        qs = qs.filter(Q(case_id__isnull=True) | in_cases if caseless else in_cases)
    return list(qs.select_related("actor").order_by("-id")[:limit])


def audit_for(*, object_type: str, object_id: int, limit: int = 50) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
