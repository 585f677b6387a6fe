"""`GET /timeline?subject=case:CL-10234`: a case is named by its number here too, as in `/cases/CL-10234`."""

from __future__ import annotations

import pytest
from django.conf import settings

from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


def _events(response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.content
    return [(event["kind"], event["subject"]["id"]) for event in response.json()["items"]]


def test_a_case_number_names_the_same_case_as_its_id(agent):
    case = make_case()
    api = ApiClient(agent)
    prefix = settings.CASELOOP_CASE_NUMBER_PREFIX
    by_id = _events(api.get("/timeline", {"subject": f"case:{case.pk}"}))
    assert by_id and {subject for _, subject in by_id} == {case.pk}
    for subject in (f"case:{prefix}-{case.pk}", f"case:{prefix.lower()}-{case.pk}", f"case:{case.number}"):
        assert _events(api.get("/timeline", {"subject": subject})) == by_id, subject


def test_a_customer_still_reads_only_their_own_case_by_number(customer, other_customer):
    mine = make_case(requester=customer.contact)
    theirs = make_case(requester=other_customer.contact)
    api = ApiClient(customer)
    assert _events(api.get("/timeline", {"subject": f"case:{mine.number}"}))
    response = api.get("/timeline", {"subject": f"case:{theirs.number}"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    "subject",
    ["case:CL-", "case:CL-abc", "case:CL--1", "case:CL-0", "case: CL-1", "case:XX-1", "contact:CL-1",
     "case:CL-\u0661\u0660"],  # the last: Arabic-Indic digits
)  # fmt: skip
def test_a_malformed_case_number_is_a_400(agent, subject):
    response = ApiClient(agent).get("/timeline", {"subject": subject})
    assert (response.status_code, response.json()["code"]) == (400, "bad_subject"), subject
