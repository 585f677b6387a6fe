"""Writing to the timeline and the audit log (called by every domain's actions)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from caseloop.core import clock
from caseloop.core.fastdb import insert, insert_many
from caseloop.identity.models import User
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import AuditEntry, TimelineEvent

Subject = tuple[SubjectKind, int]


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    # Decimal, dates and UUIDs become strings the same way everywhere
    result: dict[str, Any] = json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))
    return result


def record_event(
    *,
    kind: str,
    subjects: Iterable[Subject | tuple[SubjectKind, int | None]],
    summary: str,
    actor: User | None = None,
    case_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> list[TimelineEvent]:
    """Append one happening to the timeline of each subject (None ids skipped).

    The rows come back without primary keys (they are written with one
    executemany); read them back through `timeline.selectors` when needed.
    """
    event_id = uuid.uuid4()
    when = occurred_at or clock.now()
    payload = _jsonable(data or {})
    seen: set[tuple[str, int]] = set()
    rows = []
    for subject_kind, subject_id in subjects:
        if subject_id is None or (subject_kind, subject_id) in seen:
            continue
        seen.add((subject_kind, subject_id))
        rows.append(
            TimelineEvent(
                event_id=event_id,
                subject_kind=subject_kind,
                subject_id=subject_id,
                kind=kind,
                occurred_at=when,
                actor=actor,
                case_id=case_id,
                summary=summary[:300],
                data=payload,
            )
        )
    # one prepared executemany: this runs inside every write of every domain
    return list(insert_many(rows))


def record_audit(
    *,
    action: str,
    object_type: str,
    object_id: int,
    actor: User | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    return insert(
        AuditEntry(
            at=clock.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=_jsonable(before or {}),
            after=_jsonable(after or {}),
        )
    )
