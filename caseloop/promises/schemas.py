"""What the API takes and gives for promises, the kept rate and notices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import Discriminator, Tag

from caseloop.core.pagination import PageOut, PageQuery
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


# Chosen, not filtered (ADR 0052): a field added to PromiseOut later stays staff's until it is added here.
class ToldPromiseOut(OutSchema):
    """A promise as a customer or a partner reads it: what the customer was told, in their words, with no
    owner, internal state, source or release reason."""

    id: int
    case_id: int
    kind: PromiseKind
    what: str = Field(description="the kind in the customer's words, e.g. 'We call you back'")
    description: str = Field(description="what was promised, as the customer was told")
    window_start: dt.datetime | None
    due_at: dt.datetime
    standing: Literal["open", "kept", "broken", "released"] = Field(
        description="open (at risk included: that is our worry, not the customer's), kept, broken or released"
    )
    settled_at: dt.datetime | None = Field(description="when it was kept, broken or released")


# Staff read a promise whole; a customer or a partner as told (the same routes, one schema or the other by who asks).
PromiseView = Annotated[
    Annotated[PromiseOut, Tag("staff")] | Annotated[ToldPromiseOut, Tag("told")],
    Discriminator(lambda value: "told" if isinstance(value, ToldPromiseOut) else "staff"),
]


class PromisePageOut(PageOut[PromiseView]):
    """A page of promises: each a PromiseOut for staff, a ToldPromiseOut for a customer or a partner."""


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
    state: PromiseState | None = Field(
        None,
        description="for a customer or a partner, the standing they read: open includes at risk, and at_risk "
        "(staff's own worry) matches nothing",
    )
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
