"""Building blocks for the ninja schemas of every domain's api.py."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from caseloop.core.errors import Invalid

# Database keys are 64-bit; a larger number could never name a row, and SQLite
# would fail converting it, so it is refused as invalid input instead.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class InSchema(Schema):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def changes_of(payload: Schema, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH body sent, by name; null is refused for fields that cannot be empty.

    Absent means "leave as is"; null means "clear", allowed only for `nullable`.
    """
    changes = payload.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise Invalid(f"{name} cannot be null.", field=name)
    return changes
