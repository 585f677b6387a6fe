"""Request bodies are validated once, and still refuse what they always refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError, field_validator

from caseloop.core.schemas import Id, InSchema

calls: list[str] = []


class InnerIn(InSchema):
    code: str

    @field_validator("code")
    @classmethod
    def _count(cls, value: str) -> str:
        calls.append(value)
        return value


class OuterIn(InSchema):
    name: str
    inner: InnerIn
    items: list[InnerIn] = []


def test_a_body_is_validated_once_nested_schemas_included():
    calls.clear()
    body = OuterIn.model_validate({"name": "n", "inner": {"code": "a"}, "items": [{"code": "b"}]})
    assert body.inner.code == "a" and body.items[0].code == "b"
    assert calls == ["a", "b"]  # ninja's own validator ran each field twice for a schema forbidding extras


@pytest.mark.parametrize(
    "body",
    [
        {"name": "n", "inner": {"code": "a"}, "colour": "red"},
        {"name": "n", "inner": {"code": "a", "colour": "red"}},
        {"name": "n", "inner": {"code": "a"}, "items": [{"code": "b", "colour": "red"}]},
        {"name": 5, "inner": {"code": "a"}},
        {"inner": {"code": "a"}},
    ],
)
def test_unknown_fields_wrong_types_and_missing_fields_are_still_refused(body):
    with pytest.raises(ValidationError):
        OuterIn.model_validate(body)


def test_an_object_is_still_read_by_its_attributes():
    calls.clear()
    inner = InnerIn.model_validate(SimpleNamespace(code="c"))
    assert inner.code == "c"


class PointerIn(InSchema):
    id: Id
    ids: list[Id] = []


@pytest.mark.parametrize("body", [{"id": True}, {"id": False}, {"id": 3, "ids": [2, True]}])
def test_true_or_false_is_not_an_id(body):
    # lax pydantic reads true as 1: a requester {"id": true} opened a case for contact 1
    with pytest.raises(ValidationError, match="not true or false"):
        PointerIn.model_validate(body)


def test_a_number_is_an_id():
    assert PointerIn.model_validate({"id": 7, "ids": [1, 2]}).ids == [1, 2]


def test_optional_texts_in_every_patch_say_a_strings_length():
    # Field(max_length) on `Text | None` was checked as a generic sequence's: "at least 1 item after validation"
    from caseloop.feedback.schemas import SurveyRulePatch
    from caseloop.policies.schemas import RulePatch
    from caseloop.pricing.schemas import ItemPatch
    from caseloop.sla.schemas import PolicyPatch

    for schema, field, limit in ((SurveyRulePatch, "name", 100), (RulePatch, "condition", 2000),
                                 (ItemPatch, "unit", 30), (PolicyPatch, "name", 100)):  # fmt: skip
        with pytest.raises(ValidationError) as too_long:
            schema.model_validate({field: "x" * (limit + 1)})
        assert f"at most {limit} characters" in str(too_long.value)
        with pytest.raises(ValidationError, match="NUL"):
            schema.model_validate({field: "a\x00"})
