"""The pages of promises, policies, SLAs and quotes: the panels beside a case, the staff pages, the public prices."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.money import Money
from caseloop.identity.choices import Role
from caseloop.policies.actions import create_rule, set_authority_limit
from caseloop.policies.models import ApprovalRequest, AuthorityLimit, Concession, Override, Rule
from caseloop.pricing.actions import publish_price, save_item
from caseloop.pricing.models import Quote
from caseloop.promises.actions import make_promise
from caseloop.promises.choices import PromiseKind, PromiseState
from caseloop.promises.models import Promise
from caseloop.promises.tests.support import T0, committed, minutes
from caseloop.sla.actions import save_policy
from caseloop.testing.factories import make_case
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
REASON = "The customer confirmed on the phone that it works now."


@pytest.fixture
def limits(admin_user):
    set_authority_limit(actor=admin_user, action="credit", role=Role.AGENT, per_case="50")
    set_authority_limit(actor=admin_user, action="credit", role=Role.MANAGER, per_case="500")


def test_the_case_page_loads_each_domains_panel(agent):
    case = make_case()
    page = signed_in(agent).get(f"/cases/{case.pk}/").content.decode()
    for url in (
        f"/sla/cases/{case.pk}/",
        f"/promises/cases/{case.pk}/",
        f"/policies/cases/{case.pk}/",
        f"/prices/cases/{case.pk}/quotes/",
    ):
        assert f'hx-get="{url}"' in page
        assert signed_in(agent).get(url, headers=HTMX).status_code == 200


def test_a_promise_is_made_from_the_case_panel_in_the_reps_time_zone(agent):
    agent.time_zone = "Europe/Paris"
    agent.save(update_fields=["time_zone"])
    case = make_case()
    with clock.frozen_at(T0):
        response = signed_in(agent).post(
            f"/promises/cases/{case.pk}/",
            {"kind": "call_back", "description": "call back about the spring", "due_at": "2026-03-02T15:00"},
            headers=HTMX,
        )
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    promise = Promise.objects.get()
    assert (promise.due_at, promise.owner_user_id) == (T0 + minutes(300), agent.pk)  # 15:00 in Paris is 14:00 UTC
    assert "call back about the spring" in response.content.decode()
    with clock.frozen_at(T0):
        refused = signed_in(agent).post(
            f"/promises/cases/{case.pk}/",
            {"kind": "call_back", "description": "x", "due_at": "2026-03-01T09:00"},
            headers=HTMX,
        )
    assert refused.status_code == 422 and "A promise is due in the future." in refused.content.decode()
    assert Promise.objects.count() == 1
    other = make_case(requester=case.requester)
    also = signed_in(agent).get(f"/promises/cases/{other.pk}/", headers=HTMX).content.decode()
    assert "Also owed to" in also and "call back about the spring" in also and case.number in also
    with clock.frozen_at(T0 + minutes(5)):
        kept = signed_in(agent).post(f"/promises/{promise.pk}/kept/", {}, headers=HTMX)
    assert kept.status_code == 200 and Promise.objects.get().state == PromiseState.KEPT


def test_my_promises_and_the_kept_rate_pages(agent):
    case = make_case()
    with clock.frozen_at(T0):
        make_promise(
            actor=agent,
            case=case,
            kind=PromiseKind.CALL_BACK,
            description="call back at three",
            due_at=T0 + minutes(60),
        )
    page = signed_in(agent).get("/promises/").content.decode()
    assert "call back at three" in page and case.number in page
    rate = signed_in(agent).get("/promises/kept-rate/", {"by": "kind", "days": "90"})
    assert rate.status_code == 200 and "Promises kept" in rate.content.decode()


def test_a_credit_from_the_panel_and_a_guideline_asking_for_a_reason(agent, manager, limits):
    create_rule(
        actor=manager,
        name="Credits need a reason",
        kind="guideline",
        applies_to=["credit"],
        condition="action.amount > 20",
        explanation="Say why the credit is more than 20.",
    )
    case = make_case()
    client = signed_in(agent)
    asked = client.post(
        f"/policies/cases/{case.pk}/", {"kind": "credit", "value": "30", "note": "Missed visit"}, headers=HTMX
    )
    body = asked.content.decode()
    assert (
        asked.status_code == 422 and "Say why the credit is more than 20." in body and 'name="override_reason"' in body
    )
    assert not Concession.objects.exists()
    given = client.post(
        f"/policies/cases/{case.pk}/",
        {"kind": "credit", "value": "30", "note": "Missed visit", "override_reason": REASON},
        headers=HTMX,
    )
    assert given.status_code == 200 and "Credit of 30.00 USD given." in given.content.decode()
    assert Concession.objects.get().state == "granted" and Override.objects.count() == 1


def test_above_authority_the_panel_asks_for_approval_and_the_approver_decides(agent, manager, limits):
    case = make_case()
    client = signed_in(agent)
    refused = client.post(
        f"/policies/cases/{case.pk}/", {"kind": "credit", "value": "120", "note": "Three visits"}, headers=HTMX
    )
    assert refused.status_code == 403 and "beyond your authority" in refused.content.decode()
    with clock.frozen_at(T0):
        asked = client.post(
            f"/policies/cases/{case.pk}/",
            {"kind": "credit", "value": "120", "note": "Three visits", "ask_approval": "on"},
            headers=HTMX,
        )
    assert f"Asked {manager.name} to approve it" in asked.content.decode()
    approval = ApprovalRequest.objects.get()
    page = signed_in(manager).get("/policies/approvals/").content.decode()
    assert "Three visits" in page
    with clock.frozen_at(T0 + minutes(3)):
        decided = signed_in(manager).post(
            f"/policies/approvals/{approval.pk}/decide/", {"decision": "approve", "reason": "Fine."}
        )
    assert decided.status_code == 302
    assert Concession.objects.get().state == "granted"


def test_a_status_change_with_a_reason_from_the_panel(agent, manager):
    create_rule(
        actor=manager,
        name="Confirm",
        kind="guideline",
        applies_to=["status_change"],
        condition='action.to_status == "solved"',
        explanation="Confirm with the customer first.",
    )
    case = make_case()
    # the workspace's own status control meets the guideline and says so
    props = signed_in(agent).post(f"/cases/{case.pk}/edit/", {"status": "solved"}, headers=HTMX)
    assert "Confirm with the customer first." in props.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    done = signed_in(agent).post(
        f"/policies/cases/{case.pk}/status/", {"status": "solved", "override_reason": REASON}, headers=HTMX
    )
    assert done.status_code == 200 and Case.objects.get(pk=case.pk).status == CaseStatus.SOLVED


def test_rules_limits_and_review_pages(agent, manager, admin_user):
    client = signed_in(manager)
    bad = client.post(
        "/policies/rules/",
        {
            "name": "Big",
            "explanation": "x",
            "kind": "integrity",
            "applies_to": ["refund"],
            "condition": "action.amount >",
        },
    )
    assert bad.status_code == 422 and "expected a value, found the end" in bad.content.decode()
    added = client.post(
        "/policies/rules/",
        {
            "name": "Big",
            "explanation": "x",
            "kind": "integrity",
            "applies_to": ["refund"],
            "condition": "action.amount > 500",
        },
    )
    assert added.status_code == 302 and Rule.objects.get().name == "Big"
    # an empty POST (no field at all) is a page that says so, not a server error
    for path, who in (("/policies/rules/", manager), ("/policies/limits/", admin_user)):
        empty = signed_in(who).post(path, {})
        assert empty.status_code == 422 and "arrived empty" in empty.content.decode(), path
    assert signed_in(agent).get("/policies/rules/").status_code == 403
    assert client.get("/policies/review/", {"days": "7"}).status_code == 200
    assert client.post("/policies/limits/", {"action": "credit", "role": "agent", "per_case": "5"}).status_code == 403
    saved = signed_in(admin_user).post("/policies/limits/", {"action": "credit", "role": "agent", "per_case": "25"})
    assert saved.status_code == 302 and AuthorityLimit.objects.get().per_case == 25
    assert "role Agent" in signed_in(agent).get("/policies/limits/").content.decode()


def test_sla_panel_and_compliance_page(agent, manager, admin_user):
    save_policy(actor=admin_user, name="All", first_response_minutes=60)
    with committed(T0):
        case = make_case()
    panel = signed_in(agent).get(f"/sla/cases/{case.pk}/", headers=HTMX).content.decode()
    assert "First response" in panel and "All" in panel
    assert signed_in(manager).get("/sla/").status_code == 200
    assert signed_in(agent).get("/sla/").status_code == 403


def test_the_public_price_page_needs_no_sign_in_and_quotes_use_the_same_price(agent, admin_user):
    item = save_item(actor=admin_user, sku="SPRING-1", name="Spring replacement")
    publish_price(actor=admin_user, item=item, amount=Money.parse("120", "USD"), valid_from=T0)
    hidden = save_item(actor=admin_user, sku="SECRET", name="Internal part", is_public=False)
    publish_price(actor=admin_user, item=hidden, amount=Money.parse("5", "USD"), valid_from=T0)
    page = Client().get("/prices/").content.decode()
    assert "Spring replacement" in page and "120.00" in page and "Internal part" not in page
    api = Client().get("/api/v1/price-book").json()
    assert [(p["sku"], p["amount"]) for p in api] == [("SPRING-1", "120.00")]
    case = make_case()
    quoted = signed_in(agent).post(
        f"/prices/cases/{case.pk}/quotes/", {"sku_0": "SPRING-1", "quantity_0": "2"}, headers=HTMX
    )
    assert quoted.status_code == 200 and "Quote of 240.00 USD issued." in quoted.content.decode()
    assert Quote.objects.get().total == 240


def test_only_administrators_publish_prices_and_others_hear_that_first(customer, agent, admin_user):
    # refused for who they are before anything they sent is read: a bad currency from a customer is a 403, not a
    # lesson in currency codes
    save_item(actor=admin_user, sku="SPRING-1", name="Spring replacement")
    url = "/api/v1/price-book/items/SPRING-1/prices"
    for user in (customer, agent):
        for currency in ("USD", "XX1"):
            answer = signed_in(user).post(url, {"amount": "120", "currency": currency}, content_type="application/json")
            assert answer.status_code == 403, (user, currency, answer.content)
    published = signed_in(admin_user).post(url, {"amount": "120", "currency": "USD"}, content_type="application/json")
    assert published.status_code == 201
    refused = signed_in(admin_user).post(url, {"amount": "120", "currency": "XX1"}, content_type="application/json")
    assert refused.status_code in (400, 422) and refused["Content-Type"] == "application/problem+json"


def test_customers_and_visitors_are_kept_out_of_the_staff_pages(customer, agent):
    case = make_case()
    for url in ("/promises/", "/policies/approvals/", f"/policies/cases/{case.pk}/", "/sla/"):
        assert signed_in(customer).get(url).status_code == 403
        assert Client().get(url).status_code == 302
