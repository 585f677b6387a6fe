"""The panels beside a case in a real browser: a guideline asks for a reason, a credit above the limit asks for
approval, a promise is made, a quote is priced from the book. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from caseloop.core.money import Money
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.policies.actions import create_rule, set_authority_limit
from caseloop.policies.models import ApprovalRequest, Concession, Override
from caseloop.pricing.actions import publish_price, save_item
from caseloop.pricing.models import Quote
from caseloop.promises.models import Promise
from caseloop.testing.factories import make_agent, make_case
from caseloop.web.tests.test_browser import CHROMIUM, browser, page, shot  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

PASSWORD = "correct-horse-battery-1"
REASON = "The customer has waited two weeks for the part."


def sign_in(tab: Any, user: User) -> None:
    tab.goto("/login/")
    tab.get_by_label("Username or email").fill(user.username)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url("**/inbox/")


def test_the_commitments_beside_a_case(page: Any, transactional_db: None) -> None:  # noqa: F811  (a fixture)
    from playwright.sync_api import expect

    admin = make_agent(username="root", role=Role.ADMIN)
    manager = make_agent(username="mia", role=Role.MANAGER, display_name="Mia Manager")
    agent = make_agent(username="ray", display_name="Ray Rep")
    set_authority_limit(actor=admin, action="credit", role=Role.AGENT, per_case="50")
    set_authority_limit(actor=admin, action="credit", role=Role.MANAGER, per_case="500")
    create_rule(
        actor=manager,
        name="Credits over 20",
        kind="guideline",
        applies_to=["credit"],
        condition="action.amount > 20",
        explanation="Say why the credit is more than 20 USD.",
    )
    item = save_item(actor=admin, sku="SPRING-1", name="Spring replacement")
    publish_price(actor=admin, item=item, amount=Money.parse("120", "USD"))
    case = make_case(subject="Garage door spring snapped")

    sign_in(page, agent)
    page.goto(f"/cases/{case.pk}/")
    panel = page.get_by_role("region", name="Credits, refunds and approvals")
    panel.get_by_text("Give a credit, refund, discount…").click()
    panel.get_by_label("Amount (USD), or percent for a discount").fill("30")
    panel.get_by_label("For (as the customer would read it)").fill("Missed visit")
    panel.get_by_role("button", name="Give").click()
    expect(panel.get_by_text("Say why the credit is more than 20 USD.")).to_be_visible()
    panel.get_by_label("Why you bend the guideline (at least a sentence)").fill(REASON)
    panel.get_by_role("button", name="Give").click()
    expect(panel.get_by_text("Credit of 30.00 USD given.")).to_be_visible()
    assert Override.objects.get().reason == REASON

    panel.get_by_text("Give a credit, refund, discount…").click()
    panel.get_by_label("Amount (USD), or percent for a discount").fill("120")
    panel.get_by_label("For (as the customer would read it)").fill("Three missed visits")
    panel.get_by_role("button", name="Give").click()
    expect(panel.get_by_text("Say why the credit is more than 20 USD.")).to_be_visible()
    panel.get_by_label("Why you bend the guideline (at least a sentence)").fill(REASON)
    panel.get_by_role("button", name="Give").click()
    expect(panel.get_by_text(re.compile("beyond your authority"))).to_be_visible()
    expect(panel.get_by_label("Above my limit: ask for approval")).to_be_checked()
    panel.get_by_role("button", name="Give").click()
    expect(panel.get_by_text(re.compile("Asked Mia Manager to approve it"))).to_be_visible()
    approval = ApprovalRequest.objects.get()
    assert approval.approver_id == manager.pk

    promises = page.get_by_role("region", name="Promises")
    expect(promises.get_by_text("an answer on your credit of 120.00 USD")).to_be_visible()
    promises.get_by_text("Make a promise").click()
    promises.get_by_label("What you told the customer").fill("call you back about the spring")
    promises.get_by_label("By (your time, UTC)").fill("2030-01-02T15:00")
    promises.get_by_role("button", name="Promise").click()
    expect(promises.get_by_text("call you back about the spring")).to_be_visible()
    assert Promise.objects.count() == 2
    # a new promise tells the other panels the case changed; they reload (outerHTML) — let that settle
    # before opening the quote form, or the reload closes it under the test
    page.wait_for_load_state("networkidle")

    quotes = page.get_by_role("region", name="Quotes")
    quotes.get_by_text("Quote from the price book").click()
    quotes.get_by_label("Item 1").select_option("SPRING-1")
    quotes.get_by_label("Quantity 1").fill("2")
    quotes.get_by_role("button", name="Quote").click()
    expect(quotes.get_by_text("Quote of 240.00 USD issued.")).to_be_visible()
    assert Quote.objects.get().total == 240
    shot(page, "case-commitments", full_page=True)

    page.context.clear_cookies()
    sign_in(page, manager)
    page.goto("/policies/approvals/")
    page.get_by_label("Reason (the requester and the case timeline see it)").fill("Three visits missed: fair.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(re.compile("approved"))).to_be_visible()
    assert Concession.objects.get(pk=approval.concession_id).state == "granted"
    page.goto("/policies/review/")
    expect(page.get_by_role("heading", name="Credits over 20")).to_be_visible()
    shot(page, "policies-review")
    # the refusals above (a guideline's 422, the authority's 403) are answers the panel shows, not faults
    expected = ("status of 422", "status of 403")
    page.problems[:] = [p for p in page.problems if not any(e in p for e in expected)]
