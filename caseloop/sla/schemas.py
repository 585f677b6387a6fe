"""What the API takes and gives for calendars, SLA policies, a case's clocks and compliance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints

from caseloop.cases.choices import Channel, Priority
from caseloop.core.schemas import NO_NUL, Id, InSchema, OutSchema, Text
from caseloop.customers.choices import CustomerTier
from caseloop.sla.choices import SlaState


class CalendarOut(OutSchema):
    id: int
    name: str
    time_zone: str
    hours: dict[str, list[str]] = Field(description='{"mon": ["09:00-17:00"], …}; a day left out is closed')
    holidays: list[str]


class CalendarIn(InSchema):
    name: Text = Field(max_length=100)
    time_zone: str = Field("UTC", max_length=64)
    hours: dict[str, list[str]]
    holidays: list[str] = Field(default_factory=list)


class PolicyOut(OutSchema):
    id: int
    name: str
    position: int
    is_active: bool
    priorities: list[Priority]
    channels: list[Channel]
    tiers: list[CustomerTier]
    organization_id: int | None
    calendar_id: int | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_minutes: int
    promise_first_response: bool


class PolicyIn(InSchema):
    name: Text = Field(max_length=100)
    position: int = Field(100, ge=0, le=100_000)
    is_active: bool = True
    priorities: list[Priority] = Field(default_factory=list, description="empty: any")
    channels: list[Channel] = Field(default_factory=list)
    tiers: list[CustomerTier] = Field(default_factory=list)
    organization: Id | None = None
    calendar: Id | None = Field(None, description="none: every minute counts (24/7)")
    first_response_minutes: int | None = Field(None, description="business minutes")
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_minutes: int = Field(30, ge=0, le=10_000)
    promise_first_response: bool = True


class PolicyPatch(InSchema):
    name: Annotated[str, StringConstraints(max_length=100), NO_NUL] | None = None
    position: int | None = Field(None, ge=0, le=100_000)
    is_active: bool | None = None
    priorities: list[Priority] | None = None
    channels: list[Channel] | None = None
    tiers: list[CustomerTier] | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_minutes: int | None = Field(None, ge=0, le=10_000)
    promise_first_response: bool | None = None


class CaseSlaOut(OutSchema):
    case_id: int
    policy: str
    state: SlaState
    due_at: dt.datetime | None = Field(description="the next target's due time")
    target: str = Field(description="which target is due next")
    first_response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    first_response_breached: bool
    next_response_due_at: dt.datetime | None
    next_responses_met: int
    next_responses_breached: int
    resolution_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution_breached: bool
    paused_at: dt.datetime | None


class ComplianceQuery(Schema):
    by: str = Field("team", description="team or channel")
    since: dt.datetime
    until: dt.datetime


class ComplianceOut(OutSchema):
    key: str
    label: str
    met: int
    breached: int
    rate: float | None
    first_met: int
    first_breached: int
    next_met: int
    next_breached: int
    resolution_met: int
    resolution_breached: int
