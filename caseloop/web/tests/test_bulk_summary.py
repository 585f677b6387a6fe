"""The inbox's bulk change summary: says whether anything was done, names each refusal once, stays short."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.identity.models import User
from caseloop.testing.factories import make_agent, make_case
from caseloop.web.views.inbox import MAX_BULK_CASES, NAMED_REFUSALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(client: Client) -> User:
    user = make_agent(username="rita", display_name="Rita Rep")
    client.force_login(user)
    return user


def _closed(actor: User) -> Case:
    case = make_case()
    change_status(actor=actor, case=case, status=CaseStatus.SOLVED)
    change_status(actor=actor, case=case, status=CaseStatus.CLOSED)
    case.refresh_from_db()
    return case


def _flash(client: Client, data: dict[str, object]) -> str:
    response = client.post("/inbox/bulk/", data, follow=True)
    assert response.status_code == 200
    found = re.findall(r'<p class="flash-item[^"]*">(.*?)</p>', response.content.decode(), re.S)
    assert len(found) == 1, found
    return unescape(re.sub(r"<[^>]+>", "", found[0]))


def test_when_no_case_changed_it_says_not_done_and_names_each_case_once(client: Client, rep: User) -> None:
    first, second = _closed(rep), _closed(rep)
    text = _flash(client, {"cases": [first.pk, second.pk], "op": "status", "status": "open"})
    assert text == (f"Not done. No case was changed. {first.number} is closed and cannot change. "
                    f"{second.number} is closed and cannot change.")  # fmt: skip
    assert ".;" not in text and "Partly" not in text
    assert set(Case.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"closed"}


def test_when_some_changed_it_says_partly_done(client: Client, rep: User) -> None:
    fine, closed = make_case(), _closed(rep)
    text = _flash(client, {"cases": [fine.pk, closed.pk, 424242], "op": "status", "status": "pending"})
    assert text == (f"Partly done. 1 case set to pending (waiting on customer). Not changed: {closed.number} is "
                    "closed and cannot change. Case 424242 was not found.")  # fmt: skip
    assert Case.objects.get(pk=fine.pk).status == CaseStatus.PENDING


def test_when_all_changed_it_says_done(client: Client, rep: User) -> None:
    cases = [make_case(), make_case()]
    text = _flash(client, {"cases": [c.pk for c in cases], "op": "tag", "tag": "recall"})
    assert text == "Done. 2 cases tagged “recall”."


def test_many_refusals_name_the_first_few_then_count_the_rest(client: Client, rep: User) -> None:
    closed = [_closed(rep) for _ in range(NAMED_REFUSALS + 3)]
    text = _flash(client, {"cases": [c.pk for c in closed], "op": "status", "status": "open"})
    for case in closed[:NAMED_REFUSALS]:
        assert text.count(case.number) == 1
    for case in closed[NAMED_REFUSALS:]:
        assert case.number not in text
    assert text.endswith("Also not changed: 3 more cases.")


def test_more_cases_than_the_cap_are_refused_and_nothing_changes(client: Client, rep: User) -> None:
    case = make_case()
    ids = [case.pk] + [900_000 + n for n in range(MAX_BULK_CASES)]
    text = _flash(client, {"cases": ids, "op": "status", "status": "pending"})
    assert text == f"Not done. Select at most {MAX_BULK_CASES} cases for one change."
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_a_case_ticked_twice_is_changed_and_counted_once(client: Client, rep: User) -> None:
    case = make_case()
    text = _flash(client, {"cases": [case.pk, case.pk], "op": "status", "status": "pending"})
    assert text == "Done. 1 case set to pending (waiting on customer)."
