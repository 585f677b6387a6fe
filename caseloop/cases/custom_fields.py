"""Validating typed custom field values against their definitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from caseloop.cases.choices import CustomFieldType
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import CustomFieldDefinition
from caseloop.core import stamps
from caseloop.core.fastdb import all_rows


def _coerce(definition: CustomFieldDefinition, value: Any) -> Any:
    if value is None:
        return None
    kind = definition.field_type
    bad = CaseError(
        CaseErrorCode.BAD_CUSTOM_FIELD,
        f"{definition.label} must be {CustomFieldType(kind).label.lower()}; got {value!r}.",
        field=f"custom_fields.{definition.key}",
    )
    if kind == CustomFieldType.TEXT:
        if not isinstance(value, str):
            raise bad
        return value
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if kind == CustomFieldType.DECIMAL:
        if isinstance(value, bool):
            raise bad
        try:
            return str(Decimal(str(value)))
        except InvalidOperation as exc:
            raise bad from exc
    if kind == CustomFieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise bad
        return value
    if kind == CustomFieldType.DATE:
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise bad from exc
    if kind == CustomFieldType.CHOICE:
        if value not in definition.choices:
            raise CaseError(
                CaseErrorCode.BAD_CUSTOM_FIELD,
                f"{definition.label} must be one of {', '.join(map(str, definition.choices))}.",
                field=f"custom_fields.{definition.key}",
            )
        return value
    raise bad  # pragma: no cover - every type is handled above


DEFINITION_TABLES = ("cases_customfielddefinition",)


def _load_definitions() -> Mapping[str, CustomFieldDefinition]:
    return MappingProxyType({d.key: d for d in all_rows(CustomFieldDefinition)})


def validate_custom_fields(
    values: Mapping[str, Any], *, existing: Mapping[str, Any] | None = None, creating: bool = False
) -> dict[str, Any]:
    """Merge `values` over `existing`, each checked against its definition."""
    definitions = stamps.cached(DEFINITION_TABLES, _load_definitions) if values or creating else {}
    result = dict(existing or {})
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise CaseError(
                CaseErrorCode.UNKNOWN_CUSTOM_FIELD,
                f"There is no custom field {key!r}.",
                field="custom_fields",
            )
        coerced = _coerce(definition, value)
        if coerced is None:
            result.pop(key, None)
        else:
            result[key] = coerced
    if creating:
        for definition in definitions.values():
            if definition.required and key_missing(result, definition.key):
                raise CaseError(
                    CaseErrorCode.MISSING_REQUIRED_FIELD,
                    f"{definition.label} is required.",
                    field=f"custom_fields.{definition.key}",
                )
    return result


def key_missing(values: Mapping[str, Any], key: str) -> bool:
    return values.get(key) in (None, "")
