"""What the API says about people, teams and tokens."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from caseloop.core.pagination import PageQuery
from caseloop.core.schemas import Id, OutSchema
from caseloop.identity.choices import Role


class Ref(OutSchema):
    """A pointer to a person or a team, with the name to show."""

    id: int
    name: str


class TeamOut(OutSchema):
    id: int
    name: str
    slug: str
    description: str


class UserOut(OutSchema):
    id: int
    username: str
    name: str
    email: str
    role: Role
    is_active: bool


class MeOut(UserOut):
    is_staff_member: bool
    time_zone: str
    teams: list[Ref]
    contact_id: int | None = Field(description="the contact a customer or partner speaks for")


class TokenOut(OutSchema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown this once and never again.")


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


class UserQuery(PageQuery):
    role: Role | None = None
    team: Id | None = None
    is_active: bool | None = None
