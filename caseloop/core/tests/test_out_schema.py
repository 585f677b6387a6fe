"""Response bodies read an object once into a dict (`OutSchema`), and read it as ninja's own getter does."""

from __future__ import annotations

import datetime as dt
import typing
from types import SimpleNamespace
from typing import Any

import pytest
from ninja import Field, Schema
from pydantic import BaseModel, ValidationError

from caseloop.core.schemas import OutSchema
from caseloop.testing.factories import make_case


def _pair(fields: dict[str, Any], resolvers: dict[str, Any] | None = None) -> tuple[type[Schema], type[Schema]]:
    """The same schema twice: on ninja's `Schema` (the reference) and on `OutSchema`."""
    twins = []
    for base in (Schema, OutSchema):
        namespace: dict[str, Any] = {"__annotations__": {name: kind for name, (kind, _) in fields.items()}}
        namespace.update({name: default for name, (_, default) in fields.items() if default is not ...})
        namespace.update({f"resolve_{name}": staticmethod(fn) for name, fn in (resolvers or {}).items()})
        twins.append(type(f"Twin{base.__name__}", (base,), namespace))
    return twins[0], twins[1]


class RefOut(OutSchema):
    id: int
    name: str


class NamedOut(OutSchema):
    id: int
    subject: str
    requester: RefOut
    tags: list[str]  # a many-to-many manager on the model: listed, as ninja's getter lists it
    number: str
    note: str = "none"  # absent on the model: the default


@pytest.mark.django_db
def test_a_model_instance_reads_as_with_ninjas_getter():
    case = make_case(subject="Gate stuck")
    case.tags.create(name="gate")
    reference, ours = _pair({
        "id": (int, ...), "subject": (str, ...), "status": (str, ...), "created_at": (dt.datetime, ...),
        "tags": (list[str], ...), "message_count": (int, ...), "note": (str, "none"),
    }, resolvers={"tags": lambda obj: sorted(t.name for t in obj.tags.all())})  # fmt: skip
    assert ours.model_validate(case).model_dump() == reference.model_validate(case).model_dump()
    nested = NamedOut.model_validate(SimpleNamespace(
        id=case.pk, subject=case.subject, requester=case.requester, tags=["gate"], number=case.number,
    ))  # fmt: skip
    assert nested.requester.name == case.requester.name and nested.note == "none"


@pytest.mark.django_db
def test_a_related_manager_is_listed_and_a_callable_is_called():
    case = make_case()
    case.tags.create(name="door")

    class TagOut(OutSchema):
        name: str

    class WithTagsOut(OutSchema):
        tags: list[TagOut]
        label: str

    source = SimpleNamespace(tags=case.tags, label=lambda: "called")
    assert WithTagsOut.model_validate(source).model_dump() == {"tags": [{"name": "door"}], "label": "called"}


def test_a_dict_is_read_by_key_with_resolvers_and_defaults():
    reference, ours = _pair(
        {"a": (int, ...), "b": (str, "default"), "c": (int, ...)}, resolvers={"c": lambda obj: obj["a"] * 2}
    )
    assert ours.model_validate({"a": 2}).model_dump() == reference.model_validate({"a": 2}).model_dump()
    assert ours.model_validate({"a": 2}).model_dump() == {"a": 2, "b": "default", "c": 4}


def test_a_missing_value_is_reported_as_missing_and_a_wrong_type_as_wrong():
    with pytest.raises(ValidationError) as missing:
        RefOut.model_validate(SimpleNamespace(id=1))
    assert [e["type"] for e in missing.value.errors()] == ["missing"]
    with pytest.raises(ValidationError) as wrong:
        RefOut.model_validate({"id": "x", "name": "n"})
    assert [e["type"] for e in wrong.value.errors()] == ["int_parsing"]


def test_a_resolver_may_read_the_context():
    class CtxOut(OutSchema):
        who: str

        @staticmethod
        def resolve_who(obj: Any, context: Any) -> str:
            return f"{obj.name} for {context['viewer']}"

    assert CtxOut.model_validate(SimpleNamespace(name="Ann"), context={"viewer": "Bo"}).who == "Ann for Bo"


def test_a_schema_instance_passes_as_it_is():
    ref = RefOut(id=3, name="Cy")
    assert RefOut.model_validate(ref) is ref


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.add(annotation)
        for field in annotation.model_fields.values():
            found |= _models_in(field.annotation)
    for arg in typing.get_args(annotation):
        found |= _models_in(arg)
    return found


def test_every_api_answer_is_read_by_outschema():
    # a response schema on ninja's plain Schema would still work, only slower: this keeps new ones in line
    from caseloop.api.main import api
    from caseloop.api.problems import FieldProblem, Problem

    answers: set[type[BaseModel]] = set()
    for router in api._get_bound_routers():
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in operation.response_models.values():
                    if isinstance(model, type) and issubclass(model, BaseModel):  # ninja's wrapper: one field
                        answers |= _models_in(model.model_fields["response"].annotation)
    assert len(answers) > 40
    plain = sorted(m.__name__ for m in answers if not issubclass(m, OutSchema) and m not in (Problem, FieldProblem))
    assert plain == []


def test_field_description_stays_in_the_openapi_document():
    class DescribedOut(OutSchema):
        id: int = Field(description="the key")

    assert DescribedOut.model_json_schema()["properties"]["id"]["description"] == "the key"
