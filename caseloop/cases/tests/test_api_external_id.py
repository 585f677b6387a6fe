"""A message's `external_id` already used on another case: who may be told which case holds it."""

from __future__ import annotations

from typing import Any

import pytest

from caseloop.cases.models import Case, Message
from caseloop.identity.models import User
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int, list[tuple[int, int]]]:
    counts = list(Case.objects.order_by("id").values_list("id", "message_count"))
    return Message.objects.count(), TimelineEvent.objects.count(), AuditEntry.objects.count(), counts


def _post(who: User | ApiClient, case: Case, direction: str, external_id: str) -> Any:
    api = who if isinstance(who, ApiClient) else ApiClient(who)
    body = {"direction": direction, "body_text": "a", "external_id": external_id}
    return api.post(f"/cases/{case.pk}/messages", body)


def test_staff_reusing_an_external_id_on_another_case_are_told_which_case_holds_it(agent):
    first, second = make_case(subject="Cora's door"), make_case(subject="Other")
    api = ApiClient(agent)
    assert _post(api, first, "outbound", "ext-cora").status_code == 201
    before = _snapshot()
    response = _post(api, second, "outbound", "ext-cora")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "external_id_taken"
    assert first.number in body["detail"] and "ext-cora" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["external_id"]
    assert _snapshot() == before


def test_a_redelivery_to_the_same_case_still_answers_the_first_message(agent):
    case = make_case()
    api = ApiClient(agent)
    first = _post(api, case, "outbound", "ext-cora")
    before = _snapshot()
    again = _post(api, case, "outbound", "ext-cora")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert _snapshot() == before


def test_staff_are_told_even_when_the_holder_is_a_note(agent):
    first, second = make_case(), make_case()
    api = ApiClient(agent)
    assert _post(api, first, "note", "ext-n").status_code == 201
    response = _post(api, second, "note", "ext-n")
    assert (response.status_code, response.json()["code"]) == (409, "external_id_taken")
    assert first.number in response.json()["detail"]


def test_a_customer_is_not_told_about_a_case_they_cannot_see(customer, other_customer):
    theirs = make_case(requester=other_customer.contact, subject="Oscar's secret")
    mine = make_case(requester=customer.contact)
    assert _post(other_customer, theirs, "inbound", "e-1").status_code == 201
    before = _snapshot()
    response = _post(customer, mine, "inbound", "e-1")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    text = response.content.decode()
    assert theirs.number not in text and str(theirs.pk) not in text and "secret" not in text
    assert _snapshot() == before


def test_a_customer_is_not_told_about_a_note_they_cannot_read(agent, customer):
    mine, other_of_mine = make_case(requester=customer.contact), make_case(requester=customer.contact)
    assert _post(agent, mine, "note", "e-2").status_code == 201
    api = ApiClient(customer)
    before = _snapshot()
    for case in (mine, other_of_mine):
        response = _post(api, case, "inbound", "e-2")
        assert (response.status_code, response.json()["code"]) == (409, "conflict")
        assert mine.number not in response.content.decode()
    assert _snapshot() == before


def test_a_customer_reusing_their_own_external_id_on_another_of_their_cases_is_told_where(customer):
    first, second = make_case(requester=customer.contact), make_case(requester=customer.contact)
    api = ApiClient(customer)
    assert _post(api, first, "inbound", "e-3").status_code == 201
    response = _post(api, second, "inbound", "e-3")
    assert (response.status_code, response.json()["code"]) == (409, "external_id_taken")
    assert first.number in response.json()["detail"]
