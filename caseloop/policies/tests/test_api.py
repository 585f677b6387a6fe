"""The policies routes of /api/v1: rules, the verdict, status changes, limits, concessions, approvals and reviews."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.identity.choices import Role
from caseloop.policies.actions import set_authority_limit
from caseloop.policies.models import Concession, Override, Rule
from caseloop.promises.tests.support import T0, minutes
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db

REASON = "The customer confirmed on the phone that it works now."
# the feedback domain registers its survey outcome at start-up; nothing answered here
SURVEYS_NONE = {"answered": 0, "met_or_exceeded": 0, "met_rate": None, "mean_ces": None}


def rule_body(**kw):
    return {
        "name": "Confirm urgent fixes",
        "explanation": "Call the customer before solving an urgent case.",
        "kind": "guideline",
        "applies_to": ["status_change"],
        "condition": 'action.to_status == "solved" and case.priority == "urgent"',
        **kw,
    }


def test_managers_write_rules_and_a_bad_condition_says_where(manager, agent):
    api = ApiClient(manager)
    created = api.post("/rules", rule_body())
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["applies_to"], body["is_active"]) == ("guideline", ["status_change"], True)
    bad = api.post("/rules", rule_body(name="Other", condition="case.priority > 1"))
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_condition")
    assert bad.json()["errors"] == [{"field": "condition", "code": "bad_condition", "message": bad.json()["detail"]}]
    assert "'>' compares numbers, not a string" in bad.json()["detail"]
    assert ApiClient(agent).post("/rules", rule_body(name="Mine")).status_code == 403
    patched = api.patch(f"/rules/{body['id']}", {"is_active": False})
    assert patched.json()["is_active"] is False
    assert ApiClient(agent).get("/rules").json()[0]["name"] == "Confirm urgent fixes"
    assert api.patch(f"/rules/{body['id']}", {"name": None}).json()["code"] == "invalid"
    assert Rule.objects.count() == 1


def test_the_verdict_before_acting_and_the_status_change_with_a_reason(manager, agent):
    ApiClient(manager).post("/rules", rule_body())
    case = make_case(priority="urgent")
    api = ApiClient(agent)
    verdict = api.post("/rules/check", {"case": case.number, "kind": "status_change", "to_status": "solved"})
    assert verdict.json() == {
        "allowed": False,
        "refusals": [],
        "guidelines": [
            {
                "id": Rule.objects.get().pk,
                "name": "Confirm urgent fixes",
                "explanation": "Call the customer before solving an urgent case.",
            }
        ],
    }
    refused = api.post(f"/cases/{case.number}/status-change", {"status": "solved"})
    assert (refused.status_code, refused.json()["code"]) == (422, "guideline_reason_required")
    assert refused.json()["errors"][0]["field"] == "override_reason"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    done = api.post(f"/cases/{case.number}/status-change", {"status": "solved", "override_reason": REASON})
    assert done.json() == {"status": "solved"} and Override.objects.count() == 1
    # the cases API's own PATCH is put to the rules too
    other = make_case(priority="urgent")
    patched = api.patch(f"/cases/{other.pk}", {"status": "solved"})
    assert (patched.status_code, patched.json()["code"]) == (422, "guideline_reason_required")
    # and takes the reason the refusal asks for, in the same body
    patched = api.patch(f"/cases/{other.pk}", {"status": "solved", "override_reason": REASON})
    assert patched.status_code == 200 and patched.json()["status"] == "solved"
    lone = api.patch(f"/cases/{other.pk}", {"override_reason": REASON})
    assert (lone.status_code, lone.json()["errors"][0]["field"]) == (422, "override_reason")
    overrides = ApiClient(manager).get("/overrides").json()
    assert sorted((o["case_id"], o["reason"], o["actor"]["id"]) for o in overrides) == [
        (case.pk, REASON, agent.pk), (other.pk, REASON, agent.pk)]  # fmt: skip
    assert ApiClient(agent).get("/overrides").status_code == 403


def test_an_integrity_rule_is_a_403_with_its_explanation(manager, agent):
    ApiClient(manager).post(
        "/rules",
        rule_body(
            name="Legal hold",
            kind="integrity",
            condition='"hold" in case.tags',
            explanation="Legal must release it first.",
        ),
    )
    case = make_case(tags=["hold"])
    refused = ApiClient(agent).post(
        f"/cases/{case.number}/status-change", {"status": "open", "override_reason": REASON}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "integrity_rule")
    assert "Legal must release it first." in refused.json()["detail"]


@pytest.fixture
def limits(admin_user):
    set_authority_limit(actor=admin_user, action="credit", role=Role.AGENT, per_case="50")
    set_authority_limit(actor=admin_user, action="credit", role=Role.MANAGER, per_case="500")


def test_a_credit_within_authority_and_the_refusals_as_problems(agent, limits):
    case = make_case()
    api = ApiClient(agent)
    given = api.post(f"/cases/{case.number}/concessions", {"kind": "credit", "amount": "25.5", "note": "Late visit"})
    assert given.status_code == 201
    body = given.json()
    assert (body["amount"], body["currency"], body["state"], body["approval"], body["percent"]) == (
        "25.50",
        "USD",
        "granted",
        None,
        None,
    )
    cases = [
        ({"kind": "credit", "amount": "-5", "note": "x"}, 422, "bad_amount"),
        ({"kind": "credit", "amount": "0", "note": "x"}, 422, "bad_amount"),
        ({"kind": "credit", "amount": "1.234", "note": "x"}, 422, "bad_amount"),
        ({"kind": "credit", "amount": "5", "currency": "EUR", "note": "x"}, 422, "currency_mismatch"),
        ({"kind": "credit", "amount": "5", "currency": "EURO", "note": "x"}, 422, "validation_error"),
        ({"kind": "credit", "amount": "40", "note": "x"}, 403, "above_authority"),
        ({"kind": "refund", "amount": "5", "note": "x"}, 403, "above_authority"),
        ({"kind": "discount", "amount": "5", "note": "x"}, 422, "bad_amount"),
        ({"kind": "credit", "amount": "5", "note": "x", "ask_approval": True, "surprise": 1}, 422, "validation_error"),
    ]
    for payload, status, code in cases:
        response = api.post(f"/cases/{case.number}/concessions", payload)
        assert (response.status_code, response.json()["code"]) == (status, code), payload
    assert Concession.objects.count() == 1
    assert [c["amount"] for c in api.get(f"/cases/{case.number}/concessions").json()] == ["25.50"]


def test_an_approval_through_the_api(agent, manager, limits):
    case = make_case()
    with clock.frozen_at(T0):
        asked = ApiClient(agent).post(
            f"/cases/{case.number}/concessions",
            {
                "kind": "credit",
                "amount": "120",
                "note": "Three missed visits",
                "ask_approval": True,
                "approval_reason": "Loyal customer",
            },
        )
    approval = asked.json()["approval"]
    assert (asked.json()["state"], approval["approver"]["id"], approval["due_at"]) == (
        "pending",
        manager.pk,
        "2026-03-02T09:15:00Z",
    )
    waiting = ApiClient(manager).get("/approvals").json()
    assert [a["id"] for a in waiting] == [approval["id"]]
    own = ApiClient(agent).post(f"/approvals/{approval['id']}/decision", {"approve": True, "reason": "ok"})
    assert (own.status_code, own.json()["code"]) == (403, "not_approver")
    with clock.frozen_at(T0 + minutes(4)):
        decided = ApiClient(manager).post(
            f"/approvals/{approval['id']}/decision", {"approve": True, "reason": "Keep them."}
        )
    assert (decided.json()["state"], decided.json()["decided_by"]["id"]) == ("approved", manager.pk)
    again = ApiClient(manager).post(f"/approvals/{approval['id']}/decision", {"approve": False, "reason": "No."})
    assert (again.status_code, again.json()["code"]) == (409, "approval_closed")
    turnaround = ApiClient(manager).get(
        "/approvals/turnaround", {"since": T0.isoformat(), "until": (T0 + dt.timedelta(days=1)).isoformat()}
    )
    assert turnaround.json() == [
        {
            "approver": {"id": manager.pk, "name": manager.name},
            "decided": 1,
            "escalated": 0,
            "p50_minutes": 4.0,
            "p90_minutes": 4.0,
        }
    ]


def test_nobody_to_approve_is_a_409(agent):
    response = ApiClient(agent).post(
        f"/cases/{make_case().number}/concessions",
        {"kind": "credit", "amount": "10", "note": "x", "ask_approval": True},
    )
    assert (response.status_code, response.json()["code"]) == (409, "no_approver")


def test_limits_are_set_by_administrators_and_read_by_staff(admin_user, agent):
    admin = ApiClient(admin_user)
    made = admin.put(
        "/authority-limits",
        {"action": "credit", "role": "agent", "per_case": "50", "per_period": "200", "period_days": 30},
    )
    assert made.status_code == 200
    assert (made.json()["per_case"], made.json()["per_period"], made.json()["currency"]) == ("50.00", "200.00", "USD")
    mine = {a["kind"]: a for a in ApiClient(agent).get("/authority/me").json()}
    assert (mine["credit"]["per_case"], mine["credit"]["source"], mine["refund"]["per_case"]) == (
        "50.00",
        "role Agent",
        None,
    )
    refused = ApiClient(agent).put("/authority-limits", {"action": "credit", "role": "agent", "per_case": "5000"})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    limit_id = made.json()["id"]
    assert ApiClient(agent).delete(f"/authority-limits/{limit_id}").status_code == 403
    assert admin.delete(f"/authority-limits/{limit_id}").status_code == 204


def test_the_override_review_for_managers(manager, agent):
    ApiClient(manager).post("/rules", rule_body())
    case = make_case(priority="urgent")
    with clock.frozen_at(T0):
        ApiClient(agent).post(f"/cases/{case.number}/status-change", {"status": "solved", "override_reason": REASON})
    review = (
        ApiClient(manager)
        .get("/overrides/review", {"since": (T0 - minutes(60)).isoformat(), "until": (T0 + minutes(60)).isoformat()})
        .json()
    )
    assert review == [
        {
            "rule": {"id": Rule.objects.get().pk, "name": "Confirm urgent fixes"},
            "kind": "guideline",
            "overrides": 1,
            "by_rep": [{"name": agent.name, "count": 1}],
            "by_team": [{"name": "no team", "count": 1}],
            "overridden": {"cases": 1, "reopened": 0, "reopen_rate": 0.0, "surveys": SURVEYS_NONE},
            "comparable": {"cases": 0, "reopened": 0, "reopen_rate": None, "surveys": SURVEYS_NONE},
            "suggestion": "",
        }
    ]
    assert (
        ApiClient(agent).get("/overrides/review", {"since": T0.isoformat(), "until": T0.isoformat()}).status_code == 403
    )


@pytest.mark.parametrize(
    ("per_case", "why"),
    [("50.005", "more than two decimals"), ("10000000000000", "at most"), ("1e30", "at most")],
)
def test_a_limit_is_refused_rather_than_rounded_or_stored_past_its_column(admin_user, agent, per_case, why):
    # given a credit limit in place
    admin = ApiClient(admin_user)
    admin.put("/authority-limits", {"action": "credit", "role": "agent", "per_case": "50"})
    # when an administrator types one with three decimals, or one too large for the column
    refused = admin.put("/authority-limits", {"action": "credit", "role": "agent", "per_case": per_case})
    # then it is refused with the reason, and the limits still read (a stored 14-digit one made them all 500s)
    assert (refused.status_code, refused.json()["code"]) == (422, "bad_limit")
    assert why in refused.json()["detail"]
    assert [row["per_case"] for row in admin.get("/authority-limits").json()] == ["50.00"]
    assert ApiClient(agent).get("/authority/me").status_code == 200


def test_a_discount_with_three_decimals_is_refused_not_rounded_into_the_limit(admin_user, agent):
    set_authority_limit(actor=admin_user, action="discount", role=Role.AGENT, per_case="10")
    case = make_case()
    refused = ApiClient(agent).post(
        f"/cases/{case.number}/concessions", {"kind": "discount", "percent": "10.004", "note": "Late delivery"}
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "bad_amount")
    assert not Concession.objects.exists()
