"""What the API takes and gives for promises, the kept rate and notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from caseloop.core.pagination import PageQuery
from caseloop.core.schemas import Id, InSchema, OutSchema, Text
from caseloop.identity.schemas import Ref
from caseloop.promises.choices import NoticeKind, PromiseKind, PromiseState


class PromiseOut(OutSchema):
    id: int
    case_id: int
    contact_id: int
    kind: PromiseKind
    description: str
    window_start: dt.datetime | None
    due_at: dt.datetime
    state: PromiseState
    owner_user: Ref | None
    owner_team: Ref | None
    owner_partner: Ref | None
    source: str | None = Field(description="what made an automatic promise, e.g. approval:12")
    created_at: dt.datetime
    kept_at: dt.datetime | None
    kept_by: str = Field(description="the event that kept it (message.sent, approval.decided …), 'hand' or 'due'")
    broken_at: dt.datetime | None
    released_at: dt.datetime | None
    release_reason: str

    @staticmethod
    def resolve_owner_user(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.owner_user.pk, "name": obj.owner_user.name} if obj.owner_user_id else None

    @staticmethod
    def resolve_owner_team(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.owner_team.pk, "name": obj.owner_team.name} if obj.owner_team_id else None

    @staticmethod
    def resolve_owner_partner(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.owner_partner.pk, "name": obj.owner_partner.name} if obj.owner_partner_id else None


class PromiseIn(InSchema):
    case: str = Field(description="the case id or number (CL-10234)")
    kind: PromiseKind
    description: Text = Field(max_length=300, description="what was promised, as the customer was told")
    due_at: dt.datetime
    window_start: dt.datetime | None = None
    owner_user: Id | None = Field(None, description="default: you")
    owner_team: Id | None = None
    owner_partner: Id | None = Field(None, description="a partner organization keeping it on our behalf")


class PromiseQuery(PageQuery):
    case: str | None = Field(None, description="only this case's promises (id or number)")
    state: PromiseState | None = None
    mine: bool = Field(False, description="only promises you or your teams keep, still live, soonest first")


class KeepIn(InSchema):
    note: Text = Field("", max_length=300)


class ReleaseIn(InSchema):
    reason: Text = Field(max_length=500)


class KeptRateQuery(Schema):
    by: str = Field("person", description="person, team, kind or partner")
    since: dt.datetime
    until: dt.datetime


class KeptRateOut(OutSchema):
    key: str
    label: str
    kept: int
    broken: int
    rate: float | None = Field(description="kept / (kept + broken); null when none was due")


class NoticeOut(OutSchema):
    id: int
    kind: NoticeKind
    summary: str
    case_id: int | None
    promise_id: int | None
    approval_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NoticeQuery(PageQuery):
    unread: bool = False


class NoticesReadIn(InSchema):
    ids: list[Id] | None = Field(None, description="these notices; absent: all of yours")
