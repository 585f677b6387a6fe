"""`PATCH /cases/{id}` takes `tags` (the whole set) or `add_tags`/`remove_tags`, never a contradiction."""

from __future__ import annotations

import pytest

from caseloop.cases.models import Case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db


def _tags(case: Case) -> list[str]:
    return sorted(case.tags.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": ["x"], "add_tags": ["y"], "remove_tags": ["x"]}, "add_tags"),
        ({"tags": ["x"], "add_tags": ["y"]}, "add_tags"),
        ({"tags": ["x"], "remove_tags": ["b"]}, "remove_tags"),
        ({"tags": [], "remove_tags": []}, "remove_tags"),  # both ways named, even empty: which one is meant?
        ({"add_tags": ["b"], "remove_tags": ["b"]}, "remove_tags"),
        ({"add_tags": ["New"], "remove_tags": [" new "]}, "remove_tags"),  # the same tag once normalised
        ({"add_tags": ["b", "c"], "remove_tags": ["a", "C"]}, "remove_tags"),
    ],
)
def test_contradictory_tag_instructions_are_a_validation_error_naming_the_field(agent, body, field):
    case = make_case(tags=["a", "b"])
    audits = AuditEntry.objects.count()
    response = ApiClient(agent).patch(f"/cases/{case.pk}", {"priority": "high", **body})
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == [field]
    case.refresh_from_db()
    assert (_tags(case), case.priority) == (["a", "b"], "normal")
    assert AuditEntry.objects.count() == audits


def test_each_way_alone_still_works(agent):
    case = make_case(tags=["a", "b"])
    api = ApiClient(agent)
    whole = api.patch(f"/cases/{case.pk}", {"tags": ["X", "b"]})
    assert whole.status_code == 200 and whole.json()["tags"] == ["b", "x"]
    both = api.patch(f"/cases/{case.pk}", {"add_tags": ["c"], "remove_tags": ["x"]})
    assert both.status_code == 200 and both.json()["tags"] == ["b", "c"]
    assert _tags(case) == ["b", "c"]


def test_a_conflict_is_reported_before_a_bad_tag(agent):
    case = make_case()
    response = ApiClient(agent).patch(f"/cases/{case.pk}", {"add_tags": ["two words"], "remove_tags": [" "]})
    # neither names a usable tag: nothing contradicts, the action's own check names the bad one
    assert (response.status_code, response.json()["code"]) == (422, "bad_tag")
