"""What the API says about a timeline event."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from ninja import Field

from caseloop.core.pagination import PageQuery
from caseloop.core.schemas import OutSchema, Text
from caseloop.identity.schemas import Ref
from caseloop.timeline.choices import SubjectKind


class SubjectOut(OutSchema):
    kind: SubjectKind
    id: int


class TimelineEventOut(OutSchema):
    id: int
    event_id: UUID = Field(description="shared by the rows of one happening on its several subjects")
    kind: str
    occurred_at: dt.datetime
    subject: SubjectOut
    actor: Ref | None
    case_id: int | None
    summary: str
    data: dict[str, Any]

    @staticmethod
    def resolve_subject(obj: Any) -> dict[str, Any]:
        return {"kind": obj.subject_kind, "id": obj.subject_id}


class TimelineQuery(PageQuery):
    subject: Text = Field(max_length=60, description="`<kind>:<id>`: contact, organization, site, asset or case")
