"""Length limits on text read as a text's: "cannot be empty", "at most N characters", never "items"."""

from __future__ import annotations

import pytest

from caseloop.cases.models import Case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db


def _field_error(response) -> tuple[str, str, str]:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    [error] = body["errors"]
    return error["field"], error["code"], error["message"]


@pytest.mark.parametrize("subject", ["", "   "])
def test_patching_an_empty_subject_says_the_subject_cannot_be_empty(agent, subject):
    case = make_case(subject="Door")
    response = ApiClient(agent).patch(f"/cases/{case.pk}", {"subject": subject})
    field, code, message = _field_error(response)
    assert (field, code) == ("subject", "string_too_short")
    assert message == "The subject cannot be empty."
    case.refresh_from_db()
    assert case.subject == "Door"


def test_a_long_subject_is_counted_in_characters(agent):
    case = make_case()
    field, code, message = _field_error(ApiClient(agent).patch(f"/cases/{case.pk}", {"subject": "x" * 301}))
    assert (field, code, message) == ("subject", "string_too_long", "The subject is at most 300 characters.")
    assert ApiClient(agent).patch(f"/cases/{case.pk}", {"subject": "x" * 300}).status_code == 200


@pytest.mark.parametrize("subject", ["", " "])
def test_opening_a_case_without_a_subject_says_so_too(agent, subject):
    response = ApiClient(agent).post("/cases", {"subject": subject, "requester": {"id": make_contact().pk}})
    assert _field_error(response) == ("subject", "string_too_short", "The subject cannot be empty.")
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        ("/cases", {"subject": "s", "requester": {"email": "a" * 250 + "@x.io"}}, "requester.email",
         "String should have at most 254 characters"),
        ("/cases", {"subject": "s", "requester": {"phone": "1" * 65}}, "requester.phone",
         "String should have at most 64 characters"),
        ("/cases", {"subject": "s", "requester": {"email": "a@x.io", "name": "n" * 201}}, "requester.name",
         "String should have at most 200 characters"),
        ("/cases", {"subject": "s", "requester": {"email": "a@x.io"}, "message": {"body_text": "x"},
                    "external_id": ""}, "external_id", "String should have at least 1 character"),
        ("/cases/{case}/messages", {"direction": "note", "body_text": "x", "external_id": "e" * 256}, "external_id",
         "String should have at most 255 characters"),
    ],
)  # fmt: skip
def test_optional_text_limits_are_told_in_characters(agent, path, body, field, message):
    case = make_case()
    response = ApiClient(agent).post(path.format(case=case.pk), body)
    assert _field_error(response)[::2] == (field, message)


def test_list_filters_tell_their_limits_in_characters(agent):
    response = ApiClient(agent).get("/cases", {"tag": "t" * 51})
    assert _field_error(response)[::2] == ("tag", "String should have at most 50 characters")
