"""Validating typed custom field values against their definitions.

Values are stored in the case's JSON `custom_fields`, each in one exact form:

* `number`: a whole JSON number that fits a signed 64-bit integer (SQLite's
  JSON functions read a larger one as an inexact real, and a database
  column could not take it); not a boolean, not `3.0`.
* `decimal`: text, written out (`"1234.50"`, `"-0.5"`) with at most 18 digits
  before the point and 6 after, as a `numeric(24, 6)` column would hold it; a
  JSON number within those limits is taken and stored as such text. Never NaN
  or an infinity (a decimal column refuses them), nor text with an exponent
  (`"1E+999"` is a thousand digits written out).
* `date`: `"YYYY-MM-DD"` text, a real calendar date (not `20270505`, nor ISO's
  basic or week forms, which `date.fromisoformat` also reads).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from caseloop.cases.choices import CustomFieldType
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import CustomFieldDefinition
from caseloop.core import stamps
from caseloop.core.fastdb import all_rows

MIN_NUMBER, MAX_NUMBER = -(2**63), 2**63 - 1
DECIMAL_INTEGER_DIGITS, DECIMAL_PLACES = 18, 6
# ASCII digits only (\d would take other scripts' digits, which Decimal reads), no exponent, no "1." or ".5"
_DECIMAL_TEXT = re.compile(rf"[+-]?[0-9]{{1,{DECIMAL_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{DECIMAL_PLACES}}})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DESCRIPTIONS = {
    CustomFieldType.NUMBER: f"a whole number from {MIN_NUMBER} to {MAX_NUMBER}",
    CustomFieldType.DECIMAL: f"a decimal number written out, with at most {DECIMAL_INTEGER_DIGITS} digits before "
    f'the point and {DECIMAL_PLACES} after (e.g. "1234.50")',
    CustomFieldType.DATE: 'a date written YYYY-MM-DD (e.g. "2027-05-05")',
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decimal(value: Any) -> str | None:
    """The exact text of a decimal value, or None when it is not one within the limits."""
    if isinstance(value, str):
        # the pattern bounds the length before Decimal reads it
        return str(Decimal(value)) if _DECIMAL_TEXT.fullmatch(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return None
    text = format(number, "f")  # written out: 1e-05 is 0.00001
    if "." in text:
        text = text.rstrip("0").rstrip(".")  # a float's 100.0 is 100
    return text if _DECIMAL_TEXT.fullmatch(text) else None


def _coerce(definition: CustomFieldDefinition, value: Any) -> Any:
    if value is None:
        return None
    kind = definition.field_type
    what = _DESCRIPTIONS.get(CustomFieldType(kind), CustomFieldType(kind).label.lower())
    bad = CaseError(
        CaseErrorCode.BAD_CUSTOM_FIELD,
        f"{definition.label} must be {what}; got {_shown(value)}.",
        field=f"custom_fields.{definition.key}",
    )
    if kind == CustomFieldType.TEXT:
        if not isinstance(value, str):
            raise bad
        return value
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_NUMBER <= value <= MAX_NUMBER:
            raise bad
        return value
    if kind == CustomFieldType.DECIMAL:
        text = _decimal(value)
        if text is None:
            raise bad
        return text
    if kind == CustomFieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise bad
        return value
    if kind == CustomFieldType.DATE:
        if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
            raise bad
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError as exc:  # not a calendar date: 2027-02-30
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
        if definition.required and coerced in (None, ""):
            # a required field may start empty on a case older than the rule, but is not emptied
            raise CaseError(
                CaseErrorCode.MISSING_REQUIRED_FIELD,
                f"{definition.label} is required: it can change, not be cleared.",
                field=f"custom_fields.{definition.key}",
            )
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
