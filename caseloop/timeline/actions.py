"""Writing to the timeline and the audit log (called by every domain's actions)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from caseloop.core import clock
from caseloop.core.fastdb import insert_prepared, prepare, prepare_json
from caseloop.identity.models import User
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import AuditEntry, TimelineEvent

Subject = tuple[SubjectKind, int]


def record_event(
    *,
    kind: str,
    subjects: Iterable[Subject | tuple[SubjectKind, int | None]],
    summary: str,
    actor: User | None = None,
    case_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> None:
    """Append one happening to the timeline of each subject (None ids skipped).

    Written with one prepared executemany, each shared value prepared once:
    this runs inside every write of every domain. Read the rows back through
    `timeline.selectors`.
    """
    shared = {
        "event_id": prepare(TimelineEvent, "event_id", uuid.uuid4()),
        "kind": str(kind),
        "occurred_at": prepare(TimelineEvent, "occurred_at", occurred_at or clock.now()),
        "actor_id": actor.pk if actor is not None else None,
        "case_id": case_id,
        "summary": summary[:300],
        "data": prepare_json(dict(data or {})),
    }
    seen: set[tuple[str, int]] = set()
    rows = []
    for subject_kind, subject_id in subjects:
        if subject_id is None or (subject_kind, subject_id) in seen:
            continue
        seen.add((subject_kind, subject_id))
        rows.append({**shared, "subject_kind": str(subject_kind), "subject_id": subject_id})
    insert_prepared(TimelineEvent, rows)


def record_audit(
    *,
    action: str,
    object_type: str,
    object_id: int,
    actor: User | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (who changed what, before and after)."""
    insert_prepared(AuditEntry, [{
        "at": prepare(AuditEntry, "at", clock.now()),
        "actor_id": actor.pk if actor is not None else None,
        "action": str(action),
        "object_type": str(object_type),
        "object_id": object_id,
        "before": prepare_json(dict(before or {})),
        "after": prepare_json(dict(after or {})),
    }])  # fmt: skip
