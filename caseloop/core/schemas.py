"""Building blocks for the ninja schemas of every domain's api.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Manager, QuerySet
from django.db.models.fields.files import FieldFile
from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)

from caseloop.core.errors import Invalid

# Database keys are 64-bit; a larger number could never name a row, and SQLite
# would fail converting it, so it is refused as invalid input instead.
MAX_ID = 2**63 - 1


def _not_a_bool(value: Any) -> Any:
    # pydantic reads true as 1 wherever an int is asked for: {"id": true} named contact 1
    if isinstance(value, bool):
        raise ValueError("an id is a number, not true or false")
    return value


Id = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


# Text's own check, for a text type whose length is checked first, inside the type:
# `Annotated[str, StringConstraints(max_length=100), NO_NUL] | None`. `Text | None = Field(None, max_length=…)`
# would check the length after the validator, as a generic sequence's ("at least 1 item after validation").
NO_NUL = AfterValidator(_no_nul)
Text = Annotated[str, NO_NUL]


class InSchema(Schema):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        # Replaces ninja's validator of the same name. For a schema that forbids unknown fields, ninja
        # validates every body twice: once as sent (to see extra keys), then again through its getter of
        # Django attributes (related managers, files), which only an ORM object needs. A body is parsed
        # JSON, a dict: once, as sent, does both (about 2 % of an API create's CPU went to the second pass).
        if isinstance(values, dict):
            return handler(values)
        handler(values)
        return handler(DjangoGetter(values, cls, info.context))


# values handed to pydantic as they are, without the checks for managers, querysets, callables and files
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), dt.datetime, dt.date, Decimal, dict, list})


def _django_value(value: Any) -> Any:
    """What ninja's getter makes of an attribute's value: a manager or queryset becomes a list, a file its URL."""
    if isinstance(value, Manager):
        return list(value.all())
    if isinstance(value, QuerySet):
        return list(value)
    if callable(value):
        return value()
    if isinstance(value, FieldFile):
        return value.url if value else None
    return value


def fields_of(schema: type[Schema], source: Any, context: Any) -> dict[str, Any]:
    """The values of `schema`'s fields read from `source` (a model instance, a dataclass, a dict), by name.

    The same reading as ninja's `DjangoGetter` (a `resolve_<field>` first, then the attribute or the key;
    managers and querysets listed, callables called, files as their URL; an absent one left out, so the
    field's default or a "missing" error follows), done once per object into a dict that pydantic then
    checks in its compiled core. The getter instead answered pydantic one attribute at a time through
    `__getattr__`, after a failed ordinary lookup each time: a third of the inbox's CPU (25 cases, ~700
    attributes) went there.
    """
    resolvers = schema._ninja_resolvers
    getter: DjangoGetter | None = None
    values: dict[str, Any] = {}
    from_dict = isinstance(source, dict)
    for name in schema.model_fields:
        resolver = resolvers.get(name)
        if resolver is not None:
            if getter is None:
                getter = DjangoGetter(source, schema, context)
            value = resolver(getter=getter)
        elif from_dict:
            if name not in source:
                continue
            value = source[name]
        else:
            try:
                value = getattr(source, name)
            except AttributeError:
                continue
        values[name] = value if type(value) in _PLAIN_TYPES else _django_value(value)
    return values


class OutSchema(Schema):
    """A response body: read from model instances (or dataclasses, dicts) once per object (`fields_of`)."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        # Replaces ninja's validator of the same name, which hands pydantic a getter over the object
        if isinstance(values, Schema):  # already validated (a route may answer with a schema instance)
            return handler(values)
        return handler(fields_of(cls, values, info.context))


def changes_of(payload: Schema, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH body sent, by name; null is refused for fields that cannot be empty.

    Absent means "leave as is"; null means "clear", allowed only for `nullable`.
    """
    changes = payload.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise Invalid(f"{name} cannot be null.", field=name)
    return changes
