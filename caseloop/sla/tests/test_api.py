"""The SLA routes of /api/v1: calendars and policies (administrators), a case's clocks, compliance (managers)."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.identity.choices import Role
from caseloop.promises.tests.support import T0, committed
from caseloop.sla.models import SlaPolicy
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_case

pytestmark = pytest.mark.django_db

OFFICE = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_administrators_set_calendars_and_policies(admin_user, agent):
    admin = ApiClient(admin_user)
    calendar = admin.post(
        "/sla/calendars", {"name": "Office", "time_zone": "Europe/Paris", "hours": OFFICE, "holidays": ["2026-05-01"]}
    )
    assert calendar.status_code == 201 and calendar.json()["hours"]["mon"] == ["09:00-17:00"]
    bad = admin.post("/sla/calendars", {"name": "Bad", "time_zone": "Atlantis/City", "hours": OFFICE})
    assert (bad.status_code, bad.json()["code"], bad.json()["errors"][0]["field"]) == (422, "bad_calendar", "time_zone")
    policy = admin.post(
        "/sla/policies",
        {
            "name": "Standard",
            "calendar": calendar.json()["id"],
            "first_response_minutes": 240,
            "priorities": ["normal", "high"],
        },
    )
    assert policy.status_code == 201
    assert (policy.json()["calendar_id"], policy.json()["priorities"]) == (calendar.json()["id"], ["normal", "high"])
    none = admin.post("/sla/policies", {"name": "Empty"})
    assert (none.status_code, none.json()["code"]) == (422, "bad_policy")
    patched = admin.patch(f"/sla/policies/{policy.json()['id']}", {"resolution_minutes": 960, "is_active": False})
    assert (patched.json()["resolution_minutes"], patched.json()["is_active"]) == (960, False)
    refused = ApiClient(agent).post("/sla/policies", {"name": "Mine", "first_response_minutes": 1})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert [p["name"] for p in ApiClient(agent).get("/sla/policies").json()] == ["Standard"]
    assert SlaPolicy.objects.count() == 1


def test_a_cases_clocks_and_compliance(admin_user, agent):
    ApiClient(admin_user).post(
        "/sla/policies", {"name": "All", "first_response_minutes": 60, "resolution_minutes": 480}
    )
    with committed(T0):
        case = make_case()
    clocks = ApiClient(agent).get(f"/cases/{case.number}/sla").json()
    assert (clocks["policy"], clocks["first_response_due_at"], clocks["target"], clocks["paused_at"]) == (
        "All",
        "2026-03-02T10:00:00Z",
        "first response",
        None,
    )
    SlaPolicy.objects.update(is_active=False)
    # a case opened while no policy is active has no clocks
    assert ApiClient(agent).get(f"/cases/{make_case().number}/sla").json()["code"] == "not_found"
    SlaPolicy.objects.update(is_active=True)
    manager = make_agent(role=Role.MANAGER)
    rows = (
        ApiClient(manager)
        .get(
            "/sla/compliance",
            {
                "by": "channel",
                "since": (T0 - dt.timedelta(days=1)).isoformat(),
                "until": (T0 + dt.timedelta(days=1)).isoformat(),
            },
        )
        .json()
    )
    assert rows == [
        {
            "key": "api",
            "label": "API",
            "met": 0,
            "breached": 0,
            "rate": None,
            "first_met": 0,
            "first_breached": 0,
            "next_met": 0,
            "next_breached": 0,
            "resolution_met": 0,
            "resolution_breached": 0,
        }
    ]
    assert (
        ApiClient(agent).get("/sla/compliance", {"since": T0.isoformat(), "until": T0.isoformat()}).status_code == 403
    )
