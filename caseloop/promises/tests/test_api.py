"""The promise routes of /api/v1: make, list, keep, release, the kept rate and notices; refusals are problems."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.core import clock
from caseloop.identity.actions import add_member
from caseloop.promises.checker import check_promises
from caseloop.promises.models import Notice, Promise
from caseloop.promises.tests.support import T0, minutes
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_case, make_team

pytestmark = pytest.mark.django_db


def promise_body(target, **kw):
    return {
        "case": target.number,
        "kind": "call_back",
        "description": "call you back about the spring",
        "due_at": (T0 + minutes(60)).isoformat(),
        **kw,
    }


def test_a_rep_makes_a_promise_and_reads_it_back(agent):
    case = make_case()
    api = ApiClient(agent)
    with clock.frozen_at(T0):
        made = api.post("/promises", promise_body(case))
    assert made.status_code == 201
    body = made.json()
    assert (body["kind"], body["state"], body["owner_user"], body["due_at"], body["case_id"]) == (
        "call_back",
        "open",
        {"id": agent.pk, "name": agent.name},
        "2026-03-02T10:00:00Z",
        case.pk,
    )
    assert api.get(f"/promises/{body['id']}").json()["description"] == "call you back about the spring"
    listed = api.get("/promises", {"case": case.number}).json()
    assert [p["id"] for p in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    with clock.frozen_at(T0 + minutes(1)):
        mine = api.get("/promises", {"mine": "true"}).json()["items"]
    assert [p["id"] for p in mine] == [body["id"]]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"due_at": (T0 - minutes(5)).isoformat()}, 422, "bad_due"),
        ({"description": " "}, 422, "empty_promise"),
        ({"kind": "moonshot"}, 422, "validation_error"),
        ({"owner_team": 999999}, 404, "not_found"),
        ({"case": "CL-1"}, 404, "not_found"),
        ({"extra": 1}, 422, "validation_error"),
    ],
)
def test_a_bad_promise_is_a_problem_and_nothing_is_made(agent, change, status, code):
    with clock.frozen_at(T0):
        response = ApiClient(agent).post("/promises", promise_body(make_case(), **change))
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response["Content-Type"] == "application/problem+json" and not Promise.objects.exists()


def test_a_customer_sees_only_promises_made_to_them_and_cannot_make_one(agent, customer):
    mine = make_case(requester=customer.contact)
    theirs = make_case()
    with clock.frozen_at(T0):
        ApiClient(agent).post("/promises", promise_body(mine))
        ApiClient(agent).post("/promises", promise_body(theirs))
        refused = ApiClient(customer).post("/promises", promise_body(mine))
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    items = ApiClient(customer).get("/promises").json()["items"]
    assert [p["case_id"] for p in items] == [mine.pk]
    other = Promise.objects.get(case=theirs)
    assert ApiClient(customer).get(f"/promises/{other.pk}").status_code == 404


def test_keep_and_release_through_the_api(agent):
    case = make_case()
    api = ApiClient(agent)
    with clock.frozen_at(T0):
        first = api.post("/promises", promise_body(case)).json()["id"]
        second = api.post("/promises", promise_body(case)).json()["id"]
    with clock.frozen_at(T0 + minutes(5)):
        kept = api.post(f"/promises/{first}/kept", {"note": "posted the part"})
        released = api.post(f"/promises/{second}/release", {"reason": "The customer will visit the shop."})
        again = api.post(f"/promises/{second}/kept", {})
    assert (kept.json()["state"], kept.json()["kept_by"]) == ("kept", "hand")
    assert (released.json()["state"], released.json()["release_reason"]) == (
        "released",
        "The customer will visit the shop.",
    )
    assert (again.status_code, again.json()["code"]) == (409, "promise_not_open")


def test_the_kept_rate_and_notices(agent):
    lead = make_agent()
    team = make_team()
    add_member(team=team, user=agent)
    add_member(team=team, user=lead, is_lead=True)
    case = make_case()
    api = ApiClient(agent)
    with clock.frozen_at(T0):
        api.post("/promises", promise_body(case))
    check_promises(now=T0 + minutes(61))
    rate = api.get(
        "/promises/kept-rate",
        {"by": "person", "since": T0.isoformat(), "until": (T0 + dt.timedelta(days=1)).isoformat()},
    )
    assert rate.json() == [{"key": str(agent.pk), "label": agent.name, "kept": 0, "broken": 1, "rate": 0.0}]
    bad = api.get("/promises/kept-rate", {"by": "mood", "since": T0.isoformat(), "until": T0.isoformat()})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    notices = ApiClient(lead).get("/notices", {"unread": "true"}).json()["items"]
    assert [(n["kind"], n["case_id"]) for n in notices] == [("broken", case.pk)]
    assert ApiClient(lead).post("/notices/read", {}).json() == {"marked": 1}
    assert Notice.objects.filter(recipient=lead, read_at__isnull=True).count() == 0
